"""The purchase with its round trips folded (issue 27), where the folding could go wrong: a
crashed attempt's intent still holding a key whose claim lapsed, refusals found only when
taking (no pre-read), the bookkeeping's one MULTI refused or lost (events spooled, the
recovery finishing the rest), and the locks held from before the intent to the end."""

import json
import shutil

import pytest
from bson import ObjectId
from django.conf import settings
from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError

from catalog import repository as catalog_repository
from catalog.locks import lock_key
from catalog.tests.helpers import create_product, events
from orders import purchase_repository, services
from orders.tests.test_purchase_races import buy, product
from shopsite.redis_client import Batch
from shopsite.timeutil import utcnow

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")
UNKNOWN = str(ObjectId())


def place(client, items, key=None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    body = {"customer": "Ada", "items": items}
    return client.post("/orders/", body, format="json", **headers)


def stock(product_id: str) -> int:
    return catalog_repository.find_by_id(ObjectId(product_id))["stock"]


@pytest.fixture
def spool():
    shutil.rmtree(settings.EVENT_SPOOL_DIR, ignore_errors=True)
    yield
    shutil.rmtree(settings.EVENT_SPOOL_DIR, ignore_errors=True)


def spooled() -> list[dict]:
    lines = []
    for path in sorted(settings.EVENT_SPOOL_DIR.glob("*")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line]
    return lines


def test_a_dead_attempts_intent_keeps_its_key_in_use(staff_client, staff_user, redis_client):
    """Its claim lapsed while the recovery has not run: 409, nothing taken, the key free again
    for a retry once the recovery has undone the dead attempt."""
    mug = create_product(staff_client, stock=10)
    record_key = services.idempotency_record_key(user_id=staff_user.pk, key="k")
    purchase_repository.intent_insert(
        {
            "_id": ObjectId(),
            "created_at": utcnow(),
            "user_id": str(staff_user.pk),
            "bulk": False,
            "quantities": [],
            "order_ids": [ObjectId()],
            "idempotency_key": record_key,
            "idempotency_token": "dead",
            "fingerprint": "f",
        }
    )
    items = [{"product_id": mug["id"], "quantity": 2}]
    assert place(staff_client, items, key="k").status_code == 409
    assert stock(mug["id"]) == 10
    assert redis_client.get(record_key) is None  # our claim given back
    assert redis_client.exists(lock_key(mug["id"])) == 0
    assert purchase_repository.intent_count() == 1
    services.order_intents_recover(older_than_seconds=0)
    assert place(staff_client, items, key="k").status_code == 201
    assert stock(mug["id"]) == 8


def test_refusals_still_name_every_unorderable_item_before_a_stock_conflict(staff_client, mongo):
    """Found when taking (no read before): the first product lacks stock, the second is
    missing: 400 naming the second, as when products were read first; nothing taken."""
    low = create_product(staff_client, stock=1)
    response = place(
        staff_client,
        [{"product_id": low["id"], "quantity": 5}, {"product_id": UNKNOWN, "quantity": 1}],
    )
    assert response.status_code == 400
    assert response.json()["errors"]["items"] == [{}, {"product_id": ["Unknown product."]}]
    assert stock(low["id"]) == 1
    assert purchase_repository.intent_count() == 0
    assert mongo["orders"].count_documents({}) == 0


def test_a_stock_conflict_frees_the_locks_and_the_key(staff_client, redis_client):
    low = create_product(staff_client, stock=1)
    items = [{"product_id": low["id"], "quantity": 2}]
    response = place(staff_client, items, key="retry-me")
    assert response.status_code == 409 and response.json()["available"] == 1
    assert redis_client.exists(lock_key(low["id"])) == 0
    assert not [k for k in redis_client.keys("idempotency:*")]
    assert purchase_repository.intent_count() == 0


def test_the_locks_are_held_until_the_bookkeeping_is_sent(mongo, redis_client, monkeypatch):
    doc = product(stock=10)
    seen = []
    real_send = Batch.send

    def send(batch):
        seen.append(redis_client.exists(lock_key(doc["_id"])))
        return real_send(batch)

    monkeypatch.setattr(Batch, "send", send)
    buy(doc, 1)
    assert seen == [1]
    assert redis_client.exists(lock_key(doc["_id"])) == 0


def test_events_refused_by_a_full_outbox_in_the_batch_are_spooled(mongo, spool, settings):
    doc = product(stock=10)
    settings.EVENT_OUTBOX_MAX_PENDING = 0
    order = buy(doc, 3)
    assert sorted(e["event_type"] for e in spooled()) == ["order_created", "stock_changed"]
    assert purchase_repository.finished_intent_ids(10) == [
        str(purchase_repository.intents().find_one()["_id"])
    ]
    assert str(order["_id"]) in json.dumps(spooled())


def test_a_lost_bookkeeping_batch_is_finished_by_the_recovery(
    staff_client, mongo, redis_client, spool, monkeypatch, settings
):
    """The MULTI never reached Redis (answered 201 all the same): the events go to the spool,
    the locks expire, and the recovery records the key's answer and settles the purchase."""
    settings.STOCK_LOCK_TIMEOUT_SECONDS = 0.3
    mug = create_product(staff_client, stock=10)
    items = [{"product_id": mug["id"], "quantity": 2}]

    def lost(pipeline, **kwargs):
        raise RedisConnectionError("redis went away")

    monkeypatch.setattr(Pipeline, "execute", lost)  # the request's only pipeline: its MULTI
    first = place(staff_client, items, key="lost")
    monkeypatch.undo()
    assert first.status_code == 201
    assert sorted(e["event_type"] for e in spooled()) == ["order_created", "stock_changed"]
    assert purchase_repository.finished_intent_ids(10) == []
    assert services.order_intents_recover(older_than_seconds=0)["placed"] == 1
    again = place(staff_client, items, key="lost")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert stock(mug["id"]) == 8
    assert [e["metadata"] for e in events(redis_client, "order_created")]  # recorded again
    services.order_intents_recover(older_than_seconds=3600)
    assert purchase_repository.intent_count() == 0
    assert mongo["orders"].count_documents({}) == 1
