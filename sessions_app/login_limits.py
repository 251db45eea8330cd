"""Failed-login limits: fixed-window Redis counters per username and per client address.

Once a username (or an address) has LOGIN_MAX_FAILURES_PER_USER (or ..._PER_ADDRESS) failures inside
LOGIN_FAILURE_WINDOW_SECONDS, every further attempt is refused, even with the right password, until
the window that started with the first failure has passed. Counters always carry a TTL.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings

from shopsite.redis_client import get_redis

USER_PREFIX = "login_failures:user:"
ADDRESS_PREFIX = "login_failures:addr:"


class LoginBlocked(Exception):
    """Too many failed logins; retry_after is in seconds."""

    def __init__(self, retry_after: int, scope: str):
        super().__init__(f"too many failed logins for this {scope}")
        self.retry_after = max(1, int(retry_after))
        self.scope = scope


def client_address(request) -> str:
    """REMOTE_ADDR, or the address our own proxy appended to X-Forwarded-For when it is trusted."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The right-most entry is the one the trusted proxy added; the rest is client-supplied.
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:100]
    return (request.META.get("REMOTE_ADDR") or "unknown")[:100]


def _user_key(username: str) -> str:
    # Hashed: usernames are arbitrary client text and should not shape key names.
    return USER_PREFIX + hashlib.sha256(username.encode("utf-8")).hexdigest()


def _address_key(address: str) -> str:
    return ADDRESS_PREFIX + address


def _limits(username: str, address: str) -> list[tuple[str, int, str]]:
    return [
        (_user_key(username), settings.LOGIN_MAX_FAILURES_PER_USER, "username"),
        (_address_key(address), settings.LOGIN_MAX_FAILURES_PER_ADDRESS, "address"),
    ]


def check(username: str, address: str) -> None:
    """Raise LoginBlocked if this username or address has used up its failures."""
    limits = _limits(username, address)
    pipe = get_redis().pipeline(transaction=False)
    for key, _, _ in limits:
        pipe.get(key)
        pipe.pttl(key)
    results = pipe.execute()
    blocked: list[tuple[int, str]] = []
    for (_, limit, scope), count, pttl in zip(limits, results[::2], results[1::2], strict=True):
        if count is not None and int(count) >= limit:
            window_left = (
                pttl if pttl and pttl > 0 else settings.LOGIN_FAILURE_WINDOW_SECONDS * 1000
            )
            blocked.append((math.ceil(window_left / 1000), scope))
    if blocked:
        retry_after, scope = max(blocked)
        raise LoginBlocked(retry_after, scope)


def record_failure(username: str, address: str) -> None:
    """Count one failed login against the username and the address (window starts at the first)."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    pipe = get_redis().pipeline(transaction=True)
    for key, _, _ in _limits(username, address):
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
    pipe.execute()


def reset(username: str) -> None:
    """Forget a username's failures (after a successful login); the address count stays."""
    get_redis().delete(_user_key(username))
