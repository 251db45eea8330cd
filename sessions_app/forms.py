"""Sign-in forms: the limits themselves live in backends.LoginLimitBackend; a form only tells
the backend which page it is and turns LoginBlocked into its error (and a 429 for the view)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from .login_limits import LoginBlocked


class LoginLimitFormMixin:
    via = "dashboard"
    retry_after: int | None = None

    def clean(self):
        if self.request is not None:
            self.request.login_via = self.via
        try:
            return super().clean()
        except LoginBlocked as exc:
            self.retry_after = exc.retry_after
            raise forms.ValidationError(
                "Too many failed sign-in attempts. Try again in %(seconds)s seconds.",
                code="rate_limited",
                params={"seconds": exc.retry_after},
            )


class RateLimitedAuthenticationForm(LoginLimitFormMixin, AuthenticationForm):
    via = "dashboard"


class RateLimitedAdminAuthenticationForm(LoginLimitFormMixin, AdminAuthenticationForm):
    via = "admin_site"
