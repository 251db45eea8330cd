"""Each dashboard request touches the browser's SessionManager session, or signs it out."""

from django.contrib.auth import logout

from .dashboard_binding import bound_token_hash
from .manager import get_session_manager


class SessionActivityMiddleware:
    """After AuthenticationMiddleware: a cookie login whose session has ended is logged out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            digest = bound_token_hash(request)
            session = get_session_manager().touch_by_token_hash(digest) if digest else None
            if session is None or session.user_id != str(user.pk):
                logout(request)
        return self.get_response(request)
