"""The shop's own rules and machinery: login limits, stock and summary locks, purchase recovery,
idempotency, the event outbox and its worker, operator warnings, backups, upload limits."""

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from django.core.exceptions import ImproperlyConfigured

from .env import BASE_DIR, env_bool, env_float, env_int, env_str

# How the dashboard writes money, counts and dates (JSON and CSV keep plain values): the shop's
# currency (ISO 4217) and locale (a BCP 47 / CLDR name such as en-US, de-DE, fr-CH).
SHOP_CURRENCY = env_str("SHOP_CURRENCY", "EUR").strip().upper()
if SHOP_CURRENCY not in list_currencies():
    raise ImproperlyConfigured(
        f"SHOP_CURRENCY must be an ISO 4217 currency code such as EUR or USD, "
        f"got {env_str('SHOP_CURRENCY', '')!r}"
    )
SHOP_LOCALE = env_str("SHOP_LOCALE", "en-US").strip()
try:
    Locale.parse(SHOP_LOCALE, sep="-" if "-" in SHOP_LOCALE else "_")
except (ValueError, UnknownLocaleError):
    raise ImproperlyConfigured(
        f"SHOP_LOCALE must be a locale name such as en-US or de-DE, got {SHOP_LOCALE!r}"
    )

# The shop's time zone: its days, "today", day charts and CSV day rows (an IANA name).
SHOP_TIME_ZONE = env_str("SHOP_TIME_ZONE", "UTC")
try:
    ZoneInfo(SHOP_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"SHOP_TIME_ZONE must be an IANA time zone name such as Europe/Berlin, got "
        f"{SHOP_TIME_ZONE!r}"
    ) from exc

SESSION_TTL_SECONDS = env_int("SESSION_TTL_SECONDS", 1800)
LOGIN_MAX_FAILURES_PER_USER = env_int("LOGIN_MAX_FAILURES_PER_USER", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
# Only trust X-Forwarded-For when a known proxy sets it.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)
STOCK_LOCK_TIMEOUT_SECONDS = env_float("STOCK_LOCK_TIMEOUT_SECONDS", 5.0)
STOCK_LOCK_WAIT_SECONDS = env_float("STOCK_LOCK_WAIT_SECONDS", 10.0)
# One folding pass of the sales ledger at a time (docs/sales-summaries.md); a pass taking longer
# than this is overtaken and stops writing.
SALES_FOLD_LOCK_SECONDS = env_float("SALES_FOLD_LOCK_SECONDS", 60.0)
LOW_STOCK_THRESHOLD = env_int("LOW_STOCK_THRESHOLD", 5)
# Purchase intents (orders/purchase.py) older than this are finished or undone by the recovery
# the event worker runs; a purchase still running then fails safely (fencing, outcome record).
ORDER_INTENT_RECOVER_AFTER_SECONDS = env_float("ORDER_INTENT_RECOVER_AFTER_SECONDS", 15.0)
ORDER_INTENT_RECOVER_EVERY_SECONDS = env_float("ORDER_INTENT_RECOVER_EVERY_SECONDS", 2.0)
# The worker folds the sales ledger into the summaries this often; until then reads add the
# entries not folded yet (exact; each read pays for them).
SALES_FOLD_EVERY_SECONDS = env_float("SALES_FOLD_EVERY_SECONDS", 1.0)
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
