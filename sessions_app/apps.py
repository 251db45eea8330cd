from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    label = "sessions_app"

    def ready(self) -> None:
        from django.contrib import admin

        from . import schema, signals  # noqa: F401  (registers receivers and schema extensions)
        from .forms import RateLimitedAdminAuthenticationForm

        # /admin/login/ is another way to try passwords: put it under the same limits.
        admin.site.login_form = RateLimitedAdminAuthenticationForm
