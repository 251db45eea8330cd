"""The stats functions let the database do the summing: proven by watching the wire.

Every command the stats functions send is recorded with pymongo's command monitoring on a client
of the same (real) server. They may only send `aggregate` pipelines that start with a `$match` on
an indexed field, plus `find`s with limit 1; and what comes back must be grouped rows, never order
documents.
"""

import ast
import inspect
from datetime import timedelta

import pytest
from bson import ObjectId
from django.conf import settings
from pymongo import MongoClient, monitoring

from orders import repository, stats
from orders.tests.test_stats import ANCHOR, WINDOWS, build_shop

INDEXED_MATCH_FIELDS = {("created_at",), ("customer",)}


class Listener(monitoring.CommandListener):
    def __init__(self):
        self.commands: list[tuple[str, dict]] = []
        self.replies: list[tuple[str, dict]] = []

    def started(self, event):
        self.commands.append((event.command_name, event.command))

    def succeeded(self, event):
        self.replies.append((event.command_name, event.reply))

    def failed(self, event):
        self.replies.append((event.command_name, {"failure": event.failure}))

    def clear(self):
        self.commands.clear()
        self.replies.clear()


@pytest.fixture
def shop(mongo, staff_client):
    return build_shop(staff_client)


@pytest.fixture
def watched(shop, monkeypatch):
    """The stats module talking to the test database through a client that records commands."""
    listener = Listener()
    client = MongoClient(settings.MONGODB_URI, tz_aware=True, event_listeners=[listener])
    monkeypatch.setattr(stats, "orders", lambda: client[settings.MONGODB_DB][repository.COLLECTION])
    stats._sums_every_accumulator()  # the one-off probe, not under test here
    listener.clear()
    yield listener
    client.close()


def _returned_documents(reply: dict) -> list[dict]:
    cursor = reply.get("cursor", {})
    return cursor.get("firstBatch", []) + cursor.get("nextBatch", [])


def _calls():
    start, end = WINDOWS["middle"]
    yield "sold_totals", lambda: stats.sold_totals(start, end)
    for by in stats.BREAKDOWNS:
        yield f"sold_breakdown {by}", lambda by=by: stats.sold_breakdown(start, end, by)
    yield "sold_breakdown product top 3", lambda: stats.sold_breakdown(start, end, "product", 3)
    yield "top_customers", lambda: stats.top_customers(start, end, limit=3)
    yield "customer_totals", lambda: stats.customer_totals("Bob")


@pytest.mark.parametrize("name", [name for name, _ in _calls()])
def test_only_index_served_pipelines_and_no_order_documents_come_back(watched, shop, name):
    call = dict(_calls())[name]
    result = call()
    assert result  # there is data in this window, so the checks below see real replies
    names = {command for command, _ in watched.commands}
    assert "aggregate" in names, f"{name} did not run a pipeline"
    assert names <= {"aggregate", "find", "getMore"}, names
    for command, body in watched.commands:
        if command == "aggregate":
            first = body["pipeline"][0]
            assert "$match" in first, body["pipeline"]
            assert tuple(first["$match"]) in INDEXED_MATCH_FIELDS, first
            stage_names = {next(iter(stage)) for stage in body["pipeline"]}
            assert "$group" in stage_names or "$limit" in stage_names
            assert stage_names <= {"$match", "$unwind", "$group", "$sort", "$limit"}, stage_names
            for stage in body["pipeline"]:
                accumulators = {k: v for k, v in stage.get("$group", {}).items() if k != "_id"}
                for accumulator in accumulators.values():
                    assert not isinstance(accumulator, dict) or set(accumulator) == {"$sum"}
        elif command == "find":
            # Only first/last order time: one document, only its timestamp.
            assert body["limit"] == 1 and body["projection"] == {"_id": 0, "created_at": 1}
            assert tuple(body["filter"]) in INDEXED_MATCH_FIELDS
            assert body["hint"] == stats.CUSTOMER_INDEX
    for command, reply in watched.replies:
        assert "failure" not in reply
        documents = _returned_documents(reply)
        # Grouped rows (at most one per day, product, category or customer), not the ~90 orders.
        assert len(documents) <= 30, (command, len(documents))
        for document in documents:
            assert "items" not in document and "total_cents" not in document, document
            assert not isinstance(document.get("_id"), ObjectId), document


def test_source_has_no_python_side_summing():
    """Every public stats function reaches `.aggregate`; nothing adds numbers up in Python."""
    source = inspect.getsource(stats)
    tree = ast.parse(source)
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    # The one sanctioned arithmetic: an average derived from the two sums the server returned.
    tree.body.remove(functions["_average_half_up"])
    for node in ast.walk(tree):
        assert not isinstance(node, ast.AugAssign), ast.unparse(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"sum", "reduce", "Counter"}, ast.unparse(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            pytest.fail(f"addition in stats.py: {ast.unparse(node)}")
    calls = {
        name: {
            (n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", ""))
            for n in ast.walk(func)
            if isinstance(n, ast.Call)
        }
        for name, func in functions.items()
    }
    assert "aggregate" in calls["_grouped"]
    for public in ("sold_totals", "sold_breakdown", "top_customers", "customer_totals"):
        assert "_grouped" in calls[public], public


def test_probe_matches_what_the_server_does(shop):
    """The accumulator probe agrees with a direct two-accumulator $group on the real data."""
    start, end = WINDOWS["everything"]
    rows = list(
        repository.orders().aggregate(
            [
                {"$match": {"created_at": {"$gte": start, "$lt": end}}},
                {"$group": {"_id": None, "n": {"$sum": 1}, "q": {"$sum": "$quantity"}}},
            ]
        )
    )
    both_filled = rows[0]["n"] > 0 and rows[0]["q"] > 0
    stats._probe_cache.clear()
    assert stats._sums_every_accumulator() is both_filled


def test_match_fields_have_indexes(mongo):
    indexes = {ix["name"]: list(ix["key"]) for ix in repository.orders().list_indexes()}
    assert indexes["created_at"][0] == "created_at"
    assert indexes[stats.CUSTOMER_INDEX][:2] == ["customer", "created_at"]
    # Where the server reports plans (MongoDB), the window $match must be an index scan.
    explain = mongo.command(
        "explain",
        {
            "aggregate": repository.COLLECTION,
            "pipeline": [
                {"$match": {"created_at": {"$gte": ANCHOR - timedelta(days=1), "$lt": ANCHOR}}},
                {"$group": {"_id": None, "n": {"$sum": 1}}},
            ],
            "cursor": {},
        },
    )
    text = str(explain)
    if "winningPlan" in text:
        assert "IXSCAN" in text and "COLLSCAN" not in text
