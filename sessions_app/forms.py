"""The dashboard sign-in form, under the same failed-login limits as POST /auth/login/."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from . import services
from .login_limits import LoginBlocked, client_address


class RateLimitedAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "rate_limited": "Too many failed sign-in attempts. Try again in %(seconds)s seconds.",
    }

    retry_after: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or password is None:
            return super().clean()  # field errors only: not a login attempt
        address = client_address(self.request)
        try:
            services.login_check_allowed(username=username, address=address, via="dashboard")
        except LoginBlocked as exc:
            self.retry_after = exc.retry_after
            raise forms.ValidationError(
                self.error_messages["rate_limited"],
                code="rate_limited",
                params={"seconds": exc.retry_after},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                services.login_failure_record(
                    username=username, address=address, via="dashboard", reason="bad_credentials"
                )
            raise
        services.login_success_record(username=username)
        return cleaned
