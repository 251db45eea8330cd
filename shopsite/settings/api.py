"""The JSON API: Django REST framework and its OpenAPI schema (drf-spectacular)."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.authentication.BearerTokenAuthentication",
        "sessions_app.authentication.DashboardSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sessions_app.permissions.IsStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "shopsite.negotiation.JSONFirstContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["shopsite.parsers.ShopJSONParser"],
    "EXCEPTION_HANDLER": "shopsite.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "shopsite.openapi.ShopAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "shopsite API",
    "DESCRIPTION": (
        "JSON API of the shop: products, orders, stats, sessions, event log, backups.\n\n"
        "Query parameters are strict: leave one out for its default; an empty value "
        "(`?days=`), a repeated one or an integer not written in digits is a 400 naming it."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "APPEND_COMPONENTS": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    "SECURITY": [{"bearerAuth": []}],
    # No online validator badge (an outside request); keep the token across reloads of /docs.
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "validatorUrl": None,
        "persistAuthorization": True,
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shopsite.openapi.add_common_responses",
    ],
}
