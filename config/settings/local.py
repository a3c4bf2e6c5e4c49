"""Local run (`make run`): the embedded SQLite database, gunicorn and a task worker on loopback."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool

DEBUG = env_bool("DJANGO_DEBUG", False)
# The local run serves plain HTTP on loopback, so cookies cannot be Secure here.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Without an SMTP server configured, the local run writes each e-mail to a file under var/mail.
if "EMAIL_HOST" not in os.environ:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
