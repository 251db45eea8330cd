"""Per-product stock locks in Redis: every stock change of a product is serialised.

FerretDB v1.24 executes findAndModify as read-then-replace, so a guarded $inc alone can
oversell there, and any update of a product (even of its name) rewrites the whole document,
stock included. Holding the product's lock around every write makes both correct on FerretDB;
on MongoDB the guarded $inc is atomic anyway and still protects if a lock expires mid-way.
"""

import contextlib
import logging
from collections.abc import Iterable, Iterator

from django.conf import settings
from redis.exceptions import LockError, RedisError

from shopsite.redis_client import get_redis

from .exceptions import StockLockBusy

logger = logging.getLogger(__name__)

KEY_PREFIX = "stock-lock:"
# redis-py polls a held lock; its default of 0.1 s makes contended purchases needlessly slow.
POLL_SECONDS = 0.005


def lock_key(product_id) -> str:
    return f"{KEY_PREFIX}{product_id}"


@contextlib.contextmanager
def stock_locks(product_ids: Iterable) -> Iterator[None]:
    """Hold the stock locks of all the products. Taken in sorted id order so two requests
    wanting overlapping products cannot deadlock. Raises StockLockBusy after the bounded wait,
    redis ConnectionError when Redis is down (before anything is written)."""
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
        yield
    finally:
        for lock in reversed(held):
            try:
                lock.release()
            except LockError:
                logger.warning("stock lock %s expired before it was released", lock.name)
            except RedisError:
                # Redis went away after the work was done: the lock expires on its own.
                logger.warning("stock lock %s not released: redis unavailable", lock.name)
