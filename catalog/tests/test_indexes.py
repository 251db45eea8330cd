"""The indexes init_mongo creates, and that the product reads use them: on MongoDB from the
winning plan, on FerretDB/PostgreSQL from PostgreSQL's own count of index scans."""

import time

import pytest

from catalog import repository as products_repository
from orders import repository as orders_repository
from shopsite import ferretdb_pg
from shopsite.management.commands.init_mongo import init_mongo
from shopsite.mongo import get_client


def _is_ferretdb() -> bool:
    return "ferretdbVersion" in get_client().admin.command("buildInfo")


def _indexes(collection) -> dict[str, dict]:
    return {ix["name"]: dict(ix["key"]) for ix in collection.list_indexes()}


def test_list_indexes_shows_every_index_the_queries_use(mongo):
    init_mongo()  # idempotent over the existing indexes
    products = _indexes(mongo["products"])
    assert products["category"] == {"category": 1, "created_at": -1}
    assert products["created_at"] == {"created_at": -1}
    assert products["available"] == {"available": 1, "created_at": -1}
    orders = _indexes(mongo["orders"])
    assert orders["created_at"] == {"created_at": -1}
    assert orders["customer_created_at"] == {"customer": 1, "created_at": -1}
    assert orders["day"] == {"day": 1}
    # Every index the repositories declare exists.
    for repository, collection in ((products_repository, "products"),
                                   (orders_repository, "orders")):  # fmt: skip
        declared = {model.document["name"] for model in repository.INDEXES}
        assert declared <= set(_indexes(mongo[collection]))


def _index_names(plan) -> set[str]:
    """Every indexName in a MongoDB plan tree."""
    names = set()
    if isinstance(plan, dict):
        if "indexName" in plan:
            names.add(plan["indexName"])
        for value in plan.values():
            names |= _index_names(value)
    elif isinstance(plan, list):
        for value in plan:
            names |= _index_names(value)
    return names


def _winning_plan_or_skip(query: dict) -> dict:
    explain = products_repository.explain_list(query)
    planner = explain.get("queryPlanner", {})
    if "winningPlan" not in planner:
        reason = "FerretDB" if _is_ferretdb() else "this server"
        pytest.skip(
            f"{reason} reports no winningPlan in explain; checked on MongoDB (on "
            "FerretDB/PostgreSQL the GIN index scans are counted instead, below)"
        )
    return planner["winningPlan"]


def test_category_filter_uses_the_category_index(mongo, staff_user):
    from catalog import services

    services.products_create_bulk(
        items=[
            {"name": f"p{i}", "category": f"c{i % 20}", "price_cents": 100, "stock": 1}
            for i in range(200)
        ],
        user_id=staff_user.pk,
    )
    plan = _winning_plan_or_skip(products_repository.list_filter(category="c3"))
    assert "category" in _index_names(plan), plan
    assert "COLLSCAN" not in str(plan)


def test_unfiltered_list_walks_the_created_at_index(mongo):
    plan = _winning_plan_or_skip({})
    assert "created_at" in _index_names(plan), plan
    assert "COLLSCAN" not in str(plan)


def test_explain_on_ferretdb_reports_no_winning_plan(mongo):
    """Documents why the plan assertions above are skipped here."""
    if not _is_ferretdb():
        pytest.skip("not FerretDB")
    explain = products_repository.explain_list({"category": "x"})
    assert "winningPlan" not in explain.get("queryPlanner", {})


@pytest.mark.parametrize(
    "query, index", [({"day": "2026-01-01"}, "day"), ({"customer": "Ada"}, "customer_created_at")]
)
def test_order_lists_use_their_indexes(mongo, query, index):
    # The lists read orders day by day, or one customer's (orders/selectors.py).
    explain = orders_repository.orders().find(query).explain()
    planner = explain.get("queryPlanner", {})
    if "winningPlan" not in planner:
        pytest.skip("the server reports no winningPlan (FerretDB); checked on MongoDB")
    assert index in _index_names(planner["winningPlan"])


def _gin_scans(db_name: str, field: str) -> int:
    table = ferretdb_pg.table_name(db_name, "products")
    return ferretdb_pg.index_scans(db_name, "products")[ferretdb_pg.gin_index_name(table, field)]


@pytest.mark.parametrize("field", ["category", "_id"])
def test_product_reads_use_the_gin_index_on_ferretdb_postgresql(
    mongo, staff_client, staff_user, field
):
    """GET /products/?category= and GET /products/{id}/ as the API runs them: PostgreSQL's
    idx_scan of the field's GIN index goes up (a sequential scan would leave it as it was)."""
    if not ferretdb_pg.on_postgresql(mongo.name):
        pytest.skip("not FerretDB on PostgreSQL; on MongoDB the winning plans are checked above")
    from catalog import services

    services.products_create_bulk(
        items=[
            {"name": f"p{i}", "category": f"c{i % 200}", "price_cents": 100, "stock": 1}
            for i in range(2000)
        ],
        user_id=staff_user.pk,
    )
    init_mongo()  # ANALYZE: the planner sees the data
    before = _gin_scans(mongo.name, field)
    if field == "category":
        response = staff_client.get("/products/?category=c7")
        assert response.status_code == 200 and response.json()["count"] == 10
    else:
        product_id = mongo["products"].find_one({"name": "p1234"})["_id"]
        before = _gin_scans(mongo.name, field)  # the lookup above used it too
        response = staff_client.get(f"/products/{product_id}/")
        assert response.status_code == 200 and response.json()["name"] == "p1234"
    # PostgreSQL publishes a backend's counts within about 10 s.
    deadline = time.monotonic() + 15
    while _gin_scans(mongo.name, field) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _gin_scans(mongo.name, field) > before, f"no GIN index scan for {field}"
