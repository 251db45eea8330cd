"""SessionManager: one session per user in Redis, with a sliding TTL and a token index.

Keys (both always carry the same TTL, set in the same Lua script that writes them):
  session:{user_id}             hash: user_id, session_token, token_hash, login_time, last_active,
                                and the user's claims: username, is_staff, is_admin ("1"/"0")
  session_token:{sha256(token)} string: user_id  (hashed: no usable token is ever a key name)

The claims are what authorization needs, so a bearer request costs one Redis round trip and no
SQL; sessions_app/signals.py rewrites them (or ends the session) when the user's rights change.

Every multi-key change is one Lua script, so it is atomic: a replaced or deleted session's old token
stops resolving at the same instant the new session appears or the old one goes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shopsite.redis_client import get_redis, lua_script
from shopsite.timeutil import iso, utcnow

SESSION_PREFIX = "session:"
TOKEN_PREFIX = "session_token:"
TOKEN_BYTES = 32  # 256 bits of entropy from secrets

# KEYS: session key, new token key. ARGV: user_id, token, token_hash, now, ttl, token prefix,
# then claim field/value pairs.
_CREATE = """
local old = redis.call('HGET', KEYS[1], 'token_hash')
if old then redis.call('DEL', ARGV[6] .. old) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'session_token', ARGV[2], 'token_hash', ARGV[3],
           'login_time', ARGV[4], 'last_active', ARGV[4])
if #ARGV > 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
return redis.call('TTL', KEYS[1])
"""

# KEYS: session key. ARGV: now, ttl, token prefix. Returns {fields..., ttl} or nil.
_TOUCH = """
local th = redis.call('HGET', KEYS[1], 'token_hash')
if not th then return nil end
redis.call('HSET', KEYS[1], 'last_active', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', ARGV[3] .. th, ARGV[2])
return {redis.call('HGETALL', KEYS[1]), redis.call('TTL', KEYS[1])}
"""

# KEYS: token key. ARGV: token_hash, now, ttl, session prefix. Touches only the session this token
# still belongs to (its token_hash matches), so a stale index entry can never revive a session.
_TOUCH_BY_TOKEN = """
local uid = redis.call('GET', KEYS[1])
if not uid then return nil end
local skey = ARGV[4] .. uid
if redis.call('HGET', skey, 'token_hash') ~= ARGV[1] then return nil end
redis.call('HSET', skey, 'last_active', ARGV[2])
redis.call('EXPIRE', skey, ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {redis.call('HGETALL', skey), redis.call('TTL', skey)}
"""

# KEYS: session key. ARGV: token prefix, expected token_hash ('' = any). Returns 1 if deleted.
_DELETE = """
local th = redis.call('HGET', KEYS[1], 'token_hash')
if not th then return 0 end
if ARGV[2] ~= '' and th ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], ARGV[1] .. th)
return 1
"""


# KEYS: session key. ARGV: mode, expected token_hash ('' = any), username, is_staff, is_admin.
# mode 'set' writes the claims; 'revoke' only lowers rights (is_staff/is_admin to '0'), which is
# safe to do before the change that caused it commits. Returns 1 if there was a session.
_SET_CLAIMS = """
local th = redis.call('HGET', KEYS[1], 'token_hash')
if not th then return 0 end
if ARGV[2] ~= '' and th ~= ARGV[2] then return 0 end
if ARGV[1] == 'set' then
  redis.call('HSET', KEYS[1], 'username', ARGV[3], 'is_staff', ARGV[4], 'is_admin', ARGV[5])
else
  if ARGV[4] == '0' then redis.call('HSET', KEYS[1], 'is_staff', '0') end
  if ARGV[5] == '0' then redis.call('HSET', KEYS[1], 'is_admin', '0') end
end
return 1
"""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Claims:
    """What authorization needs to know about the session's user."""

    username: str
    is_staff: bool
    is_admin: bool

    def fields(self) -> list[str]:
        return [
            "username",
            self.username,
            "is_staff",
            "1" if self.is_staff else "0",
            "is_admin",
            "1" if self.is_admin else "0",
        ]

    @classmethod
    def from_fields(cls, fields: dict) -> Claims | None:
        if "is_staff" not in fields:  # a session written before claims existed
            return None
        return cls(
            username=fields.get("username", ""),
            is_staff=fields["is_staff"] == "1",
            is_admin=fields.get("is_admin") == "1",
        )


@dataclass(frozen=True)
class Session:
    user_id: str
    session_token: str
    login_time: str
    last_active: str
    expires_in: int
    claims: Claims | None = None

    def as_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "session_token": self.session_token,
            "login_time": self.login_time,
            "last_active": self.last_active,
            "expires_in": self.expires_in,
        }

    @property
    def token_hash(self) -> str:
        return token_hash(self.session_token)

    def __repr__(self) -> str:  # never show the token in tracebacks or logs
        return f"Session(user_id={self.user_id!r}, expires_in={self.expires_in})"


def _session(fields, ttl) -> Session | None:
    if not fields or ttl is None or int(ttl) < 0:
        return None
    if isinstance(fields, list):  # HGETALL inside Lua comes back as a flat list
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    return Session(
        user_id=fields["user_id"],
        session_token=fields["session_token"],
        login_time=fields["login_time"],
        last_active=fields["last_active"],
        expires_in=int(ttl),
        claims=Claims.from_fields(fields),
    )


class SessionManager:
    """create / get / touch / delete a user's session, and resolve a bearer token to one."""

    def __init__(self, client: redis.Redis | None = None, ttl_seconds: int | None = None):
        self.client = client if client is not None else get_redis()
        self.ttl = int(ttl_seconds if ttl_seconds is not None else settings.SESSION_TTL_SECONDS)
        if self.ttl < 1:
            raise ImproperlyConfigured("SESSION_TTL_SECONDS must be at least 1")
        self._create = lua_script(_CREATE, self.client)
        self._touch = lua_script(_TOUCH, self.client)
        self._touch_by_token = lua_script(_TOUCH_BY_TOKEN, self.client)
        self._delete = lua_script(_DELETE, self.client)
        self._set_claims = lua_script(_SET_CLAIMS, self.client)

    @staticmethod
    def key(user_id) -> str:
        return f"{SESSION_PREFIX}{user_id}"

    @staticmethod
    def token_key(token_hash_hex: str) -> str:
        return f"{TOKEN_PREFIX}{token_hash_hex}"

    def create(self, user_id, claims: Claims | None = None) -> Session:
        """A new session with a fresh token; any previous session of this user is replaced."""
        user_id = str(user_id)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        digest = token_hash(token)
        now = iso(utcnow())
        ttl = self._create(
            keys=[self.key(user_id), self.token_key(digest)],
            args=[
                user_id,
                token,
                digest,
                now,
                self.ttl,
                TOKEN_PREFIX,
                *(claims.fields() if claims else ()),
            ],
        )
        return Session(user_id, token, now, now, int(ttl), claims)

    def set_claims(self, user_id, claims: Claims, *, only_token_hash: str = "") -> bool:
        """Rewrite the session's claims (with only_token_hash: only if it is that session)."""
        args = ["set", only_token_hash, *claims.fields()[1::2]]
        return bool(self._set_claims(keys=[self.key(user_id)], args=args))

    def revoke_claims(self, user_id, claims: Claims) -> bool:
        """Lower the session's rights to at most these claims (never raises them)."""
        args = ["revoke", "", *claims.fields()[1::2]]
        return bool(self._set_claims(keys=[self.key(user_id)], args=args))

    def get(self, user_id) -> Session | None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hgetall(self.key(user_id))
        pipe.ttl(self.key(user_id))
        fields, ttl = pipe.execute()
        return _session(fields, ttl)

    def touch(self, user_id) -> Session | None:
        """Refresh last_active and restart the TTL of both keys; None if there is no session."""
        result = self._touch(keys=[self.key(user_id)], args=[iso(utcnow()), self.ttl, TOKEN_PREFIX])
        return _session(*result) if result else None

    def delete(self, user_id, *, only_token_hash: str = "") -> bool:
        """Delete the session and its token key (with only_token_hash: only if it is that one)."""
        return bool(self._delete(keys=[self.key(user_id)], args=[TOKEN_PREFIX, only_token_hash]))

    def touch_by_token_hash(self, digest: str) -> Session | None:
        result = self._touch_by_token(
            keys=[self.token_key(digest)], args=[digest, iso(utcnow()), self.ttl, SESSION_PREFIX]
        )
        return _session(*result) if result else None

    def authenticate(self, token: str) -> Session | None:
        """The session this bearer token belongs to, touched (sliding expiry); None if invalid."""
        if not token:
            return None
        session = self.touch_by_token_hash(token_hash(token))
        if session is None or not hmac.compare_digest(
            session.session_token.encode(), token.encode()
        ):
            return None
        return session

    def scan(self, batch: int = 500) -> Iterator[Session]:
        """Every live session, found with SCAN (never KEYS), in no particular order."""
        keys: list[str] = []
        for key in self.client.scan_iter(match=f"{SESSION_PREFIX}*", count=batch, _type="hash"):
            keys.append(key)
            if len(keys) >= batch:
                yield from self._fetch(keys)
                keys = []
        if keys:
            yield from self._fetch(keys)

    def _fetch(self, keys: list[str]) -> Iterator[Session]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
            pipe.ttl(key)
        results = pipe.execute()
        for fields, ttl in zip(results[::2], results[1::2], strict=True):
            session = _session(fields, ttl)
            if session is not None:  # expired between SCAN and HGETALL
                yield session


_manager: SessionManager | None = None


def get_session_manager() -> SessionManager:
    """The process's SessionManager on the process's Redis client (rebuilt if either changes)."""
    global _manager
    manager = _manager
    client = get_redis()
    if (
        manager is None
        or manager.client is not client
        or manager.ttl != settings.SESSION_TTL_SECONDS
    ):
        manager = _manager = SessionManager(client)
    return manager
