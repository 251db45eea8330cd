"""A restore on FerretDB/PostgreSQL: mongorestore --drop drops the tables' GIN indexes; the restore
creates them again, and counts exactly (FerretDB's $collStats there is an estimate)."""

import pytest

from backups import selectors, services
from shopsite import ferretdb_pg
from shopsite.tests.test_ferretdb_pg import assert_gin_indexes, gin_definitions

from .conftest import seed, snapshot


def test_restore_recreates_the_gin_indexes(mongo, backup_dir, redis_client):
    if not ferretdb_pg.on_postgresql(mongo.name):
        pytest.skip("not FerretDB on PostgreSQL: no GIN indexes to recreate")
    seed(mongo, orders=40, products=4)
    before = snapshot(mongo)
    name = services.backup_run()["name"]
    mongo.orders.delete_many({"quantity": 1})
    # The planner's statistics lag behind the delete: the preview counts the table itself.
    replaced = {row["collection"]: row for row in selectors.restore_preview(name=name)["replaced"]}
    assert replaced["orders"]["current"] == mongo.orders.count_documents({}) < 40
    assert replaced["orders"]["backup"] == 40

    services.restore_run(name=name)

    assert snapshot(mongo) == before
    assert gin_definitions(mongo, "orders")
    assert_gin_indexes(mongo)
