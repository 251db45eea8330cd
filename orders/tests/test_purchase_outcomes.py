"""The purchase journal's outcomes (its entries in the sales ledger) are forgotten once their
intent is gone and they are old enough (committed: a minute after they were folded into the
sales summaries, never before; aborted: a day), by the recovery at most every
FORGET_OUTCOMES_EVERY_SECONDS, deleting by `_id` equalities in one command (seen on the wire)."""

from datetime import timedelta

import pytest
from bson import ObjectId

from orders import purchase_recovery as recovery
from orders import purchase_repository as journal
from orders.sales import store
from orders.tests.conftest import Commands, on_the_wire
from shopsite.timeutil import utcnow

pytestmark = pytest.mark.usefixtures("redis_client")


@pytest.fixture
def deletes(mongo, monkeypatch):
    listener = Commands()
    monkeypatch.setattr(recovery, "_outcomes_forgotten_at", float("-inf"))
    store.set_state(next=2, done=1)  # pass 1 took the "folded" commits below, and finished
    with on_the_wire(listener, monkeypatch, [journal, store]):
        yield listener


def outcome(outcome: str, age: timedelta, *, intent: bool = False, folded: bool = True) -> ObjectId:
    now = utcnow()
    doc = {"_id": ObjectId(), "outcome": outcome, "created_at": now - age}
    if outcome == journal.COMMIT:
        doc["orders"] = [{"_id": ObjectId(), "customer": "Ada", "total_cents": 700}]
        doc["pass"] = 1 if folded else 0
        if folded:
            doc["folded_at"] = now - age
    store.LEDGER.collection().insert_one(doc)
    if intent:  # still in progress (too young for the recovery to take it)
        journal.intent_insert({"_id": doc["_id"], "created_at": now, "quantities": []})
    return doc["_id"]


def kept() -> set:
    return {doc["_id"] for doc in store.LEDGER.collection().find({}, {"_id": 1})}


def test_old_outcomes_without_intent_are_deleted_by_id_in_one_command(deletes):
    old_commits = [outcome(journal.COMMIT, timedelta(minutes=5)) for _ in range(3)]
    keep = {
        outcome(journal.COMMIT, timedelta(minutes=5), intent=True),
        outcome(journal.COMMIT, timedelta(seconds=5)),
        outcome(journal.ABORT, timedelta(hours=1)),
        # Not folded into the summaries yet: its figures live in it alone.
        outcome(journal.COMMIT, timedelta(minutes=5), folded=False),
    }
    old_abort = outcome(journal.ABORT, timedelta(days=2))

    recovery.recover()

    assert kept() == keep
    commands = [body for name, body in deletes.seen if name == "delete"]
    assert [body["delete"] for body in commands] == [store.LEDGER.COLLECTION] * 2  # one per kind
    statements = [stmt["q"] for body in commands for stmt in body["deletes"]]
    assert sorted(map(str, (q["_id"] for q in statements))) == sorted(
        map(str, [*old_commits, old_abort])
    )
    assert all(list(q) == ["_id"] and isinstance(q["_id"], ObjectId) for q in statements)


def test_the_recovery_forgets_at_most_once_per_interval_and_in_batches(deletes, monkeypatch):
    first = outcome(journal.COMMIT, timedelta(minutes=5))
    recovery.recover()
    assert first not in kept()

    later = {outcome(journal.COMMIT, timedelta(minutes=5)) for _ in range(5)}
    recovery.recover()  # within FORGET_OUTCOMES_EVERY_SECONDS of the last time
    assert kept() == later

    monkeypatch.setattr(recovery, "FORGET_BATCH", 2)
    monkeypatch.setattr(recovery, "_outcomes_forgotten_at", float("-inf"))
    recovery.recover()
    assert kept() == set()
