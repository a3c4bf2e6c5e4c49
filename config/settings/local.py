"""Local run (`make run`): the embedded SQLite database, gunicorn and a task worker on loopback."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", False)
# The local run serves plain HTTP on loopback, so cookies cannot be Secure here.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
