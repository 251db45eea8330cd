"""The stores: MongoDB (FerretDB locally), Redis (plain or behind Sentinels), Cassandra, and
Django's cache and sessions on Redis."""

from django.core.exceptions import ImproperlyConfigured

from shopsite.redis_client import cache_settings, parse_sentinels

from .env import env_float, env_int, env_list, env_str

# Timeouts are short so an outage becomes a prompt 503, not a hung request.
BACKEND_TIMEOUT_SECONDS = env_float("BACKEND_TIMEOUT_SECONDS", 2.0)

MONGODB_URI = env_str("MONGODB_URI", "mongodb://127.0.0.1:27017/?directConnection=true")
MONGODB_DB = env_str("MONGODB_DB", "shop")
MONGODB_SOCKET_TIMEOUT_SECONDS = env_float("MONGODB_SOCKET_TIMEOUT_SECONDS", 60.0)
# Connections each process (gunicorn worker, event worker) keeps open to each store: opened at
# its start (shopsite/warmup.py) and never more, so a respawned worker holds what the one it
# replaced held. At least the threads that use the store at once (gunicorn --threads, default 4
# here; the event worker uses 3); more threads wait for a free connection.
MONGODB_POOL_SIZE = env_int("MONGODB_POOL_SIZE", 8)
REDIS_POOL_SIZE = env_int("REDIS_POOL_SIZE", 8)
if MONGODB_POOL_SIZE < 1 or REDIS_POOL_SIZE < 1:
    raise ImproperlyConfigured("MONGODB_POOL_SIZE and REDIS_POOL_SIZE must be at least 1")
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
        pool_size=REDIS_POOL_SIZE,
    )


CACHES = {"default": redis_cache(REDIS_URL)}
SESSION_ENGINE = "shopsite.session_store"
