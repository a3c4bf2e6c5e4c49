# The two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# The pytest suite runs on the embedded SQLite database first; then, when DATABASE_URL points at
# PostgreSQL, once more there.
PYTEST_ARGS ?= -n 2

.PHONY: help run test lint typecheck check-migrations pytest pytest-sqlite pytest-postgres bootstrap static \
        migrate demo-data clean lock browser screenshots bench-data bench

help:
	@echo "make run    install everything, migrate, load demo data and serve the portal on http://127.0.0.1:8000"
	@echo "make test   lint, type checks, migration check and the test suite (SQLite, then PostgreSQL if DATABASE_URL is set)"
	@echo "make lint   ruff and import-linter only"
	@echo "make browser  install Debian's chromium for the browser journeys (make test does it)"
	@echo "make bench  generate the benchmark data (PostgreSQL, 1x and 10x national scale) and measure (docs/performance.md)"

$(VENV)/.installed: requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/lock.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

portal/static/vendor/.built: node_modules/.installed $(wildcard portal/static_src/*)
	npm run --silent build
	touch $@

bootstrap: $(VENV)/.installed

# The browser journeys drive Debian's Chromium (Playwright's own browser download does not work here).
# HarfBuzz's subsetter lets WeasyPrint embed font subsets without falling back to fontTools, several
# times faster for every PDF (Chromium depends on it too).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [[ $$(id -u) -eq 0 ]]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium libharfbuzz-subset0 >/dev/null
browser: $(CHROMIUM)

# The screenshots of the user guide (docs/user-guide/screenshots/), taken afresh from the demo data.
screenshots: static browser
	$(PY) -m portal.tests.browser.screenshots

static: bootstrap portal/static/vendor/.built
	$(PY) manage.py collectstatic --noinput --verbosity 0

migrate: bootstrap
	$(PY) manage.py migrate --noinput

demo-data: migrate
	$(PY) manage.py load_demo_data

run: static demo-data
	@bash scripts/run.sh

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: bootstrap
	$(BIN)/mypy .

check-migrations: bootstrap
	env -u DATABASE_URL $(PY) manage.py makemigrations --check --dry-run

# The browser journeys (marker `browser`, portal/tests/browser) run once, in the SQLite pass, and fail
# rather than skip if Chromium or axe-core is missing.
pytest-sqlite: bootstrap portal/static/vendor/.built browser
	env -u DATABASE_URL PORTAL_REQUIRE_BROWSER=1 $(BIN)/pytest $(PYTEST_ARGS)

pytest-postgres: bootstrap portal/static/vendor/.built
	@if [[ "$$DATABASE_URL" == postgres* ]]; then \
		echo "Running the suite again on PostgreSQL ($${DATABASE_URL%%@*}@…), without the browser journeys and the API fuzzing"; \
		$(BIN)/pytest $(PYTEST_ARGS) -m "not browser and not fuzz"; \
	else \
		echo "DATABASE_URL does not point at PostgreSQL: the PostgreSQL run is skipped."; \
	fi

test: lint typecheck check-migrations pytest-sqlite pytest-postgres

# Performance (docs/performance.md). The benchmark data sets live in their own PostgreSQL databases on
# 127.0.0.1:5432 (user postgres): portal_bench at ten times national scale, portal_bench_1x at national
# scale. bench-data makes whichever is missing or incomplete (same seed, same rows); bench runs every
# measurement and writes bench/results/. WeasyPrint subsets fonts with HarfBuzz's subsetter
# (libharfbuzz-subset0): installed here when missing, as the browser target installs chromium.
BENCH_SEED ?= 20260101
bench-data: bootstrap
	$(PY) -m bench.generate --scale 10 --database portal_bench --seed $(BENCH_SEED)
	$(PY) -m bench.generate --scale 1 --database portal_bench_1x --seed $(BENCH_SEED)

bench: bench-data
	@if ! ldconfig -p | grep -q harfbuzz-subset; then \
		if [[ $$(id -u) -eq 0 ]]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends libharfbuzz-subset0 >/dev/null; \
	fi
	$(PY) -m bench.run

# Re-pin every Python dependency after a change to pyproject.toml.
lock: bootstrap
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements/lock.txt

clean:
	rm -rf $(VENV) node_modules portal/static/vendor staticfiles
