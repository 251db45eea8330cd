"""DRF authentication: bearer session tokens (API clients) and the dashboard cookie (browsers)."""

from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)

from . import services
from .manager import Claims, get_session_manager


class SessionUser:
    """`request.user` of a bearer request, built from the session's claims: no SQL.

    It answers what the API asks of a user (pk/id, username, is_staff, is_admin and the
    is_authenticated/is_active flags); code that needs the full model loads it by pk.
    """

    __slots__ = ("pk", "username", "is_staff", "is_admin")
    is_active = True  # deactivating a user ends their sessions (sessions_app/signals.py)
    is_authenticated = True
    is_anonymous = False

    def __init__(self, pk, claims: Claims):
        self.pk = pk
        self.username = claims.username
        self.is_staff = claims.is_staff
        self.is_admin = claims.is_admin

    @property
    def id(self):
        return self.pk

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"SessionUser(pk={self.pk!r}, username={self.username!r})"

    def __eq__(self, other) -> bool:
        return getattr(other, "pk", None) == self.pk and hasattr(other, "is_staff")

    def __hash__(self) -> int:
        return hash(self.pk)


_INVALID = "Invalid or expired session token."


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <session_token>`; each use slides the session's expiry.

    One Redis round trip: the script that checks and touches the session returns its claims.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None  # not ours: let the next class (cookie) try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <token>'."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_INVALID)
        session = get_session_manager().authenticate(token)
        if session is None:
            raise exceptions.AuthenticationFailed(_INVALID)
        claims = session.claims or services.session_claims_load(session=session)
        if claims is None:
            raise exceptions.AuthenticationFailed(_INVALID)
        pk = get_user_model()._meta.pk.to_python(session.user_id)
        return SessionUser(pk, claims), session

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class DashboardSessionAuthentication(SessionAuthentication):
    """The dashboard's cookie login, with CSRF enforced as DRF does."""
