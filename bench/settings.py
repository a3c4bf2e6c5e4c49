"""Settings for the benchmark: the ordinary settings with DEBUG off, pointed at a bench database, plus one
bench-only middleware that reports how many SQL queries each request made.

`BENCH_DATABASE` names the database on `BENCH_PG` (default postgres@127.0.0.1:5432): `portal_bench` holds
the data set at ten times national scale, `portal_bench_1x` at national scale.
"""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import MIDDLEWARE, POSTGRES_SESSION_OPTIONS

DEBUG = False
BENCH_PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "portal_bench")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": BENCH_DATABASE,
        "USER": os.environ.get("BENCH_PG_USER", "postgres"),
        "HOST": os.environ.get("BENCH_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("BENCH_PG_PORT", "5432"),
        # Persistent connections, as a production deployment would keep them.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"options": POSTGRES_SESSION_OPTIONS} if POSTGRES_SESSION_OPTIONS else {},
    }
}
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The bench never sends mail; the outbox rows are written as in production.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = os.environ.get("BENCH_MEDIA_ROOT", str(VAR_DIR / "bench" / "media"))  # noqa: F405
# Outermost, so that every query the request makes (sessions, auth, the view) is counted.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
