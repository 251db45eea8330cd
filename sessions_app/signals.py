"""Dashboard (cookie) logins get a SessionManager session too; logging out ends it."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import services
from .dashboard_binding import bind, bound_token_hash


@receiver(user_logged_in, dispatch_uid="sessions_app.start_on_login")
def start_session_on_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    bind(request, services.session_start(user_id=user.pk, via="dashboard_login"))


@receiver(user_logged_out, dispatch_uid="sessions_app.end_on_logout")
def end_session_on_logout(sender, request, user, **kwargs):
    if request is None or user is None or not hasattr(request, "session"):
        return
    digest = bound_token_hash(request)
    if digest:
        # Only the session this browser holds: a newer one (e.g. an API login) stays.
        services.session_end(user_id=user.pk, only_token_hash=digest)
