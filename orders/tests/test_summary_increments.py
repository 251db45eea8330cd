"""A busy hour or customer costs what was written since, not what it holds: while dirty it is read
as its stored summary plus its confirmed markers' figures, and refreshed the same way, without
reading its orders (seen on the wire). A marker left unconfirmed (a writer that died around its
insert) costs its orders' ids; orders stored again (a retry), a marker with only some of its
orders stored or a summary from before markers were absorbed fall back to the orders, and a
refresh that writes under a read makes it retry: every answer stays exact."""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from django.core.management import call_command

from orders import purchase, repository, services, stats, summaries
from orders import summary_repository as store
from orders.documents import order_document
from orders.figures import hour_summary
from orders.summary_rebuild import _comparable
from orders.tests.conftest import Commands, on_the_wire
from orders.tests.test_summaries import expected_customer, expected_sold

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")

HOUR_START = datetime(2026, 6, 7, 14, tzinfo=UTC)
HOUR = "2026-06-07T14"


def place(product_ids, customer: str, count: int, first_minute: int = 0) -> list[dict]:
    orders = [
        {
            "customer": customer,
            "created_at": HOUR_START + timedelta(minutes=first_minute + n, seconds=7),
            "items": [{"product_id": product_ids[n % 3], "quantity": 1 + n % 2}],
        }
        for n in range(count)
    ]
    return services.orders_place_bulk(orders=orders, user_id=None)


def plain_hour() -> dict | None:
    """The hour's summary straight from all its orders."""
    return _comparable(hour_summary(repository.find_hour(HOUR, summaries.ORDER_FIELDS)))


def orders_commands(listener: Commands) -> list[dict]:
    return [body for _, body in listener.seen if repository.COLLECTION in body.values()]


def assert_answers_exact() -> None:
    assert _comparable(summaries.current_hour(HOUR)) == plain_hour()
    window = (HOUR_START - timedelta(minutes=30), HOUR_START + timedelta(hours=2))
    assert stats.sold_totals(*window) == expected_sold(*window)
    assert stats.sold_breakdown(*window, "product") == expected_sold(*window, "product")
    assert stats.top_customers(*window, limit=100) == expected_sold(*window, "customers")
    for name in ("Ada", "Bob"):
        got, expected = stats.customer_totals(name), expected_customer(name)
        assert (got and {key: got[key] for key in expected}) == expected, name


def test_a_dirty_hour_and_customer_are_read_and_refreshed_without_their_orders(
    product_ids, monkeypatch
):
    place(product_ids, "Ada", 6)
    summaries.refresh_all()
    place(product_ids, "Ada", 3, first_minute=20)
    place(product_ids, "Bob", 2, first_minute=40)
    assert store.dirty_hours() == {HOUR}
    assert store.dirty_customer_names() == {"Ada", "Bob"}

    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        assert_answers_exact()
        # The stats' partial edge hours' other parts still come from orders: only totals here.
        listener.seen.clear()
        assert summaries.current_hour(HOUR)["orders"] == 11
        assert stats.sold_totals(HOUR_START, HOUR_START + timedelta(minutes=30))["orders"] == 9
        assert stats.customer_totals("Ada")["orders"] == 9
        assert orders_commands(listener) == []

        listener.seen.clear()
        summaries.refresh_all()
        assert orders_commands(listener) == []
    assert store.DIRTY.collection().count_documents({}) == 0
    assert _comparable(store.stored_hour(HOUR)) == plain_hour()
    assert_answers_exact()
    call_command("rebuild_summaries", "--verify")


def order_filters(listener: Commands) -> list[tuple]:
    """The fields each command on `orders` filtered on."""
    return [tuple(sorted(body.get("filter", {}))) for body in orders_commands(listener)]


def test_a_marker_left_unconfirmed_adds_its_visible_orders_until_a_refresh_settles_it(
    product_ids, monkeypatch
):
    place(product_ids, "Ada", 4)
    summaries.refresh_all()
    # A writer that died between its insert and its confirming markers (or is still running).
    monkeypatch.setattr(repository, "AFTER_INSERT_HOOK", lambda docs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        place(product_ids, "Bob", 2, first_minute=30)
    monkeypatch.setattr(repository, "AFTER_INSERT_HOOK", None)
    place(product_ids, "Ada", 1, first_minute=50)  # confirmed, after it
    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        assert summaries.current_hour(HOUR)["orders"] == 7
        assert stats.customer_totals("Bob")["orders"] == 2
        # Its two orders read by `_id` (hour and customer), never the whole hour or customer.
        assert order_filters(listener) == [("_id",)] * 4
    assert_answers_exact()

    summaries.refresh_all()  # too young to be given up: it stays, and so do its orders' absence
    assert store.hour_markers(HOUR) and store.customer_markers("Bob")
    assert store.stored_hour(HOUR)["orders"] == 5
    assert_answers_exact()

    monkeypatch.setattr(summaries, "UNCONFIRMED_AFTER", timedelta(0))
    listener.seen.clear()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        summaries.refresh_all()  # its orders all stored: its figures added, checked by `_id`
        assert order_filters(listener) == [("_id",)] * 4
    assert store.DIRTY.collection().count_documents({}) == 0
    assert _comparable(store.stored_hour(HOUR)) == plain_hour()
    assert store.customer("Bob")["orders"] == 2
    assert_answers_exact()
    call_command("rebuild_summaries", "--verify")


def unstored_orders(product_ids, customer: str, count: int, minute: int) -> list[dict]:
    """Order documents as a purchase builds them, not stored."""
    product = repository.orders().database["products"].find_one({"_id": ObjectId(product_ids[0])})
    return [
        order_document(
            customer=customer,
            created_at=HOUR_START + timedelta(minutes=minute, seconds=n),
            lines=[(product, 1 + n)],
            order_id=ObjectId(),
        )
        for n in range(count)
    ]


def test_a_marker_whose_orders_were_never_stored_waits_then_is_dropped(product_ids, monkeypatch):
    """A writer that died between its markers and its insert: nothing to add, no order read."""
    place(product_ids, "Ada", 3)
    summaries.refresh_all()
    for doc in unstored_orders(product_ids, "Bob", 2, minute=30):
        store.mark_pending([doc])
    monkeypatch.setattr(summaries, "UNCONFIRMED_AFTER", timedelta(0))
    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        summaries.refresh_all()  # within PENDING_GRACE: its insert may still land
        assert set(order_filters(listener)) == {("_id",)}
    assert len(store.hour_markers(HOUR)) == 2 and store.customer_markers("Bob")
    assert_answers_exact()

    monkeypatch.setattr(summaries, "PENDING_GRACE", timedelta(0))
    summaries.refresh_all()
    assert store.DIRTY.collection().count_documents({}) == 0
    assert store.stored_hour(HOUR)["orders"] == 3 and store.customer("Bob") is None
    assert_answers_exact()
    call_command("rebuild_summaries", "--verify")


def test_a_marker_with_only_some_orders_stored_makes_the_refresh_read_the_hour(
    product_ids, monkeypatch
):
    place(product_ids, "Ada", 3)
    summaries.refresh_all()
    docs = unstored_orders(product_ids, "Bob", 2, minute=30)
    store.mark_pending(docs)
    repository.orders().insert_one(docs[0])  # the insert stored one of two, then died
    monkeypatch.setattr(summaries, "UNCONFIRMED_AFTER", timedelta(0))
    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        summaries.refresh_all()
        assert ("hour",) in order_filters(listener)
    assert_answers_exact()
    repository.orders().insert_one(docs[1])  # the rest lands late: counted once
    assert_answers_exact()
    summaries.refresh_all()
    assert store.DIRTY.collection().count_documents({}) == 0
    assert store.stored_hour(HOUR)["orders"] == 5 and store.customer("Bob")["orders"] == 2
    assert_answers_exact()


def test_many_unconfirmed_orders_are_read_with_their_hour(product_ids, monkeypatch):
    monkeypatch.setattr(summaries, "UNCONFIRMED_READ_MAX", 2)
    monkeypatch.setattr(repository, "AFTER_INSERT_HOOK", lambda docs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        place(product_ids, "Bob", 3)
    monkeypatch.setattr(repository, "AFTER_INSERT_HOOK", None)
    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        assert summaries.current_hour(HOUR)["orders"] == 3
        assert order_filters(listener) == [("hour",)]
    assert_answers_exact()


def markers_inserted(listener: Commands) -> list[dict]:
    inserted = [body for name, body in listener.seen if name == "insert"]
    return [doc for body in inserted if body["insert"] == store.DIRTY.COLLECTION
            for doc in body["documents"]]  # fmt: skip


@pytest.mark.parametrize("stored_before", [True, False])
def test_the_recovery_storing_a_purchases_orders_names_none_of_them(
    product_ids, monkeypatch, stored_before
):
    """The recovery stores a purchase's missing orders with "recompute" markers only, so no
    order is named twice (a read adds an unconfirmed marker's orders); orders all stored
    already had their markers written before them, so it writes none and stores nothing."""
    place(product_ids, "Ada", 2)
    summaries.refresh_all()

    def crash(step):
        if step == ("after_store" if stored_before else "after_commit"):
            raise RuntimeError(f"killed at {step}")

    monkeypatch.setattr(purchase, "fault_point", crash)
    with pytest.raises(RuntimeError):
        place(product_ids, "Bob", 2, first_minute=30)
    monkeypatch.setattr(purchase, "fault_point", lambda step: None)
    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        report = services.order_intents_recover(older_than_seconds=0)
    assert report["placed"] == 1, report
    markers = markers_inserted(listener)
    inserts = [body for name, body in listener.seen if name == "insert"]
    if stored_before:
        assert markers == []
        assert not any(body["insert"] == repository.COLLECTION for body in inserts)
    else:
        assert markers and not any("orders" in doc or "confirms" in doc for doc in markers)
    assert repository.orders().count_documents({}) == 4
    assert_answers_exact()
    summaries.refresh_all()
    assert store.stored_hour(HOUR)["orders"] == 4
    assert store.customer("Bob")["orders"] == 2
    assert_answers_exact()


@pytest.mark.parametrize("refreshed_first", [True, False])
def test_orders_stored_again_are_counted_once(product_ids, refreshed_first):
    placed = place(product_ids, "Ada", 3)
    if refreshed_first:
        summaries.refresh_all()
    # The purchase recovery stores a committed purchase's orders again (idempotent by _id).
    repository.insert_many([dict(doc) for doc in placed])
    assert repository.orders().count_documents({}) == 3
    assert_answers_exact()
    summaries.refresh_all()
    assert store.DIRTY.collection().count_documents({}) == 0
    assert store.stored_hour(HOUR)["orders"] == 3
    assert store.customer("Ada")["orders"] == 3
    assert_answers_exact()


def test_a_read_retries_when_a_refresh_rewrites_the_summary_under_it(product_ids, monkeypatch):
    place(product_ids, "Ada", 2)
    summaries.refresh_all()
    place(product_ids, "Ada", 3, first_minute=10)
    read_markers = store.hour_markers
    calls = []

    def refresh_then_read(hour):
        if not calls:  # the read has its stored summary; a refresh absorbs the markers now
            calls.append(hour)
            monkeypatch.setattr(store, "hour_markers", read_markers)
            summaries.refresh_all()
            monkeypatch.setattr(store, "hour_markers", refresh_then_read)
        return read_markers(hour)

    monkeypatch.setattr(store, "hour_markers", refresh_then_read)
    assert summaries.current_hour(HOUR)["orders"] == 5
    assert calls == [HOUR]


def test_a_summary_stored_before_it_absorbed_markers_is_recomputed_from_the_orders(
    product_ids, monkeypatch
):
    place(product_ids, "Ada", 2)
    summaries.refresh_all()
    # As stored by the previous version: no version, no absorbed markers.
    store.HOURS.collection().update_one({"_id": HOUR}, {"$unset": {"v": "", "absorbed": ""}})
    store.CUSTOMERS.collection().update_one({"_id": "Ada"}, {"$unset": {"v": "", "absorbed": ""}})
    place(product_ids, "Ada", 2, first_minute=30)
    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        assert_answers_exact()
        assert orders_commands(listener)  # not added to a summary it cannot vouch for
    summaries.refresh_all()
    assert store.stored_hour(HOUR)["v"] and store.customer("Ada")["v"]
    assert_answers_exact()
    call_command("rebuild_summaries", "--verify")


def test_orders_placed_while_a_recompute_reads_are_counted_once(product_ids, monkeypatch):
    place(product_ids, "Ada", 2)
    summaries.refresh_all()
    store.mark_dirty(hours=[HOUR], customers=["Ada"])  # a recompute from the orders is due
    placed_during = []

    def placing_first(find):
        def wrapped(key, projection=None):
            if find not in placed_during:  # an order lands between the markers' two reads
                placed_during.append(find)
                place(product_ids, "Ada", 1, first_minute=20 + len(placed_during))
            return find(key, projection)

        return wrapped

    monkeypatch.setattr(repository, "find_hour", placing_first(repository.find_hour))
    monkeypatch.setattr(repository, "find_customer", placing_first(repository.find_customer))
    summaries.refresh_all()  # covers the new orders' figures once: from the orders or markers
    monkeypatch.undo()
    assert len(placed_during) == 2
    summaries.refresh_all()
    assert store.DIRTY.collection().count_documents({}) == 0
    assert store.stored_hour(HOUR)["orders"] == 4
    assert store.customer("Ada")["orders"] == 4
    assert_answers_exact()
    call_command("rebuild_summaries", "--verify")


@pytest.mark.parametrize("dirty", [True, False])
def test_an_edge_hour_whose_orders_all_fall_in_the_window_is_taken_whole(
    product_ids, monkeypatch, dirty
):
    place(product_ids, "Ada", 6)
    summaries.refresh_all()
    place(product_ids, "Bob", 2, first_minute=40)
    if not dirty:
        summaries.refresh_all()
    start = HOUR_START - timedelta(minutes=30)
    holds_all = (start, HOUR_START + timedelta(minutes=50))  # like a window ending now
    cuts = (start, HOUR_START + timedelta(minutes=30))
    expected = {
        (window, by): expected_sold(*window, by)
        for window in (holds_all, cuts)
        for by in ("product", "category", "customers")
    }
    listener = Commands()
    with monkeypatch.context() as patched, on_the_wire(listener, patched):
        for by in ("product", "category"):
            assert stats.sold_breakdown(*holds_all, by) == expected[holds_all, by]
        assert stats.top_customers(*holds_all, limit=9) == expected[holds_all, "customers"]
        assert orders_commands(listener) == []
        assert stats.top_customers(*cuts, limit=9) == expected[cuts, "customers"]
        assert stats.sold_breakdown(*cuts, "product") == expected[cuts, "product"]
        assert orders_commands(listener)  # the window cuts the hour's orders: read them


class ExpiringLock:
    """A summary lock whose ownership follows a script (True, then False: it expired)."""

    def __init__(self, owned: list[bool]):
        self.answers = iter(owned)

    def owned(self) -> bool:
        return next(self.answers, False)


@pytest.mark.parametrize("lost", ["before the write", "during the write"])
def test_a_refresh_that_loses_its_lock_never_leaves_the_hour_clean(product_ids, monkeypatch, lost):
    place(product_ids, "Ada", 2)
    summaries.refresh_all()
    place(product_ids, "Ada", 1, first_minute=30)
    real_locked = summaries._locked

    @contextlib.contextmanager
    def expiring(key):
        if not key.startswith("hour:"):
            with real_locked(key) as lock:
                yield lock
            return
        yield ExpiringLock([False] if lost == "before the write" else [True, False])

    monkeypatch.setattr(summaries, "_locked", expiring)
    summaries.refresh_all()
    monkeypatch.setattr(summaries, "_locked", real_locked)
    markers = store.hour_markers(HOUR)
    assert any("orders" in marker for marker in markers)  # the new order's: not deleted
    if lost == "before the write":
        assert store.stored_hour(HOUR)["orders"] == 2  # nothing written
    else:  # written, then lost: a newer summary may have been overwritten, so recompute
        assert any(not {"orders", "confirms"} & set(marker) for marker in markers)
    assert_answers_exact()
    summaries.refresh_all()
    assert store.DIRTY.collection().count_documents({}) == 0
    assert _comparable(store.stored_hour(HOUR)) == plain_hour()
    call_command("rebuild_summaries", "--verify")
