"""Failed-login limits: fixed-window Redis counters per username and per client address.

Once a username (or an address) has LOGIN_MAX_FAILURES_PER_USER (or ..._PER_ADDRESS) failures inside
LOGIN_FAILURE_WINDOW_SECONDS, every further attempt is refused, even with the right password, until
the window that started with the first failure has passed. Counters always carry a TTL.

An attempt takes its slot *before* the password is checked (one atomic script) and a success gives
it back, so many parallel guesses cannot all slip past the check while the hasher runs.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings

from shopsite.api import DomainError
from shopsite.redis_client import lua_script

USER_PREFIX = "login_failures:user:"
ADDRESS_PREFIX = "login_failures:addr:"

# KEYS: counters. ARGV: window seconds, then one limit per key. Returns 0 (slot taken) or the
# milliseconds until the longest-blocked counter's window ends.
_BEGIN = """
local blocked = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local left = redis.call('PTTL', key)
    if left < 0 then left = tonumber(ARGV[1]) * 1000 end
    if left > blocked then blocked = left end
  end
end
if blocked > 0 then return blocked end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[1], 'NX')
end
return 0
"""

# KEYS: username counter, address counter. Success clears the username, returns the address slot.
_SUCCEED = """
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 and tonumber(redis.call('GET', KEYS[2])) > 0 then
  redis.call('DECR', KEYS[2])
end
return 0
"""


class LoginBlocked(DomainError):
    """Too many failed logins; retry_after is in seconds (429 with Retry-After)."""

    status_code = 429

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"Too many failed logins; try again in {self.retry_after} seconds.")


def client_address(request) -> str:
    """REMOTE_ADDR, or the address our own proxy appended to X-Forwarded-For when it is trusted."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The right-most entry is the one the trusted proxy added; the rest is client-supplied.
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:100]
    return (request.META.get("REMOTE_ADDR") or "unknown")[:100]


def _keys(username: str, address: str) -> list[str]:
    # The username is hashed: it is arbitrary client text and should not shape key names.
    return [
        USER_PREFIX + hashlib.sha256(username.encode("utf-8")).hexdigest(),
        ADDRESS_PREFIX + address,
    ]


def attempt_begin(username: str, address: str) -> None:
    """Take a failure slot for this attempt, or raise LoginBlocked if none is left."""
    blocked_ms = lua_script(_BEGIN)(
        keys=_keys(username, address),
        args=[
            settings.LOGIN_FAILURE_WINDOW_SECONDS,
            settings.LOGIN_MAX_FAILURES_PER_USER,
            settings.LOGIN_MAX_FAILURES_PER_ADDRESS,
        ],
    )
    if blocked_ms:
        raise LoginBlocked(math.ceil(int(blocked_ms) / 1000))


def attempt_succeeded(username: str, address: str) -> None:
    """The password was right: clear the username's failures and give the address its slot back."""
    lua_script(_SUCCEED)(keys=_keys(username, address))
