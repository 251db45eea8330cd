from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from . import views
from .routing import optional_slash

handler500 = "shopsite.middleware.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard-home", permanent=False)),
    optional_slash("healthz/", views.healthz, name="healthz"),
    optional_slash("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    optional_slash("docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("", include("dashboard.urls")),
    path("", include("catalog.urls")),
    path("", include("orders.urls")),
    path("", include("sessions_app.urls")),
    path("", include("eventlog.urls")),
    path("", include("backups.urls")),
]
