"""OpenAPI descriptions of our two authentication classes (imported in apps.ready())."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "session_token from POST /auth/login/; each use slides its 30-min TTL.",
        }


class DashboardCookieScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.authentication.DashboardSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
