"""The process's one MongoClient, created lazily (after a fork, anew) and closed at exit; a
long-running process builds it at start (shopsite.warmup). Its pool: MONGODB_POOL_SIZE connections.

Replica sets are configuration only: MONGODB_URI names the members and `replicaSet=`; the client
then writes with `w: majority` (unless the URI sets `w`), so an acknowledged order survives the
primary's loss, and `stats_db()` reads with MONGODB_STATS_READ_PREFERENCE.
"""

import contextlib

from bson import ObjectId
from django.conf import settings
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import CollectionInvalid
from pymongo.read_preferences import make_read_preference, read_pref_mode_from_name
from pymongo.uri_parser import parse_uri

from .lazy import PerProcess


def client_options(uri: str) -> dict:
    """MongoClient keyword options; URI options win (keywords would override them)."""
    timeout_ms = int(settings.BACKEND_TIMEOUT_SECONDS * 1000)
    options = {
        "tz_aware": True,
        "serverSelectionTimeoutMS": timeout_ms,
        "connectTimeoutMS": timeout_ms,
        # Long enough for a stats pipeline over a large collection.
        "socketTimeoutMS": int(settings.MONGODB_SOCKET_TIMEOUT_SECONDS * 1000),
        "appname": "shopsite",
    }
    uri_options = parse_uri(uri, validate=False)["options"]
    # A fixed pool, filled by the client's own background task (every second) from its start: a
    # process holds the same connections whatever its traffic was (URI options still win).
    for name in ("minPoolSize", "maxPoolSize"):
        if name not in uri_options:
            options[name] = settings.MONGODB_POOL_SIZE
    if "replicaSet" in uri_options and "w" not in uri_options:
        # A write acknowledged by the primary alone is rolled back if it dies before a
        # secondary copied it; majority-acknowledged writes survive any single member's loss.
        options["w"] = "majority"
    return options


def read_preference(name: str):
    """A pymongo read preference from its mode name (primary, secondaryPreferred, ...)."""
    return make_read_preference(read_pref_mode_from_name(name), None)


def get_db(read_preference_name: str | None = None) -> Database:
    """The shop's database; reads go to the primary unless a read preference is named."""
    if read_preference_name is None:
        return get_client()[settings.MONGODB_DB]
    return get_client().get_database(
        settings.MONGODB_DB, read_preference=read_preference(read_preference_name)
    )


def stats_db() -> Database:
    """The database for sales statistics: MONGODB_STATS_READ_PREFERENCE (default primary) may
    move these heavy aggregation reads to secondaries, at the price of a few seconds' lag."""
    return get_db(settings.MONGODB_STATS_READ_PREFERENCE)


_client = PerProcess(
    build=lambda: MongoClient(settings.MONGODB_URI, **client_options(settings.MONGODB_URI)),
    settings_key=lambda: (settings.MONGODB_URI,),
    close=MongoClient.close,
)
get_client = _client.get
close = _client.close


def warm() -> None:
    """Build the client and reach the server (shopsite.warmup): its pool then fills in the
    background; ServerSelectionTimeoutError if the server is down (the client keeps trying)."""
    get_client().admin.command("ping")


def parse_object_id(value) -> ObjectId | None:
    """ObjectId from a 24-hex string; None for anything else (the caller answers 404)."""
    if isinstance(value, ObjectId):
        return value
    return ObjectId(value) if isinstance(value, str) and ObjectId.is_valid(value) else None


def ensure_indexes(collection, models) -> list[str]:
    """Create indexes one at a time: FerretDB v1.24 drops the connection when a multi-index
    createIndexes names two or more indexes that already exist."""
    return [collection.create_indexes([model])[0] for model in models]


def ensure_collection(db: Database, name: str) -> None:
    """Create the collection unless it exists (init_mongo, idempotent)."""
    with contextlib.suppress(CollectionInvalid):  # exists already
        db.create_collection(name)
