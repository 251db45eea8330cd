"""SessionManager against the real Redis: every verb, TTLs, replacement, atomicity."""

import threading
import time

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from sessions_app.manager import Session, SessionManager, token_hash
from sessions_app.tests.conftest import keys_without_ttl


@pytest.fixture
def manager(redis_client):
    return SessionManager()


def test_create_stores_hash_and_token_index(manager, redis_client):
    session = manager.create(42)
    assert isinstance(session, Session)
    assert session.user_id == "42"
    assert 1790 < session.expires_in <= 1800
    stored = redis_client.hgetall("session:42")
    assert stored["user_id"] == "42"
    assert stored["session_token"] == session.session_token
    assert stored["login_time"] == session.login_time == stored["last_active"]
    assert redis_client.type("session:42") == "hash"
    assert 1790 < redis_client.ttl("session:42") <= 1800
    index = f"session_token:{token_hash(session.session_token)}"
    assert redis_client.get(index) == "42"
    assert 1790 < redis_client.ttl(index) <= 1800


def test_tokens_are_long_and_unique(manager):
    tokens = {manager.create(i).session_token for i in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 for t in tokens)  # >= 256 bits, base64url


def test_get(manager):
    assert manager.get(7) is None
    created = manager.create(7)
    got = manager.get("7")
    assert got.session_token == created.session_token
    assert got.login_time == created.login_time
    assert 1790 < got.expires_in <= 1800


def test_touch_restores_ttl_and_last_active(manager, redis_client):
    created = manager.create(5)
    index = f"session_token:{token_hash(created.session_token)}"
    redis_client.expire("session:5", 10)
    redis_client.expire(index, 10)
    time.sleep(0.01)
    touched = manager.touch(5)
    assert touched.session_token == created.session_token
    assert touched.login_time == created.login_time
    assert touched.last_active >= created.last_active
    assert 1798 <= touched.expires_in <= 1800
    assert redis_client.ttl("session:5") >= 1798
    assert redis_client.ttl(index) >= 1798


def test_touch_missing_is_none_and_creates_nothing(manager, redis_client):
    assert manager.touch(99) is None
    assert redis_client.exists("session:99") == 0


def test_delete_removes_both_keys(manager, redis_client):
    session = manager.create(3)
    assert manager.delete(3) is True
    assert redis_client.exists("session:3") == 0
    assert redis_client.exists(f"session_token:{token_hash(session.session_token)}") == 0
    assert manager.authenticate(session.session_token) is None
    assert manager.delete(3) is False


def test_delete_only_token_hash_keeps_newer_session(manager):
    old = manager.create(3)
    new = manager.create(3)
    assert manager.delete(3, only_token_hash=old.token_hash) is False
    assert manager.get(3).session_token == new.session_token
    assert manager.delete(3, only_token_hash=new.token_hash) is True


def test_replace_invalidates_old_token_at_once(manager, redis_client):
    old = manager.create(8)
    new = manager.create(8)
    assert manager.authenticate(old.session_token) is None
    assert redis_client.exists(f"session_token:{old.token_hash}") == 0
    assert manager.authenticate(new.session_token).user_id == "8"


def test_authenticate_touches(manager, redis_client):
    session = manager.create(9)
    redis_client.expire("session:9", 10)
    assert manager.authenticate(session.session_token).expires_in >= 1798
    assert redis_client.ttl(f"session_token:{session.token_hash}") >= 1798


def test_stale_index_entry_never_authenticates(manager, redis_client):
    # Even if an old index key somehow survived, it no longer matches the session's token.
    old = manager.create(4)
    manager.create(4)
    redis_client.set(f"session_token:{old.token_hash}", "4", ex=60)
    assert manager.authenticate(old.session_token) is None


def test_scan_finds_every_session(manager):
    for i in range(1, 1203):
        manager.create(i)
    found = {s.user_id for s in manager.scan(batch=100)}
    assert found == {str(i) for i in range(1, 1203)}


def test_repr_hides_token(manager):
    session = manager.create(1)
    assert session.session_token not in repr(session)


@pytest.mark.django_db
def test_expiry_after_ttl_and_token_401(staff_user, redis_client):
    with override_settings(SESSION_TTL_SECONDS=2):
        session = SessionManager().create(staff_user.pk)
        assert session.expires_in <= 2
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {session.session_token}")
        time.sleep(3)
        assert SessionManager().get(staff_user.pk) is None
        assert redis_client.exists(f"session_token:{session.token_hash}") == 0
        assert client.get(f"/session/{staff_user.pk}/").status_code == 401


def test_concurrent_creates_leave_exactly_one_consistent_session(redis_client):
    manager = SessionManager()
    results: list[Session] = []
    lock = threading.Lock()

    def worker():
        for _ in range(50):
            session = SessionManager().create(11)
            with lock:
                results.append(session)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    current = manager.get(11)
    token_keys = list(redis_client.scan_iter(match="session_token:*"))
    assert token_keys == [f"session_token:{current.token_hash}"]
    live = [s for s in results if manager.authenticate(s.session_token) is not None]
    assert [s.session_token for s in live] == [current.session_token]


def test_concurrent_touch_and_delete_leave_no_orphan(redis_client):
    manager = SessionManager()
    stop = threading.Event()

    def toucher():
        while not stop.is_set():
            manager.touch(12)

    threads = [threading.Thread(target=toucher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(200):
        manager.create(12)
        manager.delete(12)
    stop.set()
    for thread in threads:
        thread.join()
    assert redis_client.exists("session:12") == 0
    assert not list(redis_client.scan_iter(match="session_token:*"))


def test_no_session_key_without_ttl_after_all_operations(redis_client):
    manager = SessionManager()
    for i in range(20):
        manager.create(i)
        manager.touch(i)
    for i in range(0, 20, 2):
        manager.create(i)
    for i in range(0, 20, 3):
        manager.delete(i)
    assert keys_without_ttl(redis_client) == []
    keys = list(redis_client.scan_iter(match="session*"))
    assert keys and all(redis_client.ttl(k) > 0 for k in keys)


def test_ttl_must_be_positive(redis_client):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        SessionManager(ttl_seconds=0)
