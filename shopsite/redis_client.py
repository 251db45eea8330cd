"""The process's one Redis client (a connection pool), created lazily and closed at exit."""

import atexit
import os
import threading

import redis
from django.conf import settings

_lock = threading.Lock()
_client: redis.Redis | None = None
_client_key: tuple[int, str] | None = None


def get_redis() -> redis.Redis:
    global _client, _client_key
    key = (os.getpid(), settings.REDIS_URL)
    if _client is not None and _client_key == key:
        return _client
    with _lock:
        if _client is None or _client_key != key:
            _client = redis.Redis.from_url(
                settings.REDIS_URL,
                decode_responses=True,
                socket_connect_timeout=settings.BACKEND_TIMEOUT_SECONDS,
                socket_timeout=settings.BACKEND_TIMEOUT_SECONDS,
                health_check_interval=30,
            )
            _client_key = key
    return _client


def close() -> None:
    global _client, _client_key
    if _client is not None and _client_key and _client_key[0] == os.getpid():
        _client.close()
    _client = None
    _client_key = None


atexit.register(close)
