"""Per-product stock locks in Redis: every stock change of a product is serialised.

FerretDB v1.24 executes findAndModify as read-then-replace, so a guarded $inc alone can
oversell there, and any update of a product (even of its name) rewrites the whole document,
stock included. Holding the product's lock around every write makes both correct on FerretDB;
on MongoDB the guarded $inc is atomic anyway and still protects if a lock expires mid-way.

Fencing: a holder that stalls past the lock's TTL (GC pause, swap) must not write after another
holder took the lock. Each acquisition gets a fencing token from Redis (the server's clock in
microseconds, strictly increasing: see FENCE_SCRIPT); every product write filters on
`stock_fence <= token` and sets `stock_fence = token` (catalog/repository.py). A later holder's
write raises the product's fence above the stalled holder's token, so the late write matches
nothing. On MongoDB the filter and the write are one atomic step: the late write is never
applied. On FerretDB v1.24 an update is read-then-replace inside the server, so a late write
can still land only if it is already inside the server's read→replace of that one request
when the new holder writes (the window shrinks from the stall to one request's server time).

All the locks a writer needs and its token come in one round trip (ACQUIRE_SCRIPT: every lock or
none, so no lock order is needed), and go in one (RELEASE_SCRIPT, which a purchase sends with
its other bookkeeping in a redis_client.Batch). A purchase also claims its Idempotency-Key in
the same script (a Claim: set unless held; if held, nothing is locked and ClaimHeld says by
what).
"""

import contextlib
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from redis.exceptions import RedisError

from shopsite.redis_client import Batch, lua_script

from .exceptions import StockLockBusy

logger = logging.getLogger(__name__)

KEY_PREFIX = "stock-lock:"
FENCE_KEY = "stock-fence"
# Strictly increasing tokens that also survive a Redis restart or flush: the server's clock
# in microseconds, or the last token + 1 if the clock has not moved past it.
FENCE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if now <= last then now = last + 1 end
redis.call('SET', KEYS[1], now)
return now
"""
# KEYS: the n locks, the fence key, then the claim's key if ARGV[4] is given.
# ARGV: lock value, lock TTL (ms), n, claim value, claim TTL (s).
# -> {0, held claim's value} | {1, a busy lock (the claim, if any, is now taken)} | {2, token}
ACQUIRE_SCRIPT = """
local n = tonumber(ARGV[3])
local claim = KEYS[n + 2]
if claim then
  local held = redis.call('GET', claim)
  if held then return {0, held} end
  redis.call('SET', claim, ARGV[4], 'EX', ARGV[5])
end
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then return {1, KEYS[i]} end
end
for i = 1, n do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[n + 1]) or '0')
if now <= last then now = last + 1 end
redis.call('SET', KEYS[n + 1], now)
return {2, now}
"""
# Delete the locks still holding this holder's value; returns how many had expired.
RELEASE_SCRIPT = """
local lost = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) else lost = lost + 1 end
end
return lost
"""
# How often a busy lock is tried again; redis-py's default of 0.1 s made contended purchases
# needlessly slow.
POLL_SECONDS = 0.005


def lock_key(product_id) -> str:
    return f"{KEY_PREFIX}{product_id}"


def fence_token(client=None) -> int:
    """A new fencing token, larger than every token handed out before."""
    return int(lua_script(FENCE_SCRIPT, client)(keys=[FENCE_KEY]))


@dataclass(frozen=True)
class Claim:
    """A key to set (with a TTL) in the same step as the locks, unless it is set already."""

    key: str
    value: str
    ttl_seconds: int


class ClaimHeld(Exception):
    """The claim's key was set already: nothing was locked; `value` is what it holds."""

    def __init__(self, value: str):
        super().__init__("claimed already")
        self.value = value


class StockLocks:
    """The stock locks of a set of products, taken together with a fencing token."""

    def __init__(self, product_ids: Iterable):
        self.keys = [lock_key(product_id) for product_id in sorted({str(p) for p in product_ids})]
        self._value = uuid.uuid4().hex
        self.held = False

    def acquire(self, *, claim: Claim | None = None) -> int:
        """Take every lock (waiting up to STOCK_LOCK_WAIT_SECONDS while one is held), return
        the fencing token every write made under them must carry: larger than any earlier
        holder's. ClaimHeld (nothing locked), StockLockBusy after the wait (the claim, if any,
        stays taken), redis ConnectionError when Redis is down."""
        script = lua_script(ACQUIRE_SCRIPT)
        ttl_ms = int(settings.STOCK_LOCK_TIMEOUT_SECONDS * 1000)
        deadline = time.monotonic() + settings.STOCK_LOCK_WAIT_SECONDS
        while True:
            keys = [*self.keys, FENCE_KEY]
            args = [self._value, ttl_ms, len(self.keys)]
            if claim is not None:
                keys.append(claim.key)
                args += [claim.value, claim.ttl_seconds]
            status, value = script(keys=keys, args=args)
            claim = None  # taken (or held by another: raised below)
            if status == 0:
                raise ClaimHeld(value)
            if status == 2:
                self.held = True
                return int(value)
            if time.monotonic() + POLL_SECONDS > deadline:
                raise StockLockBusy(value[len(KEY_PREFIX) :])
            time.sleep(POLL_SECONDS)

    def release(self, batch: Batch | None = None) -> None:
        """Free the locks still held by this holder; in `batch` (sent by the caller), or now."""
        if not self.held:
            return
        self.held = False
        if batch is not None:
            batch.eval(RELEASE_SCRIPT, self.keys, [self._value], self._report)
            return
        try:
            self._report(lua_script(RELEASE_SCRIPT)(keys=self.keys, args=[self._value]))
        except RedisError:
            # Redis went away after the work was done: the locks expire on their own.
            logger.warning("stock locks %s not released: redis unavailable", self.keys)

    def _report(self, lost) -> None:
        if isinstance(lost, Exception):
            logger.warning("stock locks %s not released: %s", self.keys, type(lost).__name__)
        elif lost:
            logger.warning("%d of stock locks %s expired before release", lost, self.keys)


@contextlib.contextmanager
def stock_locks(product_ids: Iterable) -> Iterator[int]:
    """Hold the stock locks of all the products; yields the fencing token every write made
    under them must carry. Raises StockLockBusy after the bounded wait, redis ConnectionError
    when Redis is down (before anything is written)."""
    locks = StockLocks(product_ids)
    token = locks.acquire()
    try:
        yield token
    finally:
        locks.release()
