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
"""

import contextlib
import logging
from collections.abc import Iterable, Iterator

from django.conf import settings
from redis.exceptions import LockError, RedisError

from shopsite.redis_client import get_redis, lua_script

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
# redis-py polls a held lock; its default of 0.1 s makes contended purchases needlessly slow.
POLL_SECONDS = 0.005


def lock_key(product_id) -> str:
    return f"{KEY_PREFIX}{product_id}"


def fence_token(client=None) -> int:
    """A new fencing token, larger than every token handed out before."""
    return int(lua_script(FENCE_SCRIPT, client)(keys=[FENCE_KEY]))


@contextlib.contextmanager
def stock_locks(product_ids: Iterable) -> Iterator[int]:
    """Hold the stock locks of all the products; yields the fencing token every write made
    under them must carry. Taken in sorted id order so two requests wanting overlapping
    products cannot deadlock. Raises StockLockBusy after the bounded wait, redis
    ConnectionError when Redis is down (before anything is written)."""
    ids = sorted({str(product_id) for product_id in product_ids})
    client = get_redis()
    held = []
    try:
        for product_id in ids:
            lock = client.lock(
                lock_key(product_id),
                timeout=settings.STOCK_LOCK_TIMEOUT_SECONDS,
                blocking_timeout=settings.STOCK_LOCK_WAIT_SECONDS,
                sleep=POLL_SECONDS,
            )
            if not lock.acquire():
                raise StockLockBusy(product_id)
            held.append(lock)
        if len(held) > 1:
            # Waiting for the later locks used up the first ones' time: give all a full timeout.
            for lock in held:
                try:
                    lock.reacquire()
                except LockError:
                    raise StockLockBusy(lock.name[len(KEY_PREFIX) :])
        # Taken after every lock is held: larger than the token of any earlier holder.
        yield fence_token(client)
    finally:
        for lock in reversed(held):
            try:
                lock.release()
            except LockError:
                logger.warning("stock lock %s expired before it was released", lock.name)
            except RedisError:
                # Redis went away after the work was done: the lock expires on its own.
                logger.warning("stock lock %s not released: redis unavailable", lock.name)
