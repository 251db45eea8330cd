from django.apps import AppConfig
from django.core import checks

# Django's checks look for the cookie middleware in MIDDLEWARE only; here it runs inside
# shopsite.middleware.BrowserMiddleware (BROWSER_MIDDLEWARE). Those checks are silenced in
# settings and done here instead, with the same ids for the deploy ones.
BROWSER_NEEDS = {
    "admin.E408": "django.contrib.auth.middleware.AuthenticationMiddleware",
    "admin.E409": "django.contrib.messages.middleware.MessageMiddleware",
    "admin.E410": "django.contrib.sessions.middleware.SessionMiddleware",
    "security.W003": "django.middleware.csrf.CsrfViewMiddleware",
}


class ShopsiteConfig(AppConfig):
    name = "shopsite"

    def ready(self) -> None:
        checks.register(check_browser_middleware, checks.Tags.security)
        checks.register(check_browser_cookies, checks.Tags.security, deploy=True)


def _browser_middleware_in_use() -> bool:
    from django.conf import settings

    return "shopsite.middleware.BrowserMiddleware" in settings.MIDDLEWARE


def check_browser_middleware(app_configs=None, **kwargs):
    from django.conf import settings

    if not _browser_middleware_in_use():
        return []
    return [
        checks.Error(
            f"{path} must be in BROWSER_MIDDLEWARE (pages and the admin need it).",
            id=f"shopsite.{code.split('.')[1]}",
        )
        for code, path in BROWSER_NEEDS.items()
        if path not in settings.BROWSER_MIDDLEWARE
    ]


def check_browser_cookies(app_configs=None, **kwargs):
    """Django's session and CSRF cookie deploy checks, as if BROWSER_MIDDLEWARE were MIDDLEWARE."""
    from django.conf import settings
    from django.core.checks.security import csrf, sessions

    if not _browser_middleware_in_use():
        return []
    found = []
    if settings.SESSION_COOKIE_SECURE is not True:
        found.append(sessions.W012)
    if settings.SESSION_COOKIE_HTTPONLY is not True:
        found.append(sessions.W015)
    if (
        BROWSER_NEEDS["security.W003"] in settings.BROWSER_MIDDLEWARE
        and not settings.CSRF_USE_SESSIONS
        and settings.CSRF_COOKIE_SECURE is not True
    ):
        found.append(csrf.W016)
    return found
