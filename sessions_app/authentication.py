"""DRF authentication: bearer session tokens (API clients) and the dashboard cookie (browsers)."""

from rest_framework.authentication import BaseAuthentication, SessionAuthentication


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <session_token>`; filled in by the sessions issue."""

    keyword = "Bearer"

    def authenticate(self, request):
        return None

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class DashboardSessionAuthentication(SessionAuthentication):
    """The dashboard's cookie login, with CSRF enforced as DRF does."""
