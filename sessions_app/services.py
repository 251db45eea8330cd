"""Business rules: logging in, starting and ending a user's session, who may manage which."""

from __future__ import annotations

import logging

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import update_last_login
from django.db import transaction

from eventlog.services import event_record
from shopsite.api import DomainError, NotFoundError

from .manager import Claims, Session, SessionManager, get_session_manager
from .permissions import user_is_admin

logger = logging.getLogger(__name__)


class InvalidCredentials(DomainError):
    status_code = 401

    def __init__(self):
        super().__init__("Invalid username or password.")

    def headers(self) -> dict:
        return {"WWW-Authenticate": 'Bearer realm="api"'}


class SessionForbidden(DomainError):
    """A staff user asked for another user's session."""

    status_code = 403

    def __init__(self):
        super().__init__("You may only manage your own session.")


class UserNotFound(NotFoundError):
    def __init__(self):
        super().__init__("No active user with this id.")


class SessionNotFound(NotFoundError):
    """The user has no session (never started, ended or expired)."""

    def __init__(self):
        super().__init__("No active session for this user.")


def session_manager() -> SessionManager:
    return get_session_manager()


def user_claims(user) -> Claims:
    """What a session carries for authorization (one query for a non-superuser's groups)."""
    return Claims(
        username=user.get_username(), is_staff=bool(user.is_staff), is_admin=user_is_admin(user)
    )


def _active_user(user_id):
    try:
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()
    except (ValueError, TypeError):
        return None


def session_start(*, user, via: str) -> Session:
    """Create (or replace) the user's session and record `session_created`."""
    session = session_manager().create(user.pk, user_claims(user))
    event_record(event_type="session_created", user_id=session.user_id, metadata={"via": via})
    logger.info("session created for user %s via %s", session.user_id, via)
    return session


def session_end(*, user_id, only_token_hash: str = "") -> bool:
    ended = session_manager().delete(user_id, only_token_hash=only_token_hash)
    if ended:
        logger.info("session ended for user %s", user_id)
    return ended


def session_end_bearer(*, user_id, auth) -> bool:
    """Logout of a bearer call: end the session whose token authenticated it. False when the
    call was not authenticated by a session token (a cookie login: the caller logs it out)."""
    if not isinstance(auth, Session):
        return False
    session_end(user_id=user_id, only_token_hash=auth.token_hash)
    return True


def session_claims_load(*, session: Session) -> Claims | None:
    """Claims for a session written without them (before they existed): read once, then kept.

    None (and the session ended) if its user is gone or inactive."""
    user = _active_user(session.user_id)
    if user is None:
        session_end(user_id=session.user_id, only_token_hash=session.token_hash)
        return None
    claims = user_claims(user)
    session_manager().set_claims(session.user_id, claims, only_token_hash=session.token_hash)
    return claims


def session_rights_update(*, user) -> None:
    """The user's rights may have changed (staff, superuser, groups, active, username).

    An inactive user's session ends now. Otherwise rights the user lost are taken from the
    session now (so a Redis failure fails the change itself), and the full new claims are
    written once the change commits: a rolled-back change can then never grant anything.
    """
    if not user.is_active:
        session_end(user_id=user.pk)
        return
    session_manager().revoke_claims(user.pk, user_claims(user))
    user_id = user.pk
    transaction.on_commit(lambda: _session_claims_refresh(user_id), robust=True)


def _session_claims_refresh(user_id) -> None:
    user = _active_user(user_id)
    if user is None:
        session_end(user_id=user_id)
    else:
        session_manager().set_claims(user_id, user_claims(user))


def login_failure_record(*, username: str, address: str, via: str, reason: str) -> None:
    """Record `login_failed` (called by backends.LoginLimitBackend, the one login-limit policy)."""
    event_record(
        event_type="login_failed",
        user_id=None,
        metadata={"username": username[:150], "address": address, "via": via, "reason": reason},
    )
    logger.info("login failed (%s) for username %r from %s via %s", reason, username, address, via)


def login_with_password(*, username: str, password: str, address: str):
    """API login: Django credentials under the login limits, then a new session.

    Returns (user, session). Raises LoginBlocked or InvalidCredentials.
    """
    user = authenticate(None, username=username, password=password, address=address, via="api")
    if user is None:
        raise InvalidCredentials
    update_last_login(None, user)  # what a dashboard login does through user_logged_in
    return user, session_start(user=user, via="api_login")


def _check_access(actor, user_id: str) -> None:
    # Permission first, existence second: staff learn nothing about other users' sessions.
    if not user_is_admin(actor) and str(actor.pk) != str(user_id):
        raise SessionForbidden


def session_create_for(*, actor, user_id: str) -> Session:
    _check_access(actor, user_id)
    user = _active_user(user_id)
    if user is None:
        raise UserNotFound
    return session_start(user=user, via="api_session" if str(actor.pk) == str(user_id) else "admin")


def session_get_for(*, actor, user_id: str) -> Session:
    _check_access(actor, user_id)
    return _found(session_manager().get(user_id))


def session_touch_for(*, actor, user_id: str) -> Session:
    _check_access(actor, user_id)
    return _found(session_manager().touch(user_id))


def session_delete_for(*, actor, user_id: str) -> None:
    _check_access(actor, user_id)
    if not session_end(user_id=user_id):
        raise SessionNotFound()


def _found(session: Session | None) -> Session:
    if session is None:
        raise SessionNotFound()
    return session
