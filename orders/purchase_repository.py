"""The purchase journal: the only module that touches its stores.

- `order_intents` (MongoDB): one document per purchase in progress, written before any stock
  is taken: {_id, created_at, user_id, bulk, quantities: [{product_id, quantity}], order_ids,
  idempotency_key, idempotency_token}. Deleted when the purchase is finished or undone.
  Orders lists and stats never read it.
- the outcome: the one decision per intent, {_id: intent id, outcome: "commit" (with the
  order documents) | "abort", created_at}, an entry of the sales ledger (orders/sales).
  Decided by inserting it: the unique `_id` makes the first insert win on MongoDB and on
  FerretDB alike (an insert is atomic on both, unlike FerretDB's read-then-replace updates),
  so a purchase and the recovery can never decide differently.
- `order-intents:finished` (Redis set): intents placed and answered, whose stock marks and
  document the recovery clears in batches. If Redis loses it, the recovery finishes those
  intents again (idempotent) after their age threshold.
- `idempotency:<user>:<sha256(key)>` (Redis, with a TTL): a claimed Idempotency-Key, JSON
  {state: "pending" | "done", fingerprint, token, order_ids, bulk}. The purchase claims it in
  the script that takes its stock locks (catalog/locks.py), and stores "done" with the rest of
  its bookkeeping in one MULTI (shopsite.redis_client.Batch).
"""

import json

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db
from shopsite.redis_client import get_redis, lua_script

from . import sales

COLLECTION = "order_intents"
INDEXES = [
    IndexModel([("created_at", ASCENDING)], name="created_at"),
    IndexModel([("idempotency_key", ASCENDING)], name="idempotency_key"),
]
COMMIT, ABORT = sales.COMMIT, sales.ABORT


def intents() -> Collection:
    return get_db()[COLLECTION]


def ensure_indexes() -> list[str]:
    return create_each(intents(), INDEXES)


# --- intents --------------------------------------------------------------------------------------
def intent_insert(doc: dict) -> dict:
    intents().insert_one(doc)
    return doc


def intent_insert_unless_key_held(doc: dict) -> bool:
    """Insert an intent carrying an Idempotency-Key unless another intent holds that key (an
    earlier attempt, crashed, whose claim lapsed before the recovery got to it): False then.
    One command (an upsert on the key). Not atomic on FerretDB, and it need not be: the caller
    holds the key's claim, so only a dead attempt's intent can be there."""
    result = intents().update_one(
        {"idempotency_key": doc["idempotency_key"]}, {"$setOnInsert": doc}, upsert=True
    )
    return result.upserted_id is not None


def intent_delete(intent_id: ObjectId) -> None:
    intents().delete_one({"_id": intent_id})


def intents_created_before(cutoff, *, limit: int) -> list[dict]:
    return list(intents().find({"created_at": {"$lt": cutoff}}).sort("created_at", 1).limit(limit))


def intents_by_ids(intent_ids: list[ObjectId]) -> list[dict]:
    return list(intents().find({"_id": {"$in": intent_ids}}))


def intents_delete(intent_ids: list[ObjectId]) -> None:
    if intent_ids:
        intents().delete_many({"_id": {"$in": intent_ids}})


FINISHED = "order-intents:finished"


def intent_mark_finished(intent_id: ObjectId, batch=None) -> None:
    """Now, or with `batch` (shopsite.redis_client.Batch) when the caller sends it."""
    if batch is not None:
        batch.add(lambda pipe: pipe.sadd(FINISHED, str(intent_id)))
    else:
        get_redis().sadd(FINISHED, str(intent_id))


def intent_is_finished(intent_id: ObjectId) -> bool:
    return bool(get_redis().sismember(FINISHED, str(intent_id)))


def intents_finished(intent_ids: list[str]) -> set[str]:
    """Those of the intents that are finished."""
    if not intent_ids:
        return set()
    flags = get_redis().smismember(FINISHED, intent_ids)
    return {i for i, flag in zip(intent_ids, flags, strict=True) if flag}


def finished_intent_ids(limit: int) -> list[str]:
    return list(get_redis().srandmember(FINISHED, limit) or [])


def finished_forget(intent_ids: list[str]) -> None:
    if intent_ids:
        get_redis().srem(FINISHED, *intent_ids)


def intent_count() -> int:
    return intents().count_documents({})


# --- outcomes: the purchase's entry in the sales ledger (orders/sales) ---------------------------
def outcome_decide(intent_id: ObjectId, outcome: str, *, now, orders: list[dict] | None = None):
    """Record the outcome unless one is recorded already; returns the outcome that holds. A
    commit is the purchase's entry in the sales ledger: its figures count from this insert on."""
    return sales.purchase_decide(intent_id, outcome, orders=orders or [], now=now)


def outcome_get(intent_id: ObjectId) -> dict | None:
    return sales.decision(intent_id)


def outcomes_created_before(cutoff, *, outcome: str, limit: int) -> list[ObjectId]:
    """Outcomes decided before `cutoff`; a commit only once folded into the summaries before
    it (reads add unfolded and just-folded entries: docs/sales-summaries.md)."""
    return sales.decisions_before(cutoff, outcome=outcome, limit=limit)


# --- idempotency keys (Redis) ---------------------------------------------------------------------
# Delete the record only if it is still the given claim's pending record.
_RELEASE = """
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local record = cjson.decode(value)
if record['state'] == 'pending' and record['token'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def idempotency_claim(key: str, record: dict, *, ttl: int) -> dict | None:
    """Store the record if the key is free (atomic); else the record that holds the key."""
    client = get_redis()
    for _ in range(3):
        if client.set(key, json.dumps(record), nx=True, ex=ttl):
            return None
        value = client.get(key)
        if value is not None:
            return json.loads(value)
    raise RuntimeError("idempotency key kept changing")  # expiring exactly then, thrice


def idempotency_store(key: str, record: dict, *, ttl: int, batch=None) -> None:
    """Now, or with `batch` (shopsite.redis_client.Batch) when the caller sends it."""
    if batch is not None:
        batch.add(lambda pipe: pipe.set(key, json.dumps(record), ex=ttl))
    else:
        get_redis().set(key, json.dumps(record), ex=ttl)


def idempotency_encode(record: dict) -> str:
    """A claim's record as stored (the purchase claims the key with its stock locks)."""
    return json.dumps(record)


def idempotency_decode(value: str) -> dict:
    return json.loads(value)


def idempotency_release(key: str, token: str) -> bool:
    return bool(lua_script(_RELEASE)(keys=[key], args=[token]))


def idempotency_get(key: str) -> dict | None:
    value = get_redis().get(key)
    return None if value is None else json.loads(value)


def outcomes_delete_without_intent(intent_ids: list[ObjectId]) -> int:
    """Delete those outcomes whose intent no longer exists (nothing can decide them again)."""
    alive = {doc["_id"] for doc in intents().find({"_id": {"$in": intent_ids}}, {"_id": 1})}
    return sales.decisions_forget([i for i in intent_ids if i not in alive])
