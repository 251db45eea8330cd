from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    label = "sessions_app"

    def ready(self) -> None:
        from . import schema, signals  # noqa: F401  (registers receivers and schema extensions)
