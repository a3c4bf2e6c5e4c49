"""Settings shared by every environment.

Production differs from local runs only through environment variables (see docs/deployment.md);
nothing here is switched on by the name of the environment.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-development-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "portal.core",
    "portal.accounts",
    "portal.participants",
    "portal.audit",
    "portal.notifications",
    "portal.qualification",
    "portal.documents",
    "portal.prequalification",
    "portal.testing",
    "portal.dip",
    "portal.workoff",
    "portal.approvals",
    "portal.registry",
    "portal.activation",
    "portal.reports",
    "portal.backup",
    "portal.demo",
    "portal.web",
    "portal.api",
]

MIDDLEWARE = [
    # First: every answer carries X-Request-ID, and everything after it (audit events, log lines) knows
    # the request id and the client address (portal/core/request_context.py).
    "portal.core.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every refused request (403, or 404 for another organisation's application) writes one audit event.
    "portal.core.authz_audit.AuthorizationFailureAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.accounts.middleware.SessionLifetimeMiddleware",
    "portal.accounts.middleware.MfaRequiredMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.core.middleware.NoStoreForAuthenticatedMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.web.context_processors.portal",
                "csp.context_processors.nonce",
            ],
        },
    }
]

# The embedded default is SQLite, tuned so that the web server and the task worker can write at once:
# WAL lets readers continue during a write, IMMEDIATE takes the write lock at BEGIN (no deadlocking
# upgrade from a read lock), and the busy timeout makes a second writer wait instead of failing.
SQLITE_PATH = VAR_DIR / "portal.sqlite3"
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# PostgreSQL connection pooling (psycopg 3's pool, one per process), when PORTAL_DB_POOL_MAX is set:
# each process keeps between PORTAL_DB_POOL_MIN and PORTAL_DB_POOL_MAX connections, and a request that
# finds none free waits PORTAL_DB_POOL_TIMEOUT seconds, then gets a 503 (portal.core.unavailable).
# Size it so that instances × processes × PORTAL_DB_POOL_MAX stays under 80 % of max_connections
# (docs/deployment.md). Pooling needs persistent connections off (CONN_MAX_AGE 0) and the psycopg-pool
# package (`psycopg[pool]`). Without a pool, each thread keeps its own connection for 60 s.
PORTAL_DB_POOL_MIN = int(os.environ.get("PORTAL_DB_POOL_MIN", "0") or 0)
PORTAL_DB_POOL_MAX = int(os.environ.get("PORTAL_DB_POOL_MAX", "0") or 0)
PORTAL_DB_POOL_TIMEOUT = float(os.environ.get("PORTAL_DB_POOL_TIMEOUT", "10") or 10)
# PostgreSQL plans every query afresh (parameters are bound client-side, so nothing is prepared). With
# its default join_collapse_limit of 8, planning the portal's lists (a table and up to seven tables
# joined to it by foreign key) took 4-5 ms, against 0.2-0.7 ms to run them; at 4 the planner keeps the
# written join order beyond groups of four, plans them in about 1 ms and chose the same plans
# (docs/performance.md). The limit is sent as the `options` startup parameter; 0 sends nothing (for a
# connection pooler that refuses it: set the limits on the database role instead).
PORTAL_PG_JOIN_COLLAPSE_LIMIT = int(os.environ.get("PORTAL_PG_JOIN_COLLAPSE_LIMIT", "4") or 0)
POSTGRES_SESSION_OPTIONS = (
    f"-c join_collapse_limit={PORTAL_PG_JOIN_COLLAPSE_LIMIT} -c from_collapse_limit={PORTAL_PG_JOIN_COLLAPSE_LIMIT}"
    if PORTAL_PG_JOIN_COLLAPSE_LIMIT
    else ""
)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and POSTGRES_SESSION_OPTIONS:
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", POSTGRES_SESSION_OPTIONS)
    if PORTAL_DB_POOL_MAX and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        try:
            import psycopg_pool  # noqa: F401
        except ImportError as exc:
            raise ImproperlyConfigured(
                "PORTAL_DB_POOL_MAX is set but psycopg_pool is not installed: install psycopg[pool]."
            ) from exc
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(PORTAL_DB_POOL_MIN, PORTAL_DB_POOL_MAX),
            "max_size": PORTAL_DB_POOL_MAX,
            "timeout": PORTAL_DB_POOL_TIMEOUT,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "account_login"

# Accounts are created by administrators for known people: there is no public sign-up.
ACCOUNT_ADAPTER = "portal.accounts.adapters.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True

# Sign-in throttling (docs/security.md): allauth counts failed sign-ins in the Django cache, which
# production shares between app instances. Five failures for one e-mail address within 15 minutes, or
# twenty from one client address, and the form refuses further attempts with the same message whether
# or not the account exists; each failure expires 15 minutes after it was made, so the cool-off ends
# by itself and nobody can lock an account for good. A successful sign-in does not reset the count.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "20/15m/ip,5/15m/key",
    "reauthenticate": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
}
# Behind a reverse proxy, the client address is the last-but-N entry of X-Forwarded-For.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("PORTAL_TRUSTED_PROXY_COUNT", "0"))

# Two-factor authentication (portal/accounts/mfa.py): an authenticator app (TOTP, 6 digits, 30 s, no
# tolerance either side, each code accepted once) with single-use recovery codes. Every staff role and
# every Company Director must set one up before using the portal.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "portal.accounts.adapters.PortalMFAAdapter"
MFA_TOTP_ISSUER = "MHHS Qualification Portal"
MFA_TOTP_PERIOD = 30
MFA_TOTP_TOLERANCE = 0
MFA_RECOVERY_CODE_COUNT = 10
# Step-up: recording an approval decision needs an authenticator code entered within this many
# seconds (at sign-in or on the re-authentication page); changing one's authenticator needs a
# re-authentication within the same time.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 10 * 60

# Sessions (portal/accounts/middleware.py). A session ends 12 hours after sign-in whatever happens, and
# after 30 minutes without a request for staff and directors (the NIST SP 800-63B AAL2 figures), or
# 2 hours for other participant users, who write long QAD answers and hold no approval power.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60
CSRF_COOKIE_HTTPONLY = True
PORTAL_SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
PORTAL_SESSION_IDLE_SECONDS_MFA_ROLES = 30 * 60
PORTAL_SESSION_IDLE_SECONDS_PARTICIPANTS = 2 * 60 * 60

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
MEDIA_ROOT = os.environ.get("PORTAL_MEDIA_ROOT", str(VAR_DIR / "media"))
# Evidence files and generated PDFs: on the local filesystem (MEDIA_ROOT) by default; in an S3 bucket
# when PORTAL_S3_BUCKET is set, so that every instance and worker sees the same files. Objects are
# private (no ACL: the bucket's policy decides, and it should block public access), never overwritten
# (a second file of the same name gets a new name), and downloads stream through the portal's own
# views, which check who may see them; a URL from the storage would be signed and last 5 minutes.
# Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else boto3's usual chain (instance role).
PORTAL_S3_BUCKET = os.environ.get("PORTAL_S3_BUCKET", "")
if PORTAL_S3_BUCKET:
    _default_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PORTAL_S3_BUCKET,
            "location": os.environ.get("PORTAL_S3_PREFIX", ""),
            "endpoint_url": os.environ.get("PORTAL_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("PORTAL_S3_REGION") or None,
            "addressing_style": os.environ.get("PORTAL_S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 300,
            # A download larger than this is spooled to a temporary file (under /tmp) instead of memory.
            "max_memory_size": 5 * 1024 * 1024,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Redis, when REDIS_URL is set (e.g. redis://redis-host:6379/0): the shared cache and the task queue.
REDIS_URL = os.environ.get("REDIS_URL", "")

# The cache holds what instances must agree on (sign-in throttling counts, among others), so with more
# than one instance it must be shared: Redis when REDIS_URL is set; otherwise each process's memory,
# which is right only for a single process. Sessions are in the database either way.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work. With the database backend (the default; workers run `manage.py db_worker`),
# enqueueing inside a transaction writes the job row in that transaction: a rolled-back transition
# leaves no e-mail behind (a transactional outbox, ADR 0003). With PORTAL_TASK_BACKEND=rq (the default
# when REDIS_URL is set) jobs go to an RQ queue on Redis, published when the transaction commits, and
# workers run `manage.py rqworker`; what that changes is in ADR 0011.
PORTAL_TASK_BACKEND = os.environ.get("PORTAL_TASK_BACKEND", "rq" if REDIS_URL else "database").strip().lower()
if PORTAL_TASK_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("PORTAL_TASK_BACKEND=rq needs REDIS_URL.")
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "portal.core.tasks.OnCommitRQBackend", "QUEUES": ["default"]}}
    # A job running longer than this is stopped and counted failed (the longest are PDF packs).
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": int(os.environ.get("PORTAL_RQ_JOB_TIMEOUT", "900"))}}
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
elif PORTAL_TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ImproperlyConfigured(f"PORTAL_TASK_BACKEND must be 'database' or 'rq', not {PORTAL_TASK_BACKEND!r}.")

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MHHS Qualification Portal <no-reply@qualification.example>")
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Evidence files (portal/documents/evidence.py): size limit, and the limits an archive must stay within.
PORTAL_MAX_UPLOAD_BYTES = int(os.environ.get("PORTAL_MAX_UPLOAD_BYTES", str(25 * 1024 * 1024)))
PORTAL_ARCHIVE_MAX_ENTRIES = int(os.environ.get("PORTAL_ARCHIVE_MAX_ENTRIES", "1000"))
PORTAL_ARCHIVE_MAX_UNPACKED_BYTES = int(os.environ.get("PORTAL_ARCHIVE_MAX_UNPACKED_BYTES", str(200 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line names the request it was written for (its X-Request-ID; "-" outside a request), to
    # match it with the audit events of that request and with what the user or the proxy saw.
    "filters": {"request_id": {"()": "portal.core.request_context.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
