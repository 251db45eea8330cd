"""The process's one Redis client (a connection pool), created lazily and closed at exit.

Two topologies, chosen by settings only:
- one server: REDIS_URL (redis://[:password@]host:port/db);
- a primary with replicas watched by Sentinels: REDIS_SENTINELS (host:port,...) and
  REDIS_SENTINEL_MASTER (the monitored name); REDIS_URL then only gives the db number and the
  password. The pool asks the Sentinels where the primary is on every new connection, so after a
  failover the next command reaches the promoted replica; a command that meets the dead primary
  is retried for up to REDIS_FAILOVER_WAIT_SECONDS, so a failover shorter than that is a delay,
  not an error. Everything (sessions, login limits,
  stock locks, the outbox) uses the primary: replicas lag, and a lock or a session read from one
  could be stale.
Django's cache (and so its sessions) is configured from the same settings by `cache_settings`.
"""

import threading
import time
from urllib.parse import urlsplit, urlunsplit

import redis
from django.conf import settings
from redis.backoff import ConstantBackoff
from redis.commands.core import Script
from redis.connection import parse_url
from redis.retry import Retry
from redis.sentinel import Sentinel

from .lazy import PerProcess


def parse_sentinels(value: str | list[str]) -> list[tuple[str, int]]:
    """ "h1:26379,h2:26379" (or a list of "host:port") as [(host, port), ...]."""
    items = value.split(",") if isinstance(value, str) else value
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"REDIS_SENTINELS entry {item!r} is not host:port")
        out.append((host, int(port)))
    return out


def _connection_kwargs(timeout: float) -> dict:
    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "health_check_interval": 30,
    }


class FailoverRetry(Retry):
    """Retry connection errors and timeouts (the dead primary, READONLY from a demoted one)
    every 0.25 s until `seconds` have passed: Sentinels promote a replica about a second after
    down-after-milliseconds. A time budget, not a count, because redis-py nests a connect retry
    inside each command retry (counts would multiply). The commands retried are idempotent or
    harmless twice: the outbox's XADD is deduplicated by event id downstream."""

    def __init__(self, seconds: float):
        super().__init__(ConstantBackoff(0.25), retries=-1)
        self.seconds = seconds

    def call_with_retry(self, do, fail):
        deadline = time.monotonic() + self.seconds
        while True:
            try:
                return do()
            except self._supported_errors as error:
                fail(error)
                if time.monotonic() + 0.25 > deadline:
                    raise
                time.sleep(0.25)


def _sentinel_client(url: str, sentinels: list[tuple[str, int]], master: str) -> redis.Redis:
    parsed = parse_url(url)
    timeout = settings.BACKEND_TIMEOUT_SECONDS
    sentinel = Sentinel(
        sentinels,
        sentinel_kwargs={
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "password": settings.REDIS_SENTINEL_PASSWORD or None,
        },
    )
    return sentinel.master_for(
        master,
        db=parsed.get("db", 0),
        username=parsed.get("username"),
        password=parsed.get("password"),
        decode_responses=True,
        retry=FailoverRetry(settings.REDIS_FAILOVER_WAIT_SECONDS),
        **_connection_kwargs(timeout),
    )


def _build() -> redis.Redis:
    if settings.REDIS_SENTINELS:
        return _sentinel_client(
            settings.REDIS_URL,
            parse_sentinels(settings.REDIS_SENTINELS),
            settings.REDIS_SENTINEL_MASTER,
        )
    # At most REDIS_POOL_SIZE connections; a thread finding none free waits for one (up to the
    # backend timeout, then a ConnectionError: 503) instead of opening another.
    pool = redis.BlockingConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=settings.REDIS_POOL_SIZE,
        timeout=settings.BACKEND_TIMEOUT_SECONDS,
        decode_responses=True,
        **_connection_kwargs(settings.BACKEND_TIMEOUT_SECONDS),
    )
    return redis.Redis.from_pool(pool)


_client = PerProcess(
    build=_build,
    settings_key=lambda: (
        settings.REDIS_URL,
        tuple(settings.REDIS_SENTINELS),
        settings.REDIS_SENTINEL_MASTER,
    ),
    close=lambda client: client.close(),
)
get_redis = _client.get
close = _client.close


def fill_pool(pool: redis.ConnectionPool, size: int) -> None:
    """Open `size` connections now and leave them idle in the pool (ConnectionError if the
    server is down; the ones opened stay)."""
    held = []
    try:
        for _ in range(size):
            held.append(pool.get_connection())
    finally:
        for connection in held:
            pool.release(connection)


def warm() -> None:
    """Open both Redis pools of the process, ours and Django's cache's (shopsite.warmup)."""
    from django.core.cache import cache

    fill_pool(get_redis().connection_pool, settings.REDIS_POOL_SIZE)
    fill_pool(cache.client.get_client(write=True).connection_pool, settings.REDIS_POOL_SIZE)


# redis-py Script objects per client and script text, made once per process: building one per
# call (hashing the Lua source, another object) was a measurable part of a cheap request.
_scripts_lock = threading.Lock()
_scripts: dict[int, tuple[redis.Redis, dict[str, Script]]] = {}


def lua_script(text: str, client: redis.Redis | None = None) -> Script:
    """The script on the client (default: the process's): calling it runs EVALSHA, and on
    NOSCRIPT (a restarted or flushed server) loads the script and runs it again. Call it with
    client=<a pipeline> to queue it in a pipeline."""
    client = client if client is not None else get_redis()
    found = _scripts.get(id(client))
    if found is not None and found[0] is client:
        script = found[1].get(text)
        if script is not None:
            return script
    with _scripts_lock:
        found = _scripts.get(id(client))
        if found is None or found[0] is not client:
            if len(_scripts) >= 8:  # clients replaced (new URL, tests): forget the old ones
                _scripts.clear()
            found = _scripts[id(client)] = (client, {})  # the client is kept: its id stays unique
        return found[1].setdefault(text, client.register_script(text))


def cache_settings(
    url: str,
    *,
    sentinels: str,
    master: str,
    sentinel_password: str,
    timeout: float,
    failover_wait: float,
    pool_size: int,
) -> dict:
    """Django's CACHES["default"] (django-redis) for the same topology as get_redis(), with a
    pool of at most `pool_size` connections as get_redis()'s (one server only: Sentinel's pool
    cannot wait for a free connection, it would refuse)."""
    options = {
        "SOCKET_CONNECT_TIMEOUT": timeout,
        "SOCKET_TIMEOUT": timeout,
        "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
        "CONNECTION_POOL_KWARGS": {"max_connections": pool_size, "timeout": timeout},
    }
    location = url
    if sentinels:
        # django-redis's Sentinel factory reads the monitored name from the URL's host part;
        # one URL (not a primary + replica pair) keeps every read on the primary.
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        location = urlunsplit(
            (parts.scheme, f"{auth}@{master}" if auth else master, parts.path, "", "")
        )
        del options["CONNECTION_POOL_CLASS"]
        options["CONNECTION_FACTORY"] = "django_redis.pool.SentinelConnectionFactory"
        options["SENTINELS"] = parse_sentinels(sentinels)
        options["SENTINEL_KWARGS"] = {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "password": sentinel_password or None,
        }
        options["CONNECTION_POOL_KWARGS"] = {"retry": FailoverRetry(failover_wait)}
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": options,
        "KEY_PREFIX": "django",
    }


class Batch:
    """Redis commands of several modules sent in one round trip, as MULTI/EXEC (applied all
    together or not at all), each with an optional function that gets its reply (a Redis error
    as an exception instance). Scripts go as EVAL with their body: a pipeline's EVALSHA makes
    redis-py ask SCRIPT EXISTS first, another round trip."""

    def __init__(self, client: redis.Redis | None = None):
        self._pipe = (client if client is not None else get_redis()).pipeline(transaction=True)
        self._on_reply: list = []

    def add(self, queue, on_reply=None) -> None:
        """queue(pipeline) queues exactly one command."""
        queue(self._pipe)
        self._on_reply.append(on_reply)

    def eval(self, script: str, keys: list, args: list, on_reply=None) -> None:
        self.add(lambda pipe: pipe.eval(script, len(keys), *keys, *args), on_reply)

    def __len__(self) -> int:
        return len(self._on_reply)

    def send(self) -> list:
        """Send what was queued (nothing: no round trip); every handler gets its reply, or the
        error that kept the batch from being applied, which is then raised."""
        if not self._on_reply:
            return []
        try:
            replies = self._pipe.execute(raise_on_error=False)
        except Exception as exc:
            for on_reply in self._on_reply:
                if on_reply is not None:
                    on_reply(exc)
            raise
        finally:
            self._pipe.reset()
        for on_reply, reply in zip(self._on_reply, replies, strict=True):
            if on_reply is not None:
                on_reply(reply)
        return replies
