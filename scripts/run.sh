#!/usr/bin/env bash
# Serve the portal with gunicorn and run the task worker beside it; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST="${PORTAL_HOST:-127.0.0.1}"
PORT="${PORTAL_PORT:-8000}"

$BIN/python manage.py demo_logins --url "http://$HOST:$PORT"

# The task worker of the configured backend: the database (default) or RQ on Redis (docs/deployment.md).
backend="${PORTAL_TASK_BACKEND:-$([[ -n "${REDIS_URL:-}" ]] && echo rq || echo database)}"
if [[ "$backend" == rq ]]; then
  $BIN/python manage.py rqworker default --job-class django_tasks_rq.Job &
else
  $BIN/python manage.py db_worker --queue-name '*' --interval 1 --no-reload &
fi
worker=$!
$BIN/gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers 2 --threads 4 \
  --access-logfile - --error-logfile - --log-level warning &
server=$!

stop() {
  kill "$server" "$worker" 2>/dev/null || true
  wait "$server" "$worker" 2>/dev/null || true
}
trap stop INT TERM EXIT
wait -n "$server" "$worker"
