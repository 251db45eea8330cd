"""GIN indexes under FerretDB/PostgreSQL: init_mongo creates one per equality field, idempotently
and again after a drop, and equality reads really use them (pg_stat_user_indexes.idx_scan: what
PostgreSQL ran, not FerretDB's explain). Skipped where the server is not FerretDB on PostgreSQL."""

import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from bson import ObjectId
from django.conf import settings

from catalog import repository as products_repository
from orders import repository as orders_repository
from shopsite import ferretdb_pg
from shopsite.management.commands.init_mongo import init_mongo, repositories

# How long PostgreSQL may keep a backend's idx_scan counts before publishing them: a backend
# that published less than 1 s ago waits 10 s (PGSTAT_IDLE_INTERVAL in PostgreSQL 15).
STATS_WAIT_SECONDS = 15


@pytest.fixture
def pg(mongo):
    if not ferretdb_pg.on_postgresql(mongo.name):
        pytest.skip("the server is not FerretDB on PostgreSQL: GIN indexes are a no-op here")
    return mongo


def gin_definitions(db, collection: str) -> dict[str, str]:
    """The GIN indexes on the collection's table, name -> definition, read from PostgreSQL."""
    table = ferretdb_pg.table_name(db.name, collection)
    with psycopg.connect(settings.FERRETDB_POSTGRESQL_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = %s AND tablename = %s AND indexdef LIKE '%%USING gin%%'",
            [db.name, table],
        ).fetchall()
    return dict(rows)


def expected_gin(db, repository) -> dict[str, str]:
    table = ferretdb_pg.table_name(db.name, repository.COLLECTION)
    return {
        ferretdb_pg.gin_index_name(
            table, field
        ): f"USING gin (((_jsonb -> '{field}'::text)) jsonb_path_ops)"
        for field in getattr(repository, "EQUALITY_FIELDS", [])
    }


def assert_gin_indexes(db) -> None:
    for repository in repositories():
        found = gin_definitions(db, repository.COLLECTION)
        expected = expected_gin(db, repository)
        assert set(found) == set(expected), repository.COLLECTION
        for name, expression in expected.items():
            assert expression in found[name], found[name]


def test_repositories_declare_their_equality_fields():
    assert products_repository.EQUALITY_FIELDS == ["_id", "category", "available"]
    assert orders_repository.EQUALITY_FIELDS == ["_id", "day", "hour", "minute", "customer"]


def test_init_mongo_creates_one_gin_index_per_field_idempotently(pg):
    first = init_mongo()
    second = init_mongo()
    assert first == second
    for repository in repositories():
        gins = [name for name in second[repository.COLLECTION] if name.endswith("_gin")]
        assert len(gins) == len(getattr(repository, "EQUALITY_FIELDS", []))
    assert_gin_indexes(pg)


def test_a_dropped_collection_gets_its_gin_indexes_back(pg):
    init_mongo()
    pg.drop_collection("orders")
    pg.create_collection("orders")
    assert gin_definitions(pg, "orders") == {}  # FerretDB dropped the table and its indexes
    init_mongo()
    assert_gin_indexes(pg)


def test_exact_count_counts_the_table(pg):
    pg.orders.insert_many([{"day": "2026-01-01"} for _ in range(120)])
    pg.orders.delete_many({"_id": {"$in": [d["_id"] for d in pg.orders.find().limit(20)]}})
    assert ferretdb_pg.exact_count(pg.name, "orders") == 100
    assert ferretdb_pg.exact_count(pg.name, "no_such_collection") is None


def test_bad_field_names_are_refused(pg):
    with pytest.raises(ValueError, match="items.sku"):
        ferretdb_pg.ensure_gin_indexes(pg.name, "orders", ["items.sku"])


def _seed(db) -> dict:
    """Enough documents, with selective values, that PostgreSQL prefers an index to a scan."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    first_day = date(2025, 1, 1)
    orders = [
        {
            "_id": ObjectId(),
            "day": (first_day + timedelta(days=i % 300)).isoformat(),
            "customer": f"c{i % 300}",
        }
        for i in range(3000)
    ]
    products = [
        {
            "_id": ObjectId(),
            "category": f"cat{i % 100}",
            "available": i % 100 != 0,  # 1% unavailable: selective
            "created_at": created,
        }
        for i in range(3000)
    ]
    db.orders.insert_many(orders)
    db.products.insert_many(products)
    init_mongo()  # ANALYZE: the planner sees the data
    return {"order": orders[1234]["_id"], "product": products[2345]["_id"]}


def test_equality_reads_use_the_gin_indexes(pg):
    ids = _seed(pg)
    reads = {
        ("orders", "_id"): lambda: [pg.orders.find_one({"_id": ids["order"]})],
        ("orders", "day"): lambda: list(pg.orders.find({"day": "2025-01-07"})),
        ("orders", "customer"): lambda: list(pg.orders.find({"customer": "c42"})),
        ("products", "_id"): lambda: [pg.products.find_one({"_id": ids["product"]})],
        ("products", "category"): lambda: list(pg.products.find({"category": "cat7"})),
        ("products", "available"): lambda: list(pg.products.find({"available": False})),
    }
    expected_rows = {"_id": 1, "day": 10, "customer": 10, "category": 30, "available": 30}
    before = {coll: ferretdb_pg.index_scans(pg.name, coll) for coll in ("orders", "products")}
    tables = {coll: ferretdb_pg.table_name(pg.name, coll) for coll in ("orders", "products")}
    for (coll, field), read in reads.items():
        assert len(read()) == expected_rows[field], (coll, field)

    unused = set(reads)
    deadline = time.monotonic() + STATS_WAIT_SECONDS
    while unused and time.monotonic() < deadline:
        time.sleep(0.5)
        after = {coll: ferretdb_pg.index_scans(pg.name, coll) for coll in ("orders", "products")}
        for coll, field in list(unused):
            name = ferretdb_pg.gin_index_name(tables[coll], field)
            if after[coll][name] > before[coll][name]:
                unused.discard((coll, field))
    assert not unused, f"sequential scans instead of the GIN index for {sorted(unused)}"
