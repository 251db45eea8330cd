"""After every sessions test: no session, token or login-failure key may be left without a TTL."""

import pytest

from shopsite.redis_client import get_redis

OUR_PATTERNS = ("session:*", "session_token:*", "login_failures:*")


def keys_without_ttl(client) -> list[str]:
    bad = []
    for pattern in OUR_PATTERNS:
        for key in client.scan_iter(match=pattern, count=500):
            if client.ttl(key) == -1:
                bad.append(key)
    return bad


@pytest.fixture(autouse=True)
def _no_key_without_ttl(request):
    yield
    if "redis_client" not in request.fixturenames:
        return
    try:
        bad = keys_without_ttl(get_redis())
    except Exception:  # a fault test may have left Redis restarting; it checks itself
        return
    assert not bad, f"keys without a TTL after {request.node.name}: {bad}"
