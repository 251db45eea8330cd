"""A busy hour is listed minute by minute: exact pages, and a page reads about a minute's orders.

Orders carry their UTC `minute`; an hour with more than MINUTE_WALK_ABOVE orders, all carrying
it, is walked by minutes counted from the hour's 60 per-minute counts (stored, or the dirty
hour's summary now; the window's first hour from its moments), so `orders_recent` and a list's
first page read the newest minutes' orders, not the hour's. Every page is compared with the plain
newest-first list of all the orders (ties by `_id`), with the hours clean (summaries refreshed)
and dirty (markers pending); an hour whose orders lack their minute (stored before it) is read
whole, by `hour`, until its recompute gives them their minute.
"""

import random
from collections import Counter
from datetime import timedelta

import pytest

from orders import figures, repository, selectors, services, summaries
from orders import summary_repository as store
from orders.documents import order_document
from orders.figures import hour_summary
from orders.tests.conftest import on_the_wire
from orders.tests.test_stats_reads import Listener
from shopsite.timeutil import hour_key, minute_key, utcnow

SEED = 20261201
PAGES = [(0, 1), (0, 20), (0, 50), (3, 7), (19, 20), (37, 50), (100, 100), (230, 30), (399, 50)]


def _this_hour():
    return utcnow().replace(minute=0, second=0, microsecond=0)


def _moments(start, count, rng):
    """`count` moments in the hour from `start`: random ones over most minutes (some minutes
    left empty), a burst in one millisecond, and orders on the minute and hour boundaries."""
    empty = set(rng.sample(range(60), 8))
    minutes = [minute for minute in range(60) if minute not in empty]
    burst = start + timedelta(minutes=minutes[len(minutes) // 2], seconds=7, milliseconds=5)
    edges = [start, start + timedelta(hours=1, milliseconds=-1)] + [
        start + timedelta(minutes=minute, seconds=second)
        for minute in minutes[:6]
        for second in (0, 60)
    ]  # fmt: skip
    edges = [moment for moment in edges if moment < start + timedelta(hours=1)]
    placed = [burst] * 6 + edges
    while len(placed) < count:
        offset = timedelta(minutes=rng.choice(minutes), milliseconds=rng.randrange(60_000))
        placed.append(start + offset)
    return placed


def _place(product, moments, customer="walk"):
    services.orders_place_bulk(
        orders=[
            {
                "customer": customer,
                "created_at": moment,
                "items": [{"product_id": product, "quantity": 1 + n % 3}],
            }
            for n, moment in enumerate(moments)
        ],  # fmt: skip
        user_id=None,
    )


@pytest.fixture
def busy(mongo, product_ids):
    """A busy hour two hours ago (240 orders), a smaller busy one before it (130), a quiet
    hour (12) and orders three days back; returns the busy hours."""
    rng = random.Random(SEED)
    newest = _this_hour() - timedelta(hours=2)
    older = newest - timedelta(hours=1)
    moments = _moments(newest, 240, rng) + _moments(older, 130, rng)
    moments += [newest - timedelta(hours=2, minutes=n * 4) for n in range(12)]
    moments += [newest - timedelta(days=3, minutes=n * 7) for n in range(20)]
    rng.shuffle(moments)
    for chunk in range(0, len(moments), 100):
        _place(product_ids[chunk % len(product_ids)], moments[chunk : chunk + 100])
    return newest, older


def _everything() -> list[dict]:
    return repository.newest_first(list(repository.orders().find()))


def _ids(docs) -> list:
    return [doc["_id"] for doc in docs]


def _assert_pages_exact(monkeypatch, expected: list[dict], sinces) -> None:
    """orders_recent, and for each window start every page, the count and the export, equal
    the plain newest-first list."""
    for limit in (1, 20, 50, 150, len(expected) + 5):
        assert _ids(selectors.orders_recent(limit=limit)) == _ids(expected[:limit]), limit
    for since in sinces:
        days = (utcnow() - since).days + 1  # "now" not before the newest order
        inside = [doc for doc in expected if doc["created_at"] >= since]
        with monkeypatch.context() as patch:
            patch.setattr(
                selectors, "utcnow", lambda since=since, days=days: since + timedelta(days=days)
            )
            assert selectors.orders_count_since(days=days) == len(inside), since
            for skip, limit in PAGES:
                count, page = selectors.orders_page_since(days=days, skip=skip, limit=limit)
                assert count == len(inside), since
                assert _ids(page) == _ids(inside[skip : skip + limit]), (since, skip, limit)
            assert _ids(selectors.orders_iter_since(days=days)) == _ids(inside), since


def _sinces(busy, expected):
    """Window starts inside the busy hours: mid-minute, on a tie, on a minute boundary, at the
    hour's start, before everything."""
    newest, older = busy
    in_newest = [
        doc["created_at"] for doc in expected if hour_key(doc["created_at"]) == hour_key(newest)
    ]
    tie = Counter(in_newest).most_common(1)[0][0]
    return [
        tie,
        tie + timedelta(milliseconds=1),
        newest + timedelta(minutes=23, seconds=31, milliseconds=17),
        newest + timedelta(minutes=41),
        older + timedelta(minutes=5, seconds=30),
        older,
        older - timedelta(days=4),
    ]


def test_orders_carry_their_minute(busy):
    for doc in repository.orders().find({}, {"created_at": 1, "minute": 1}):
        assert doc["minute"] == minute_key(doc["created_at"])


def test_pages_of_busy_hours_are_exact_while_dirty(busy, monkeypatch, product_ids):
    assert summaries.dirty_hours() >= {hour_key(hour) for hour in busy}
    expected = _everything()
    _assert_pages_exact(monkeypatch, expected, _sinces(busy, expected))
    # Stored summaries behind their hours: more orders in both busy hours and a new minute.
    summaries.refresh_all()
    rng = random.Random(SEED + 1)
    more = [
        hour + timedelta(minutes=rng.randrange(60), seconds=rng.randrange(60))
        for hour in busy
        for _ in range(30)
    ] + [busy[0] + timedelta(minutes=59, seconds=59, milliseconds=999)]
    _place(product_ids[2], more)  # fmt: skip
    assert summaries.dirty_hours() == {hour_key(hour) for hour in busy}
    expected = _everything()
    _assert_pages_exact(monkeypatch, expected, _sinces(busy, expected))


def test_pages_of_busy_hours_are_exact_when_clean(busy, monkeypatch):
    summaries.refresh_all()
    assert not summaries.dirty_hours()
    expected = _everything()
    _assert_pages_exact(monkeypatch, expected, _sinces(busy, expected))
    # A clean day and a dirty one side by side (an order in the quiet hour).
    _place(repository.orders().find_one()["items"][0]["product_id"], [busy[0] - timedelta(hours=2)])
    expected = _everything()
    _assert_pages_exact(monkeypatch, expected, _sinces(busy, expected)[:2])


def _order_reads(listener) -> list[dict]:
    return [
        body["filter"]
        for command, body in listener.commands
        if command == "find" and body.get("find") == repository.COLLECTION
    ]


def _hour_projections(listener) -> list[dict]:
    """What each read of the stored hour summaries asked for."""
    return [
        body.get("projection", {})
        for command, body in listener.commands
        if command == "find" and body.get("find") == store.HOURS.COLLECTION
    ]


def _assert_counted_per_minute(listener) -> None:
    """The hour summaries were read for their 60 per-minute counts, not their moments (one
    per order, growing with the hour)."""
    projections = _hour_projections(listener)
    assert any("per_minute" in projection for projection in projections), projections
    assert not any("moments" in projection for projection in projections), projections


def _assert_read_by_minute(listener, hour: str, limit: int) -> None:
    """The orders read were the newest minutes' of the hour, each needed for the `limit`."""
    reads, returned = _order_reads(listener), listener.returned[repository.COLLECTION]
    assert reads and all(tuple(read) == ("minute",) for read in reads), reads
    assert all(read["minute"][:13] == hour for read in reads), reads
    minutes = [read["minute"] for read in reads]
    assert returned == repository.orders().count_documents({"minute": {"$in": minutes}})
    assert repository.orders().count_documents({"minute": {"$in": minutes[:-1]}}) < limit


def test_the_newest_orders_of_a_busy_hour_cost_a_few_minutes(busy, monkeypatch):
    summaries.refresh_all()
    hour = hour_key(busy[0])
    hour_orders = repository.orders().count_documents({"hour": hour})
    assert hour_orders > selectors.MINUTE_WALK_ABOVE
    expected = _everything()
    listener = Listener()
    with on_the_wire(listener, monkeypatch):
        assert _ids(selectors.orders_recent(limit=20)) == _ids(expected[:20])
        returned = listener.returned[repository.COLLECTION]
        _assert_read_by_minute(listener, hour, 20)
        _assert_counted_per_minute(listener)
        assert returned < hour_orders / 4

        listener.clear()
        count, page = selectors.orders_page_since(days=30, limit=50)
        assert count == len(expected)
        assert _ids(page) == _ids(expected[:50])
        _assert_read_by_minute(listener, hour, 50)


def test_a_dirty_busy_hour_is_summarised_once_and_read_by_minute(busy, monkeypatch):
    """The dirty hour's count and minutes come from one summaries.current_hour per request
    (its stored summary and markers); the list reads only the hour's newest minutes."""
    summaries.refresh_all()
    hour = hour_key(busy[0])
    product = repository.orders().find_one()["items"][0]["product_id"]
    _place(product, [busy[0] + timedelta(minutes=59, seconds=59, milliseconds=999)])
    assert summaries.dirty_hours() == {hour}
    expected = _everything()
    listener, calls, current_hour = Listener(), [], summaries.current_hour

    def counted(key, *args, **kwargs):
        calls.append(key)
        return current_hour(key, *args, **kwargs)

    monkeypatch.setattr(summaries, "current_hour", counted)
    with on_the_wire(listener, monkeypatch):
        assert _ids(selectors.orders_recent(limit=20)) == _ids(expected[:20])
        assert calls == [hour]
        _assert_read_by_minute(listener, hour, 20)
        _assert_counted_per_minute(listener)

        listener.clear()
        count, page = selectors.orders_page_since(days=30, skip=10, limit=30)
        assert (count, _ids(page)) == (len(expected), _ids(expected[10:40]))
        assert calls == [hour, hour]
        _assert_read_by_minute(listener, hour, 40)


def _unminuted(product_ids, start, count):
    """`count` orders in the hour from `start` stored as before orders carried their minute."""
    product = {"_id": product_ids[0], "name": "P0", "category": "books", "price_cents": 100}
    docs = [
        order_document(
            customer="old", lines=[(product, 1)],
            created_at=start + timedelta(seconds=n * 3600 // count),
        )
        for n in range(count)
    ]  # fmt: skip
    for doc in docs:
        del doc["minute"]
        repository.orders().insert_one(doc)
    store.mark_dirty(hours=[hour_key(start)], customers=["old"])


def _minutes_stored(hour: str) -> bool:
    return store.hour_state(hour, {"orders": 1})["minutes"]


def test_an_hour_of_orders_without_their_minute_gets_it_at_its_recompute(
    busy, monkeypatch, product_ids
):
    """Pages are exact while the hour is read whole (dirty: from its orders); its recompute
    gives its orders their minute, and from then on it is walked minute by minute."""
    old_hour = busy[0] + timedelta(hours=1)
    _unminuted(product_ids, old_hour, 130)
    assert selectors.MINUTE_WALK_ABOVE < 130
    _place(product_ids[1], [old_hour + timedelta(minutes=30, seconds=1)])  # one with its minute
    expected = _everything()
    sinces = [old_hour + timedelta(minutes=17, seconds=5), busy[1]]
    _assert_pages_exact(monkeypatch, expected, sinces)  # dirty
    assert repository.orders().count_documents({"minute": {"$exists": False}}) == 130

    summaries.refresh_all()
    assert repository.orders().count_documents({"minute": {"$exists": False}}) == 0
    test_orders_carry_their_minute(busy)
    assert _minutes_stored(hour_key(old_hour))
    _assert_pages_exact(monkeypatch, expected, sinces)  # clean
    listener = Listener()
    with on_the_wire(listener, monkeypatch):
        assert _ids(selectors.orders_recent(limit=20)) == _ids(expected[:20])
        _assert_read_by_minute(listener, hour_key(old_hour), 20)


def test_a_stored_hour_lacking_minutes_is_recomputed_not_added_to(busy, monkeypatch, product_ids):
    """A busy hour stored while some of its orders lacked their minute (an old store): new
    orders' confirmed markers would only be added to it, leaving it read whole for the rest of
    the hour; the refresh recomputes it instead and gives those orders their minute."""
    old_hour = busy[0] + timedelta(hours=1)
    _unminuted(product_ids, old_hour, 130)
    summaries.refresh_all()  # stores the hour as it was, minutes and all
    repository.orders().update_many({"customer": "old"}, {"$unset": {"minute": ""}})
    hour = hour_key(old_hour)
    unminuted = repository.find_hour(hour, summaries.ORDER_FIELDS)
    store.write_hour(hour, hour_summary(unminuted), absorbed=[])
    assert not _minutes_stored(hour)
    _place(product_ids[1], [old_hour + timedelta(minutes=30, seconds=1)])  # confirmed markers
    assert summaries.dirty_hours() == {hour}

    summaries.refresh_all()
    assert not summaries.dirty_hours()
    assert repository.orders().count_documents({"minute": {"$exists": False}}) == 0
    assert _minutes_stored(hour)
    assert store.hour_state(hour, {"orders": 1})["orders"] == 131
    expected = _everything()
    listener = Listener()
    with on_the_wire(listener, monkeypatch):
        assert _ids(selectors.orders_recent(limit=20)) == _ids(expected[:20])
        _assert_read_by_minute(listener, hour, 20)


def test_per_minute_counts_are_those_of_the_moments(busy):
    summaries.refresh_all()
    for hour in (hour_key(busy[0]), hour_key(busy[1])):
        docs = repository.find_hour(hour, summaries.ORDER_FIELDS)
        counts = Counter(doc["created_at"].minute for doc in docs)
        stored = store.hour_state(hour, {"per_minute": 1, "moments": 1})
        assert stored["per_minute"] == [counts[minute] for minute in range(60)]
        assert figures.minute_counts({"moments": stored["moments"]}) == stored["per_minute"]
        assert figures.minute_counts({"orders": 1}) is None


def test_hours_stored_before_per_minute_counts_are_walked_from_their_moments(
    busy, monkeypatch, product_ids
):
    """Summaries written before hours kept their counts, clean and then dirty (a marker added):
    pages stay exact, counted from the moments, until the refresh stores the counts."""
    summaries.refresh_all()
    store.HOURS.collection().update_many({}, {"$unset": {"per_minute": ""}})
    expected = _everything()
    _assert_pages_exact(monkeypatch, expected, _sinces(busy, expected))
    _place(product_ids[1], [busy[0] + timedelta(minutes=59, seconds=59, milliseconds=999)])
    assert store.hour_state(hour_key(busy[0]), {"orders": 1}).get("per_minute") is None
    expected = _everything()
    _assert_pages_exact(monkeypatch, expected, _sinces(busy, expected))

    summaries.refresh_all()
    hour = hour_key(busy[0])
    counts = Counter(doc["created_at"].minute for doc in repository.find_hour(hour))
    stored = store.hour_state(hour, {"per_minute": 1})["per_minute"]
    assert stored == [counts[minute] for minute in range(60)]
    _assert_pages_exact(monkeypatch, expected, _sinces(busy, expected))
