"""DRF authentication: bearer session tokens (API clients) and the dashboard cookie (browsers)."""

from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)

from .manager import SessionManager


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <session_token>`; each use slides the session's expiry."""

    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # not ours: let the next class (cookie) try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <token>'."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid or expired session token.")
        session = SessionManager().authenticate(token)
        if session is None:
            raise exceptions.AuthenticationFailed("Invalid or expired session token.")
        user = get_user_model().objects.filter(pk=session.user_id, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or expired session token.")
        return user, session

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class DashboardSessionAuthentication(SessionAuthentication):
    """The dashboard's cookie login, with CSRF enforced as DRF does."""
