"""The sales module's collections: the only module of it that touches MongoDB.

Derived from `orders` (backups leave every `sales_` collection out; a restore rebuilds them):
- `sales_ledger`  one document per change of the sales, inserted once (its `_id` decides it):
                  a purchase {_id: intent id, outcome: "commit" (+ orders) | "abort"} or a status
                  change {_id: "status:<order id>", status, order, ...}; `pass` (0 until a
                  folding pass takes it, then that pass's number) and `folded_at`.
- `sales_hours`   {_id: UTC "YYYY-MM-DDTHH", day (UTC), pass, orders, quantity,
                  revenue_cents, quarters: [orders, quantity, revenue_cents] x4 (flat: FerretDB v1
                  stores no nested arrays), listed,
                  per_minute: [60], fulfilled, cancelled}
- `sales_days`    {_id: the shop's "YYYY-MM-DD", month, pass, orders, quantity, revenue_cents}
- `sales_months`  {_id: the shop's "YYYY-MM", year, pass, orders, quantity, revenue_cents}
- `sales_lines`   {_id: "<kind>:<key>", group: "<kind>:<parent>", pass, products and categories,
                  or customers}: the rows of an hour, day or month apart from its figures, and its
                  customers' rows apart from those (see FerretDB below).
- `sales_customers` {_id: name, pass, orders, total_cents, first_order_at, last_order_at}
- `sales_state`   {_id: "state", next, done, layout, time_zone}

FerretDB v1 (what runs on our machines) shapes three choices, all here:
- Reads match one top-level field by equality (`_id`, `day`, `month`, `year`, `group`, `pass`):
  FerretDB pushes those down to PostgreSQL (GIN indexes, shopsite/ferretdb_pg.py) and decodes
  every document for anything else (`$in`, ranges, sorts).
- `$in` on `_id` is not pushed down, so several ids are read one `find_one` each (`get_each`).
- Updates go one command each: an `update` command of many statements (bulk_write) exhausts
  FerretDB v1.24's PostgreSQL pool under concurrent writes and stalls every client (seen here
  with 4 inserting threads and one bulk of ~100 `UpdateOne`; deletes in bulk are fine).
- It decodes whole documents whatever the projection: rows live apart from figures, so totals
  and day charts never decode a month's product rows, and customers' rows apart from products'
  (a month holds thousands of customers, a few hundred products).
Updates there are read-then-replace, never atomic: only an insert decides anything (the ledger),
and every summary document is written by one folding pass at a time (fold.py).
"""

import contextlib
import contextvars
from collections.abc import Iterable

from django.conf import settings
from pymongo import ASCENDING, DeleteOne, IndexModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_client, get_db, stats_db

from .. import repository
from .figures import CUSTOMER, DAY, HOUR, LINE_PARTS, MONTH

# Bumped when the summaries' shape changes: a store built in another layout is rebuilt.
LAYOUT = "ledger-3"


# Reads (orders/sales/read.py) go where MONGODB_STATS_READ_PREFERENCE says, in one causally
# consistent session: each read sees at least what the read before it saw, on any member, which
# is all the reading protocol needs. Folds and rebuilds read and write the primary.
_stats_session: contextvars.ContextVar = contextvars.ContextVar("sales_stats_reads", default=None)


@contextlib.contextmanager
def stats_reads():
    """Reads of one exact read (read.py), on the stats read preference."""
    if settings.MONGODB_STATS_READ_PREFERENCE == "primary":
        yield  # the default: the primary's reads are in order already
        return
    with get_client().start_session(causal_consistency=True) as session:
        token = _stats_session.set(session)
        try:
            yield
        finally:
            _stats_session.reset(token)


def _session():
    return _stats_session.get()


class SalesCollection:
    """What init_mongo needs of a collection: its name, indexes and equality fields."""

    def __init__(self, name: str, fields: list[str]):
        self.COLLECTION = name
        self.EQUALITY_FIELDS = ["_id", *fields]
        self.INDEXES = [IndexModel([(field, ASCENDING)], name=field) for field in fields]

    def collection(self) -> Collection:
        if _stats_session.get() is not None:
            return stats_db()[self.COLLECTION]
        return get_db()[self.COLLECTION]

    def ensure_indexes(self) -> list[str]:
        return create_each(self.collection(), self.INDEXES) if self.INDEXES else []


LEDGER = SalesCollection("sales_ledger", ["pass"])
HOURS = SalesCollection("sales_hours", ["day"])
DAYS = SalesCollection("sales_days", ["month"])
MONTHS = SalesCollection("sales_months", ["year"])
LINES = SalesCollection("sales_lines", ["group"])
CUSTOMERS = SalesCollection("sales_customers", [])
STATE = SalesCollection("sales_state", [])
SUMMARIES = [HOURS, DAYS, MONTHS, LINES, CUSTOMERS]
ALL = [LEDGER, *SUMMARIES, STATE]
# Collections of the layout before this one: dropped by init_mongo.
OBSOLETE = [
    "sales_dirty", "sales_meta", "sales_day_lines", "sales_day_customers", "sales_month_lines",
    "sales_month_customers", "sales_dirty_hours", "sales_dirty_customers",
]  # fmt: skip

# Where each kind of summary lives: (collection, _id prefix).
PLACES = {
    HOUR: (HOURS, ""),
    DAY: (DAYS, ""),
    MONTH: (MONTHS, ""),
    CUSTOMER: (CUSTOMERS, ""),
    **{kind: (LINES, kind + ":") for kind in LINE_PARTS},
}
# The field a kind's documents are found by (find), and how much of a key names its parent.
_PARENT = {HOUR: "day", DAY: "month", MONTH: "year"}
_PARENT_LENGTH = {"hour": 10, "day": 7, "month": 4}  # a UTC day's hours, a month's days ...


def _parent(kind: str, key: str) -> str:
    return key[: _PARENT_LENGTH[kind.split("_")[0]]]


def _group(kind: str, key: str) -> dict:
    """The fields a summary document is found by besides its `_id`."""
    if kind in _PARENT:
        return {_PARENT[kind]: _parent(kind, key)}
    if kind in LINE_PARTS:
        return {"group": f"{kind}:{_parent(kind, key)}"}
    return {}


def _strip(kind: str, doc: dict | None) -> dict | None:
    if doc is not None:
        prefix = PLACES[kind][1]
        doc["_id"] = doc["_id"][len(prefix) :]
    return doc


# --- summaries ----------------------------------------------------------------------------------


def get(kind: str, key: str) -> dict | None:
    where, prefix = PLACES[kind]
    return _strip(kind, where.collection().find_one({"_id": prefix + key}, session=_session()))


def get_each(kind: str, keys: Iterable[str]) -> dict[str, dict]:
    """The stored summaries of these keys, one `_id` equality each (see FerretDB above)."""
    found = {key: get(kind, key) for key in keys}
    return {key: doc for key, doc in found.items() if doc is not None}


def find(kind: str, parent: str) -> dict[str, dict]:
    """The summaries of a kind under one parent, by equality: a UTC day's hours, a month's days,
    a year's months; parent "": every summary of a kind that has a collection of its own."""
    where, _ = PLACES[kind]
    if not parent:
        if kind not in _PARENT:
            raise ValueError(f"{kind} summaries are found under a parent")
        match = {}
    else:
        match = {_PARENT[kind]: parent} if kind in _PARENT else {"group": f"{kind}:{parent}"}
    docs = (_strip(kind, doc) for doc in where.collection().find(match, session=_session()))
    return {doc["_id"]: doc for doc in docs}


def put(kind: str, key: str, doc: dict) -> None:
    where, prefix = PLACES[kind]
    body = {name: value for name, value in doc.items() if name != "_id"}
    where.collection().replace_one(
        {"_id": prefix + key}, {**body, **_group(kind, key)}, upsert=True
    )


def insert_all(summaries: list[tuple[str, str, dict]]) -> None:
    """Insert new summaries ((kind, key, doc), after a wipe), one command per collection."""
    by_collection: dict[str, list[dict]] = {}
    for kind, key, doc in summaries:
        where, prefix = PLACES[kind]
        body = {name: value for name, value in doc.items() if name != "_id"}
        full = {"_id": prefix + key, **body, **_group(kind, key)}
        by_collection.setdefault(where.COLLECTION, []).append(full)
    for name, docs in by_collection.items():
        get_db()[name].insert_many(docs, ordered=False)


def wipe() -> None:
    """Delete every summary (a rebuild rewrites them)."""
    for where in SUMMARIES:
        where.collection().delete_many({})


# --- the ledger ----------------------------------------------------------------------------------


def insert_once(entry: dict) -> dict:
    """Insert the entry unless one with its `_id` exists; returns the one that is stored (an
    insert is atomic on both servers: the first wins)."""
    try:
        LEDGER.collection().insert_one(entry)
        return entry
    except DuplicateKeyError:
        found = LEDGER.collection().find_one({"_id": entry["_id"]})
        return found if found is not None else insert_once(entry)  # deleted meanwhile


def entry(entry_id) -> dict | None:
    return LEDGER.collection().find_one({"_id": entry_id})


def unfolded() -> list[dict]:
    """The entries no pass has taken yet (their `pass` is 0)."""
    return list(LEDGER.collection().find({"pass": 0}, session=_session()))


def folded_in(pass_number: int) -> list[dict]:
    return list(LEDGER.collection().find({"pass": pass_number}, session=_session()))


def all_entries() -> Iterable[dict]:
    return LEDGER.collection().find({}).batch_size(500)


def stamp(entry_ids: list, pass_number: int, at) -> None:
    """Take the entries into a pass: one update each (see FerretDB above)."""
    for entry_id in entry_ids:
        LEDGER.collection().update_one(
            {"_id": entry_id}, {"$set": {"pass": pass_number, "folded_at": at}}
        )


def decisions_before(cutoff, outcome: str, limit: int) -> list:
    """Purchase decisions older than `cutoff`; commits only once taken by a pass before it that
    has finished (the range is evaluated by FerretDB after decoding: the ledger holds minutes of
    purchases)."""
    match = {"outcome": outcome, "created_at": {"$lt": cutoff}}
    if outcome != "commit":
        return [doc["_id"] for doc in LEDGER.collection().find(match, {"_id": 1}).limit(limit)]
    match["folded_at"] = {"$lt": cutoff}
    done = state().get("done", 0)
    found = LEDGER.collection().find(match, {"_id": 1, "pass": 1}).limit(limit)
    return [doc["_id"] for doc in found if 0 < doc.get("pass", 0) <= done]


def delete_entries(entry_ids: list) -> int:
    """One command of `_id` equalities (FerretDB evaluates `$in` only after decoding every
    entry, each holding its orders)."""
    if not entry_ids:
        return 0
    deletes = [DeleteOne({"_id": entry_id}) for entry_id in entry_ids]
    return LEDGER.collection().bulk_write(deletes, ordered=False).deleted_count


def clear_ledger() -> None:
    LEDGER.collection().delete_many({})


# --- state ---------------------------------------------------------------------------------------


def state() -> dict:
    found = STATE.collection().find_one({"_id": "state"}, session=_session())
    return found or {"next": 1, "done": 0}


def initialize() -> None:
    """A new store (no state, no orders) starts built, in this layout and time zone; one with
    orders and no state waits for a rebuild (refresh_summaries, the worker). Run by init_mongo."""
    if STATE.collection().find_one({"_id": "state"}) is not None or repository.any_order():
        return
    with contextlib.suppress(DuplicateKeyError):  # another process did it
        STATE.collection().insert_one(
            {
                "_id": "state",
                "next": 1,
                "done": 0,
                "layout": LAYOUT,
                "time_zone": settings.SHOP_TIME_ZONE,
            }
        )


def set_state(**fields) -> None:
    STATE.collection().update_one({"_id": "state"}, {"$set": fields}, upsert=True)
