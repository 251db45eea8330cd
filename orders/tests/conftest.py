"""Fixtures shared by the orders app's tests."""

import contextlib
import random

import pytest
from django.conf import settings
from pymongo import MongoClient, monitoring

from orders import repository
from orders.sales import store
from orders.tests.test_stats import build_shop, import_products

SEED = 20261130


@pytest.fixture
def product_ids(staff_client):
    """Eight products in three categories, a million in stock each: their ids."""
    rng = random.Random(SEED)
    specs = [
        {
            "name": f"P{index}",
            "category": ["books", "games", "garden"][index % 3],
            "price": f"{rng.choice([1, 5, 12])}.{rng.choice(['00', '49', '99'])}",
            "stock": 1_000_000,
        }
        for index in range(8)
    ]
    return list(import_products(staff_client, specs))


@pytest.fixture
def shop(mongo, staff_client):
    """Products and ~300 past orders, imported once per test; returns (products, orders)."""
    return build_shop(staff_client)


class Commands(monitoring.CommandListener):
    """Every command started, as (name, body)."""

    def __init__(self):
        self.seen: list[tuple[str, dict]] = []

    def started(self, event):
        self.seen.append((event.command_name, event.command))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@contextlib.contextmanager
def on_the_wire(listener, monkeypatch, modules=(repository, store)):
    """The given repositories' commands (default: the orders' and the sales module's) sent through a
    client that reports them to a pymongo CommandListener (the same real server and database)."""
    client = MongoClient(settings.MONGODB_URI, tz_aware=True, event_listeners=[listener])
    db = client[settings.MONGODB_DB]
    for module in modules:
        monkeypatch.setattr(module, "get_db", lambda: db)
    try:
        yield
    finally:
        client.close()
