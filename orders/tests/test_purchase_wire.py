"""What one purchase costs on the wire: MongoDB commands (pymongo command monitoring) and Redis
round trips (every request a connection sends; a pipeline is one) of POST /orders/, single-item
and 3-item, with and without an Idempotency-Key, against the real servers.

Before the round trips were folded (issue 27): single-item 8 MongoDB commands + 6 Redis round
trips without a key, 9 + 8 with one; 3-item 12 + 15 without, 13 + 17 with. Now 4 + 2 for one
item: the intent (an upsert on the key when there is one), the guarded take, the decision (the
sales ledger's entry), the orders; the locks, fencing token and key claim in one script, the
locks' release, events, the key's answer and the finished set in one MULTI. 6 + 2 for three."""

import contextlib
import sys

import pytest
from redis.connection import AbstractConnection

from catalog.tests.helpers import create_product
from orders.tests.conftest import Commands
from shopsite import mongo as shop_mongo

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")

# Each store's ceiling per purchase, by (items, with a key): every command of the request.
CEILINGS = {
    (1, False): {"mongodb": 4, "redis": 2},
    (1, True): {"mongodb": 4, "redis": 2},
    (3, False): {"mongodb": 6, "redis": 2},
    (3, True): {"mongodb": 6, "redis": 2},
}
BEFORE_SINGLE_WITH_KEY = 9 + 8  # issue 27's figure: at most half of it now


def command_names(packed) -> list[str]:
    """The command names in a packed RESP request (one or a pipeline's several)."""
    data = b"".join(bytes(part) for part in packed) if isinstance(packed, list) else packed
    lines = data.split(b"\r\n")
    names, index = [], 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(b"*"):
            arity = int(line[1:])
            names.append(lines[index + 2].decode(errors="replace").upper())
            index += 1 + 2 * arity
        else:
            index += 1
    return names


class RedisTrips:
    """Every request sent on any redis-py connection of this process: one entry per round
    trip, holding the command names it carried."""

    def __init__(self):
        self.seen: list[list[str]] = []

    @contextlib.contextmanager
    def watching(self, monkeypatch):
        real = AbstractConnection.send_packed_command

        def send(connection, command, check_health=True):
            self.seen.append(command_names(command))
            return real(connection, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", send)
        yield self


@contextlib.contextmanager
def every_mongo_command(listener, monkeypatch):
    """Every module's get_db answers a client reporting to the listener (same server, same db)."""
    from django.conf import settings
    from pymongo import MongoClient

    client = MongoClient(settings.MONGODB_URI, tz_aware=True, event_listeners=[listener])
    db = client[settings.MONGODB_DB]
    real = shop_mongo.get_db  # taken first: shopsite.mongo itself is patched in the loop
    for module in list(sys.modules.values()):
        if getattr(module, "get_db", None) is real:
            monkeypatch.setattr(module, "get_db", lambda: db)
    try:
        yield
    finally:
        client.close()


def purchase_cost(client, body, monkeypatch, key=None):
    """(response, MongoDB commands, Redis round trips) of one POST /orders/."""
    mongo_commands, redis_trips = Commands(), RedisTrips()
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    with every_mongo_command(mongo_commands, monkeypatch), redis_trips.watching(monkeypatch):
        response = client.post("/orders/", body, format="json", **headers)
    monkeypatch.undo()
    # endSessions: the counting client's own close.
    names = [name for name, _ in mongo_commands.seen if name != "endSessions"]
    return response, names, redis_trips.seen


@pytest.mark.parametrize("items", [1, 3])
@pytest.mark.parametrize("key", [None, "wire-key"], ids=["no-key", "key"])
def test_round_trips_per_purchase(staff_client, monkeypatch, items, key):
    products = [create_product(staff_client, stock=10) for _ in range(items)]
    body = {
        "customer": "Ada",
        "items": [{"product_id": p["id"], "quantity": 1} for p in products],
    }
    create_product(staff_client, stock=1)  # warm: connections open, scripts loaded
    staff_client.post("/orders/", {**body, "customer": "warm"}, format="json")

    response, mongo_commands, redis_trips = purchase_cost(staff_client, body, monkeypatch, key)

    assert response.status_code == 201, response.content
    # Shown with -s: the figures quoted in the docstring.
    print(f"\n{items} item(s), key {key is not None}: {mongo_commands}, {redis_trips}")
    ceiling = CEILINGS[(items, key is not None)]
    assert len(mongo_commands) <= ceiling["mongodb"], mongo_commands
    assert len(redis_trips) <= ceiling["redis"], redis_trips
    if items == 1:
        assert 2 * (len(mongo_commands) + len(redis_trips)) <= BEFORE_SINGLE_WITH_KEY
