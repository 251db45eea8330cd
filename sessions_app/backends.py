"""The one login-limit policy: an authentication backend, as django-axes plugs in its own.

Every password check in the project goes through `django.contrib.auth.authenticate`: the API
login (services.login_with_password), the dashboard form and the /admin/ form. This backend
wraps Django's ModelBackend there, so the sequence (take a failure slot, check the password,
record the outcome) is written once and no sign-in path can skip it.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from . import login_limits, services


class LoginLimitBackend(ModelBackend):
    """ModelBackend under the failed-login limits of login_limits.py.

    Raises LoginBlocked (not PermissionDenied, which `authenticate` would swallow) so the
    caller can answer 429 with Retry-After.
    """

    def authenticate(self, request, username=None, password=None, address=None, via=None, **kwargs):
        if username is None or password is None:
            return None  # not a password login (or a malformed one): nothing to count
        if address is None:
            address = login_limits.client_address(request) if request is not None else "unknown"
        # The sign-in forms say which page they are (LoginLimitFormMixin); the API passes `via`.
        via = via or getattr(request, "login_via", None) or "dashboard"
        try:
            login_limits.attempt_begin(username, address)
        except login_limits.LoginBlocked:
            services.login_failure_record(
                username=username, address=address, via=via, reason="rate_limited"
            )
            raise
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failure_record(
                username=username, address=address, via=via, reason="bad_credentials"
            )
        else:
            login_limits.attempt_succeeded(username, address)
        return user
