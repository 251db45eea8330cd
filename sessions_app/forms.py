"""Sign-in forms under the same failed-login limits as POST /auth/login/."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from . import services
from .login_limits import LoginBlocked, client_address


class RateLimitedLoginMixin:
    """Take a failure slot before the password is checked; a right password gives it back."""

    via = "dashboard"
    retry_after: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or password is None:
            return super().clean()  # field errors only: not a login attempt
        address = client_address(self.request)
        try:
            services.login_check_allowed(username=username, address=address, via=self.via)
        except LoginBlocked as exc:
            self.retry_after = exc.retry_after
            raise forms.ValidationError(
                "Too many failed sign-in attempts. Try again in %(seconds)s seconds.",
                code="rate_limited",
                params={"seconds": exc.retry_after},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                services.login_failure_record(
                    username=username, address=address, via=self.via, reason="bad_credentials"
                )
            raise
        services.login_success_record(username=username, address=address)
        return cleaned


class RateLimitedAuthenticationForm(RateLimitedLoginMixin, AuthenticationForm):
    via = "dashboard"


class RateLimitedAdminAuthenticationForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    via = "admin_site"
