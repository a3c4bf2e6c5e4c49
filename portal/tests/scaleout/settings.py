"""The production settings, as the scale-out test runs them on loopback.

Everything comes from `config.settings.production` and the environment the test sets (PostgreSQL,
Redis, the S3 endpoint). The one change: static files are served from the finders instead of a
`collectstatic` manifest, which the test does not build. The test sends `X-Forwarded-Proto: https`
as the TLS-terminating proxy would, so HTTPS redirects, Secure cookies and CSRF work as in production.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
