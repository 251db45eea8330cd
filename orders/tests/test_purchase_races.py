"""Fencing and the recovery racing live purchases, in this process (threads, real services).

A fault file (shopsite/faults.py) pauses a purchase at a named step: past its lock's TTL (a
stalled process), or while the recovery decides about it."""

import threading
import time

import pytest
from bson import ObjectId

from catalog import repository as catalog_repository
from catalog import services as catalog_services
from catalog.exceptions import StockLockLost
from catalog.locks import fence_token
from orders import purchase_repository, services
from orders.exceptions import PurchaseAborted
from shopsite.faults import arm

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


@pytest.fixture
def faults(settings, tmp_path):
    settings.FAULT_INJECTION_FILE = str(tmp_path / "fault")
    return arm


def product(stock=10):
    return catalog_services.product_create(
        name="Fenced", category="race", price_cents=100, stock=stock, user_id=None
    )


def buy(doc, quantity, customer="c"):
    items = [{"product_id": str(doc["_id"]), "quantity": quantity}]
    return services.order_place(customer=customer, items=items, user_id=None)


def in_thread(fn):
    result: dict = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def stock(doc) -> int:
    return catalog_repository.find_by_id(doc["_id"])["stock"]


def test_a_stalled_lock_holder_is_fenced_off(settings, faults, mongo):
    """The late writer's lock expired and another purchase wrote: its write is not applied."""
    settings.STOCK_LOCK_TIMEOUT_SECONDS = 0.5
    doc = product(stock=10)
    faults("after_lock", "pause:1.5")
    thread, late = in_thread(lambda: buy(doc, 2, customer="late"))
    time.sleep(0.8)  # the late purchase's lock has expired; this one takes it
    on_time = buy(doc, 3, customer="on time")
    thread.join()
    assert isinstance(late.get("error"), StockLockLost), late
    assert stock(doc) == 7
    assert [o["customer"] for o in mongo["orders"].find()] == ["on time"]
    assert on_time["customer"] == "on time"
    services.order_intents_recover(older_than_seconds=3600)  # settles finished purchases
    assert purchase_repository.intent_count() == 0
    assert not catalog_repository.find_by_id(doc["_id"]).get("stock_marks")


def test_an_old_token_cannot_write_after_a_newer_one(mongo, redis_client):
    doc = product(stock=10)
    old, new = fence_token(), fence_token()
    assert new > old
    now = doc["created_at"]
    assert catalog_repository.stock_add(doc["_id"], -1, now=now, fence=new) is not None
    assert catalog_repository.stock_add(doc["_id"], -1, now=now, fence=old) is None
    late = catalog_repository.stock_take_marked(doc["_id"], 1, mark="x:1", fence=old, now=now)
    assert late is None
    assert catalog_repository.update_fields(doc["_id"], {"name": "Late"}, fence=old) is None
    current = catalog_repository.find_by_id(doc["_id"])
    assert (current["stock"], current["name"]) == (9, "Fenced")


def test_a_take_is_applied_once_per_intent(mongo, redis_client):
    doc = product(stock=10)
    quantities = {doc["_id"]: 4}
    catalog_services.stock_take(quantities=quantities, intent_id="i1")
    with pytest.raises(Exception):  # noqa: B017 - already marked: nothing is taken again
        catalog_services.stock_take(quantities=quantities, intent_id="i1")
    assert stock(doc) == 6
    catalog_services.stock_release(quantities=quantities, intent_id="i1")
    catalog_services.stock_release(quantities=quantities, intent_id="i1")
    assert stock(doc) == 10


def test_recovery_aborts_a_purchase_stalled_before_its_commit(faults, mongo):
    doc = product(stock=10)
    faults("before_commit", "pause:1.5")
    thread, result = in_thread(lambda: buy(doc, 4))
    time.sleep(0.5)
    assert stock(doc) == 6  # taken, not yet committed
    report = services.order_intents_recover(older_than_seconds=0)
    assert report == {"placed": 0, "undone": 1, "failed": 0, "settled": 0}
    thread.join()
    assert isinstance(result.get("error"), PurchaseAborted)
    assert stock(doc) == 10
    assert mongo["orders"].count_documents({}) == 0
    assert purchase_repository.intent_count() == 0


def test_recovery_waits_for_a_purchase_holding_its_locks(faults, mongo):
    """Recovery decides abort while the purchase holds its locks (intent recorded, nothing
    taken yet): the purchase takes, finds the decision when it commits and gives back, or the
    recovery, waiting for the locks, gives it back. Either way: no order, all stock back."""
    doc = product(stock=10)
    faults("after_intent", "pause:1.0")
    thread, result = in_thread(lambda: buy(doc, 4))
    time.sleep(0.3)
    services.order_intents_recover(older_than_seconds=0)
    thread.join()
    assert isinstance(result.get("error"), PurchaseAborted)
    assert stock(doc) == 10
    assert mongo["orders"].count_documents({}) == 0
    assert purchase_repository.intent_count() == 0


def test_recovery_fences_off_a_purchase_whose_locks_expired_before_it_took(settings, faults, mongo):
    """No look-up of the outcome under the locks: the purchase's token predates its intent, so
    the recovery aborting it (taking the expired locks, raising the fence) shuts out its take."""
    settings.STOCK_LOCK_TIMEOUT_SECONDS = 0.3
    doc = product(stock=10)
    faults("after_intent", "pause:1.2")
    thread, result = in_thread(lambda: buy(doc, 4))
    time.sleep(0.6)  # intent recorded, its locks expired, nothing taken
    assert services.order_intents_recover(older_than_seconds=0)["undone"] == 1
    thread.join()
    assert isinstance(result.get("error"), StockLockLost), result
    assert stock(doc) == 10
    assert mongo["orders"].count_documents({}) == 0
    assert purchase_repository.intent_count() == 0
    assert not catalog_repository.find_by_id(doc["_id"]).get("stock_marks")


def test_recovery_finishes_a_committed_purchase_whose_store_failed(mongo, monkeypatch):
    """The orders could not be stored after the commit (MongoDB failed then): the request
    fails, the recovery stores them, with the stock taken once."""
    from orders import repository

    doc = product(stock=10)
    real_insert = repository.insert_many

    def failing(docs):
        raise ConnectionError("mongodb went away")

    monkeypatch.setattr(repository, "insert_many", failing)
    with pytest.raises(ConnectionError):
        buy(doc, 3)
    monkeypatch.setattr(repository, "insert_many", real_insert)
    assert mongo["orders"].count_documents({}) == 0
    assert stock(doc) == 7
    assert services.order_intents_recover(older_than_seconds=0)["placed"] == 1
    assert services.order_intents_recover(older_than_seconds=0)["placed"] == 0
    orders = list(mongo["orders"].find())
    assert len(orders) == 1 and orders[0]["quantity"] == 3
    assert stock(doc) == 7
    assert purchase_repository.intent_count() == 0
    assert not catalog_repository.find_by_id(doc["_id"]).get("stock_marks")


def test_recovery_leaves_young_intents_alone(mongo):
    purchase_repository.intent_insert(
        {
            "_id": ObjectId(),
            "created_at": product()["created_at"],
            "user_id": "",
            "bulk": False,
            "quantities": [],
            "order_ids": [],
        }
    )
    assert services.order_intents_recover(older_than_seconds=3600)["undone"] == 0
    assert purchase_repository.intent_count() == 1
    assert services.order_intents_recover(older_than_seconds=0)["undone"] == 1
    assert purchase_repository.intent_count() == 0


def test_finished_purchases_are_settled_in_a_batch(mongo, redis_client):
    """A placed order leaves its intent and stock mark to the recovery, which clears them for
    many purchases with one write per product, and never touches the stock."""
    doc = product(stock=100)
    for _ in range(5):
        buy(doc, 2)
    assert purchase_repository.intent_count() == 5
    assert len(catalog_repository.find_by_id(doc["_id"])["stock_marks"]) == 5
    report = services.order_intents_recover(older_than_seconds=3600)
    assert report["settled"] == 5 and report["placed"] == report["undone"] == 0
    assert purchase_repository.intent_count() == 0
    assert purchase_repository.finished_intent_ids(10) == []
    current = catalog_repository.find_by_id(doc["_id"])
    assert current["stock_marks"] == [] and current["stock"] == 90
    assert services.order_intents_recover(older_than_seconds=0)["settled"] == 0
    assert mongo["orders"].count_documents({}) == 5


def test_finished_purchases_are_not_redone_when_old(mongo, redis_client):
    """An old finished intent (the worker was down) is settled, not finished again."""
    doc = product(stock=100)
    buy(doc, 2)
    report = services.order_intents_recover(older_than_seconds=0)
    assert report == {"placed": 0, "undone": 0, "failed": 0, "settled": 1}
    assert catalog_repository.find_by_id(doc["_id"])["stock"] == 98


def test_marks_stay_bounded_without_the_recovery(mongo, redis_client, monkeypatch):
    """The worker is down: a product's marks are trimmed by the purchases themselves."""
    monkeypatch.setattr(catalog_services, "MARKS_SETTLED_INLINE_AT", 3)
    doc = product(stock=100)
    for _ in range(10):
        buy(doc, 1)
    current = catalog_repository.find_by_id(doc["_id"])
    assert len(current["stock_marks"]) <= 4 and current["stock"] == 90
    services.order_intents_recover(older_than_seconds=3600)
    current = catalog_repository.find_by_id(doc["_id"])
    assert current["stock_marks"] == [] and current["stock"] == 90
    assert purchase_repository.intent_count() == 0
