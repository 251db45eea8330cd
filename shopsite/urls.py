from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from sessions_app.views import DashboardLoginView

from . import views
from .routing import optional_slash

handler500 = "shopsite.middleware.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard-home", permanent=False)),
    optional_slash("healthz/", views.healthz, name="healthz"),
    optional_slash("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    optional_slash("docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="docs"),
    path("dashboard/", views.dashboard_home, name="dashboard-home"),
    path("accounts/login/", DashboardLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("catalog.urls")),
    path("", include("orders.urls")),
    path("", include("sessions_app.urls")),
    path("", include("eventlog.urls")),
    path("", include("backups.urls")),
]
