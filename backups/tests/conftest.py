"""Backups tests run the real mongodump/mongorestore against the real server, in the test run's own
database and BACKUP_DIR (settings_test: .services/test-backups/<SHOPSITE_TEST_ID>)."""

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bson import ObjectId
from django.conf import settings

from backups import repository
from orders.documents import order_document

TOOLS_DIR = Path("/var/tmp/shopsite-cache/bin")
ROOT = Path(settings.BASE_DIR)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidate = TOOLS_DIR / name
    if candidate.exists():
        return str(candidate)
    pytest.fail(f"{name} not found on PATH nor in {TOOLS_DIR}: run scripts/services.sh up")


@pytest.fixture(autouse=True)
def tools(settings, monkeypatch):
    """Full paths of the tools, for this process and for the commands run as child processes."""
    for name in ("mongodump", "mongorestore"):
        path = _tool(name)
        setattr(settings, f"{name.upper()}_BIN", path)
        monkeypatch.setenv(f"{name.upper()}_BIN", path)


@pytest.fixture(autouse=True)
def _only_shop_collections(request):
    """Only products and orders, before and after the test: a collection another test added, or
    one init_mongo created empty (the purchase journal), would show up in this test's backups
    (whether it does would depend on which tests ran before)."""

    def drop_others(db):
        for name in db.list_collection_names():
            if name not in ("products", "orders"):
                db.drop_collection(name)

    if "mongo" in request.fixturenames:
        drop_others(request.getfixturevalue("mongo"))
    yield
    if "mongo" in request.fixturenames:
        drop_others(request.getfixturevalue("mongo"))


@pytest.fixture
def backup_dir(settings):
    """An empty BACKUP_DIR (the settings_test one, so child processes use it too)."""
    path = Path(settings.BACKUP_DIR)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def manage(*args: str, env: dict | None = None, timeout: float = 120):
    """Run manage.py as cron or the web worker would: a separate process."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def seed(db, orders: int = 30, products: int = 5) -> None:
    """Documents in the agreed shapes (helper-datamodel), with dates, ids and nested items."""
    created = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    product_ids = []
    for i in range(products):
        result = db.products.insert_one(
            {
                "name": f"Product {i}",
                "name_lower": f"product {i}",
                "category": "cat-a" if i % 2 else "cat-b",
                "price_cents": 100 + i,
                "stock": 10 * i,
                "available": i != 3,
                "description": "",
                "created_at": created,
                "updated_at": created,
            }
        )
        product_ids.append(result.inserted_id)
    docs = []
    for i in range(orders):
        product = {
            "_id": product_ids[i % products],
            "name": f"Product {i % products}",
            "category": "cat-a",
            "price_cents": 100 + i % products,
        }
        docs.append(
            order_document(
                customer=f"customer-{i % 7}",
                lines=[(product, 1 + i % 3)],
                created_at=created.replace(minute=i % 60),
                created_by="1",
                order_id=ObjectId(),
            )
        )
    db.orders.insert_many(docs)


def snapshot(db) -> dict:
    """Every backed-up collection's documents (the derived `sales_` ones are never backed up:
    a restore has them rebuilt)."""
    return {
        name: sorted(db[name].find({}), key=lambda doc: str(doc["_id"]))
        for name in sorted(db.list_collection_names())
        if not name.startswith("sales_")
    }


def index_names(db) -> dict:
    return {
        name: sorted(db[name].index_information())
        for name in db.list_collection_names()
        if not name.startswith("sales_")
    }


def wait_for(predicate, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def good_backups() -> list[str]:
    return [
        name
        for name in repository.manifest_names()
        if (repository.manifest_read(name) or {}).get("status") == "ok"
        and repository.archive_path(name).exists()
    ]
