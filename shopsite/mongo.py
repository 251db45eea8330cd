"""The process's one MongoClient, created lazily (after a fork, anew) and closed at exit."""

import atexit
import os
import threading

from django.conf import settings
from pymongo import MongoClient
from pymongo.database import Database

_lock = threading.Lock()
_client: MongoClient | None = None
_client_key: tuple[int, str] | None = None


def get_client() -> MongoClient:
    global _client, _client_key
    key = (os.getpid(), settings.MONGODB_URI)
    if _client is not None and _client_key == key:
        return _client
    with _lock:
        if _client is None or _client_key != key:
            timeout_ms = int(settings.BACKEND_TIMEOUT_SECONDS * 1000)
            _client = MongoClient(
                settings.MONGODB_URI,
                tz_aware=True,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                # Long enough for a stats pipeline over a large collection.
                socketTimeoutMS=int(settings.MONGODB_SOCKET_TIMEOUT_SECONDS * 1000),
                appname="shopsite",
            )
            _client_key = key
    return _client


def get_db() -> Database:
    return get_client()[settings.MONGODB_DB]


def close() -> None:
    global _client, _client_key
    if _client is not None and _client_key and _client_key[0] == os.getpid():
        _client.close()
    _client = None
    _client_key = None


atexit.register(close)


def ensure_indexes(collection, models) -> list[str]:
    """Create indexes one at a time: FerretDB v1.24 drops the connection when a multi-index
    createIndexes names two or more indexes that already exist."""
    return [collection.create_indexes([model])[0] for model in models]
