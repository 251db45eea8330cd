"""catalog.locks.StockLocks against the real Redis: every lock or none in one script, with a
fencing token and an optional claim of another key; released only where still held."""

import logging

import pytest

from catalog.exceptions import StockLockBusy
from catalog.locks import FENCE_KEY, Claim, ClaimHeld, StockLocks, lock_key, stock_locks
from shopsite.redis_client import Batch

pytestmark = pytest.mark.usefixtures("redis_client")


def test_all_locks_and_a_larger_token_in_one_step(redis_client):
    first = StockLocks(["a", "b"])
    token = first.acquire()
    assert redis_client.exists(lock_key("a"), lock_key("b")) == 2
    assert int(redis_client.get(FENCE_KEY)) == token
    first.release()
    assert redis_client.exists(lock_key("a"), lock_key("b")) == 0
    second = StockLocks(["b"])
    assert second.acquire() > token
    second.release()


def test_none_is_taken_while_one_is_held(redis_client, settings):
    settings.STOCK_LOCK_WAIT_SECONDS = 0.05
    held = redis_client.lock(lock_key("b"), timeout=10)
    assert held.acquire(blocking=False)
    with pytest.raises(StockLockBusy) as busy:
        StockLocks(["a", "b", "c"]).acquire()
    assert busy.value.product_id == "b"
    assert redis_client.exists(lock_key("a"), lock_key("c")) == 0
    held.release()


def test_a_free_claim_is_taken_with_the_locks(redis_client):
    locks = StockLocks(["a"])
    locks.acquire(claim=Claim("claim:k", "pending", 60))
    assert redis_client.get("claim:k") == "pending"
    assert 0 < redis_client.ttl("claim:k") <= 60
    locks.release()
    assert redis_client.get("claim:k") == "pending"  # the claim is the caller's to clear


def test_a_held_claim_locks_nothing_and_says_what_holds_it(redis_client):
    redis_client.set("claim:k", "done")
    with pytest.raises(ClaimHeld) as held:
        StockLocks(["a"]).acquire(claim=Claim("claim:k", "pending", 60))
    assert held.value.value == "done"
    assert redis_client.exists(lock_key("a")) == 0
    assert redis_client.get("claim:k") == "done"


def test_a_claim_is_taken_even_while_the_locks_are_busy(redis_client, settings):
    """Then the wait goes on without it (it is ours), and its owner frees it after the 503."""
    settings.STOCK_LOCK_WAIT_SECONDS = 0.05
    other = StockLocks(["a"])
    other.acquire()
    with pytest.raises(StockLockBusy):
        StockLocks(["a"]).acquire(claim=Claim("claim:k", "pending", 60))
    assert redis_client.get("claim:k") == "pending"
    other.release()


def test_a_busy_lock_is_waited_for(redis_client, settings):
    settings.STOCK_LOCK_TIMEOUT_SECONDS = 0.2
    settings.STOCK_LOCK_WAIT_SECONDS = 2
    expiring = StockLocks(["a"])
    expiring.acquire()  # never released: expires after 0.2 s
    waiting = StockLocks(["a"])
    waiting.acquire()
    assert redis_client.get(lock_key("a")) == waiting._value
    waiting.release()


def test_release_leaves_a_later_holders_lock_alone(redis_client, settings, caplog):
    settings.STOCK_LOCK_TIMEOUT_SECONDS = 0.05
    late = StockLocks(["a"])
    late.acquire()
    redis_client.delete(lock_key("a"))  # expired, and taken by another
    redis_client.set(lock_key("a"), "another holder")
    with caplog.at_level(logging.WARNING, logger="catalog.locks"):
        late.release()
    assert redis_client.get(lock_key("a")) == "another holder"
    assert "expired before release" in caplog.text


def test_release_in_a_batch_waits_for_the_batch(redis_client):
    locks = StockLocks(["a", "b"])
    locks.acquire()
    batch = Batch()
    locks.release(batch)
    batch.add(lambda pipe: pipe.set("other-module", "1"))
    assert redis_client.exists(lock_key("a")) == 1  # queued, not sent
    batch.send()
    assert redis_client.exists(lock_key("a"), lock_key("b")) == 0
    assert redis_client.get("other-module") == "1"
    locks.release()  # released already: nothing sent


def test_stock_locks_context_releases_on_error(redis_client):
    with pytest.raises(RuntimeError), stock_locks(["a"]) as token:
        assert token > 0 and redis_client.exists(lock_key("a")) == 1
        raise RuntimeError("work failed")
    assert redis_client.exists(lock_key("a")) == 0


def test_batch_send_of_nothing_makes_no_round_trip(redis_client, monkeypatch):
    batch = Batch()
    sent = []
    monkeypatch.setattr(batch._pipe, "execute", lambda **kw: sent.append(kw))
    assert batch.send() == [] and sent == []


def test_a_failed_batch_gives_every_handler_the_error(redis_client, monkeypatch):
    batch = Batch()
    got = []
    batch.add(lambda pipe: pipe.set("x", "1"), got.append)
    batch.eval("return 1", [], [], got.append)

    def refuse(**kwargs):
        raise ConnectionError("redis went away")

    monkeypatch.setattr(batch._pipe, "execute", refuse)
    with pytest.raises(ConnectionError):
        batch.send()
    assert [type(reply) for reply in got] == [ConnectionError, ConnectionError]
