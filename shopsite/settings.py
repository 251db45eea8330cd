"""Settings for shopsite: everything comes from environment variables with safe local defaults.

Local values (the SECRET_KEY `make run` generates, ...) live in a git-ignored `.env` at the repo
root, read here with django-environ; a variable set in the environment wins over the file.
"""

import os
from pathlib import Path

import dj_database_url
import environ
from django.core.exceptions import ImproperlyConfigured

from shopsite.redis_client import cache_settings, parse_sentinels

BASE_DIR = Path(__file__).resolve().parent.parent

# SHOPSITE_ENV_FILE names another file; empty reads none (the test settings do that).
ENV_FILE = os.environ.get("SHOPSITE_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    # overwrite=False: only names the environment does not already have are taken from the file.
    environ.Env.read_env(ENV_FILE, overwrite=False)


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}")


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not env_bool("SHOPSITE_ALLOW_INSECURE_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_crontab",
    "shopsite",
    "dashboard",
    "catalog",
    "orders",
    "sessions_app",
    "eventlog",
    "backups",
]

MIDDLEWARE = [
    "shopsite.middleware.BackendUnavailableMiddleware",
    "shopsite.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Runs BROWSER_MIDDLEWARE, except for bearer-token API calls (they need none of it).
    "shopsite.middleware.BrowserMiddleware",
]
BROWSER_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sessions_app.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# Django's checks look for the cookie middleware in MIDDLEWARE only; shopsite's own check
# (shopsite/apps.py) makes sure BROWSER_MIDDLEWARE has it.
SILENCED_SYSTEM_CHECKS = [
    *("admin.E408", "admin.E409", "admin.E410"),
    *("security.W003", "security.W010", "security.W013"),
]

# Paths answer with and without the trailing slash (see shopsite/routing.py), so never redirect.
APPEND_SLASH = False

ROOT_URLCONF = "shopsite.urls"
WSGI_APPLICATION = "shopsite.wsgi.application"
ASGI_APPLICATION = "shopsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.roles",
            ],
        },
    },
]

# Django's own tables only (users, groups, permissions); shop data lives in MongoDB.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The hashed-name manifest needs collectstatic; without it (DEBUG, tests) serve from the finders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
# The one login-limit policy: every password check (API, dashboard, /admin/) passes through it.
AUTHENTICATION_BACKENDS = ["sessions_app.backends.LoginLimitBackend"]
LOGIN_REDIRECT_URL = "dashboard-home"
LOGOUT_REDIRECT_URL = "login"

# --- Backends -------------------------------------------------------------------------------------
# Timeouts are short so an outage becomes a prompt 503, not a hung request.
BACKEND_TIMEOUT_SECONDS = env_float("BACKEND_TIMEOUT_SECONDS", 2.0)

MONGODB_URI = env_str("MONGODB_URI", "mongodb://127.0.0.1:27017/?directConnection=true")
MONGODB_DB = env_str("MONGODB_DB", "shop")
MONGODB_SOCKET_TIMEOUT_SECONDS = env_float("MONGODB_SOCKET_TIMEOUT_SECONDS", 60.0)
# Stats (aggregations over orders and summaries) may read from secondaries of a replica set.
MONGODB_STATS_READ_PREFERENCE = env_str("MONGODB_STATS_READ_PREFERENCE", "primary")
if MONGODB_STATS_READ_PREFERENCE not in {
    "primary",
    "primaryPreferred",
    "secondary",
    "secondaryPreferred",
    "nearest",
}:
    raise ImproperlyConfigured(
        "MONGODB_STATS_READ_PREFERENCE must be primary, primaryPreferred, secondary, "
        f"secondaryPreferred or nearest, got {MONGODB_STATS_READ_PREFERENCE!r}"
    )
# FerretDB's own PostgreSQL (scripts/services.sh), where init_mongo adds GIN indexes for equality
# reads (shopsite/ferretdb_pg.py). Unused on real MongoDB and FerretDB/SQLite; empty: never used.
FERRETDB_POSTGRESQL_URL = env_str(
    "FERRETDB_POSTGRESQL_URL",
    f"postgresql://postgres@127.0.0.1:{env_int('POSTGRES_PORT', 5433)}/ferretdb",
)

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Sentinel mode when set: "host:port,host:port,..." of the Sentinels and the name they monitor;
# REDIS_URL then gives only the db number and the password (see shopsite/redis_client.py).
REDIS_SENTINELS = env_str("REDIS_SENTINELS", "")
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER", "shopsite")
REDIS_SENTINEL_PASSWORD = env_str("REDIS_SENTINEL_PASSWORD", "")
# With Sentinels: how long a command keeps retrying while a replica is being promoted.
REDIS_FAILOVER_WAIT_SECONDS = env_float("REDIS_FAILOVER_WAIT_SECONDS", 3.0)
try:
    parse_sentinels(REDIS_SENTINELS)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc))

CASSANDRA_HOSTS = env_list("CASSANDRA_HOSTS", "127.0.0.1")
CASSANDRA_PORT = env_int("CASSANDRA_PORT", 9042)
CASSANDRA_KEYSPACE = env_str("CASSANDRA_KEYSPACE", "shopsite")
CASSANDRA_REPLICATION = env_str(
    "CASSANDRA_REPLICATION", "{'class': 'SimpleStrategy', 'replication_factor': 1}"
)
CASSANDRA_CONSISTENCY = env_str("CASSANDRA_CONSISTENCY", "LOCAL_QUORUM")
# The driver sends requests to this datacenter's nodes only (others are for failover); empty:
# the datacenter of the first contact point that answers.
CASSANDRA_LOCAL_DC = env_str("CASSANDRA_LOCAL_DC", "")


def redis_cache(redis_url: str) -> dict:
    """django-redis on the same server or Sentinel-watched primary as shopsite.redis_client."""
    return cache_settings(
        redis_url,
        sentinels=REDIS_SENTINELS,
        master=REDIS_SENTINEL_MASTER,
        sentinel_password=REDIS_SENTINEL_PASSWORD,
        timeout=BACKEND_TIMEOUT_SECONDS,
        failover_wait=REDIS_FAILOVER_WAIT_SECONDS,
    )


CACHES = {"default": redis_cache(REDIS_URL)}
SESSION_ENGINE = "shopsite.session_store"

# --- Shop rules -----------------------------------------------------------------------------------
SESSION_TTL_SECONDS = env_int("SESSION_TTL_SECONDS", 1800)
LOGIN_MAX_FAILURES_PER_USER = env_int("LOGIN_MAX_FAILURES_PER_USER", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
# Only trust X-Forwarded-For when a known proxy sets it.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)
STOCK_LOCK_TIMEOUT_SECONDS = env_float("STOCK_LOCK_TIMEOUT_SECONDS", 5.0)
STOCK_LOCK_WAIT_SECONDS = env_float("STOCK_LOCK_WAIT_SECONDS", 10.0)
# One recompute of a sales summary (one day's or one customer's orders) at a time.
SUMMARY_LOCK_TIMEOUT_SECONDS = env_float("SUMMARY_LOCK_TIMEOUT_SECONDS", 120.0)
SUMMARY_LOCK_WAIT_SECONDS = env_float("SUMMARY_LOCK_WAIT_SECONDS", 60.0)
LOW_STOCK_THRESHOLD = env_int("LOW_STOCK_THRESHOLD", 5)
# Purchase intents (orders/purchase.py) older than this are finished or undone by the recovery
# the event worker runs; a purchase still running then fails safely (fencing, outcome record).
ORDER_INTENT_RECOVER_AFTER_SECONDS = env_float("ORDER_INTENT_RECOVER_AFTER_SECONDS", 15.0)
ORDER_INTENT_RECOVER_EVERY_SECONDS = env_float("ORDER_INTENT_RECOVER_EVERY_SECONDS", 2.0)
# Customers nobody looks up keep their dirty markers until a refresh: the worker runs one.
SALES_SUMMARY_REFRESH_EVERY_SECONDS = env_float("SALES_SUMMARY_REFRESH_EVERY_SECONDS", 60.0)
# Idempotency-Key of POST /orders/: how long a successful response is replayed, and how long a
# claim may stay "in progress" (a request cannot run longer: gunicorn's timeout is 30 s).
IDEMPOTENCY_TTL_SECONDS = env_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600)
IDEMPOTENCY_PENDING_SECONDS = env_int("IDEMPOTENCY_PENDING_SECONDS", 120)
# Test-only: shopsite/faults.py (crash tests). Empty in production.
FAULT_INJECTION_FILE = env_str("FAULT_INJECTION_FILE", "")

EVENT_OUTBOX_STREAM = env_str("EVENT_OUTBOX_STREAM", "eventlog:outbox")
EVENT_SPOOL_DIR = Path(env_str("EVENT_SPOOL_DIR", str(BASE_DIR / ".services" / "event-spool")))
# Pending events in the Redis outbox beyond which new events go to the disk spool instead (the
# worker is down or behind: Redis memory stays bounded) and /healthz reports degraded.
EVENT_OUTBOX_MAX_PENDING = env_int("EVENT_OUTBOX_MAX_PENDING", 1_000_000)
# Outbox worker: events per Cassandra batch; a crashed worker's entries are reclaimed
# after they idle this long.
EVENT_WORKER_BATCH_SIZE = env_int("EVENT_WORKER_BATCH_SIZE", 500)
EVENT_WORKER_CLAIM_IDLE_SECONDS = env_float("EVENT_WORKER_CLAIM_IDLE_SECONDS", 60.0)
# How long a partial batch waits for more events (a trickle is written in fewer, larger rounds).
EVENT_WORKER_LINGER_MS = env_int("EVENT_WORKER_LINGER_MS", 50)
# Run by the worker process beside the outbox loop (eventlog/periodic.py): (function, every s).
WORKER_PERIODIC_TASKS = [
    ("orders.services.order_intents_recover", ORDER_INTENT_RECOVER_EVERY_SECONDS),
    ("orders.summaries.refresh_all", SALES_SUMMARY_REFRESH_EVERY_SECONDS),
]

# Operator's view (home page, /healthz "warnings"): warn past these ages.
OPS_OUTBOX_MAX_AGE_SECONDS = env_int("OPS_OUTBOX_MAX_AGE_SECONDS", 300)
OPS_WORKER_SILENT_SECONDS = env_int("OPS_WORKER_SILENT_SECONDS", 120)
OPS_BACKUP_MAX_AGE_SECONDS = env_int("OPS_BACKUP_MAX_AGE_SECONDS", 7200)
# The apps' selectors the health report reads, by dotted path (the base imports no app).
HEALTH_OUTBOX_STATUS = "eventlog.selectors.outbox_status"
HEALTH_NEWEST_BACKUP = "backups.selectors.backup_newest_good"

BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "mongo_backup")))
BACKUP_RETENTION = env_int("BACKUP_RETENTION", 24)
BACKUP_SCHEDULE = env_str("BACKUP_SCHEDULE", "0 * * * *")
MONGODUMP_BIN = env_str("MONGODUMP_BIN", "mongodump")
MONGORESTORE_BIN = env_str("MONGORESTORE_BIN", "mongorestore")
# A backup or restore waits this long for one already running (they share a lock), then fails.
BACKUP_LOCK_WAIT_SECONDS = env_float("BACKUP_LOCK_WAIT_SECONDS", 1800.0)
# mongodump/mongorestore are killed after this long; server selection gives up after the other.
BACKUP_TIMEOUT_SECONDS = env_float("BACKUP_TIMEOUT_SECONDS", 3600.0)
BACKUP_SERVER_SELECTION_TIMEOUT_SECONDS = env_int("BACKUP_SERVER_SELECTION_TIMEOUT_SECONDS", 30)
# backup_job runs backup_mongo and exits non-zero when it fails (django-crontab alone exits 0).
CRONJOBS = [(BACKUP_SCHEDULE, "backups.cron.backup_job")]
CRONTAB_COMMAND_PREFIX = env_str("CRONTAB_COMMAND_PREFIX", "")
CRONTAB_COMMAND_SUFFIX = env_str("CRONTAB_COMMAND_SUFFIX", "")
# Tags this checkout's crontab lines: django-crontab's add/show/remove fail on a line with its
# comment but a job it does not know (another checkout or deployment of shopsite, same user).
CRONTAB_COMMENT = f"django-cronjobs for shopsite in {BASE_DIR}"

# Request bodies above this size get 413 (bulk creates of a few thousand items fit).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
# Products CSV import (dashboard): largest file accepted; it must stay below the body limit.
PRODUCT_IMPORT_MAX_BYTES = env_int("PRODUCT_IMPORT_MAX_BYTES", 4 * 1024 * 1024)

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.authentication.BearerTokenAuthentication",
        "sessions_app.authentication.DashboardSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sessions_app.permissions.IsStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "shopsite.negotiation.JSONFirstContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["shopsite.parsers.ShopJSONParser"],
    "EXCEPTION_HANDLER": "shopsite.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "shopsite.openapi.ShopAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "shopsite API",
    "DESCRIPTION": (
        "JSON API of the shop: products, orders, stats, sessions, event log, backups.\n\n"
        "Query parameters are strict: leave one out for its default; an empty value "
        "(`?days=`), a repeated one or an integer not written in digits is a 400 naming it."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "APPEND_COMPONENTS": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    "SECURITY": [{"bearerAuth": []}],
    # No online validator badge (an outside request); keep the token across reloads of /docs.
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "validatorUrl": None,
        "persistAuthorization": True,
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shopsite.openapi.add_common_responses",
    ],
}

# --- Security -------------------------------------------------------------------------------------
# Secure cookies need HTTPS; SECURE_COOKIES=false only for plain-http local runs.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Health probes of the orchestrator come over plain http inside its network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "cassandra": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}
