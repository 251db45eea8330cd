"""Fixtures shared by the orders app's tests."""

import random

import pytest

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
