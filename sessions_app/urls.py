"""API routes (contract paths) and dashboard pages (under dashboard/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from shopsite.routing import optional_slash

from . import api, views

urlpatterns = [
    optional_slash("auth/login/", api.LoginApi.as_view(), name="auth-login"),
    optional_slash("auth/logout/", api.LogoutApi.as_view(), name="auth-logout"),
    optional_slash("session/<str:user_id>/", api.SessionApi.as_view(), name="session-detail"),
    path("accounts/login/", views.DashboardLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/sessions/", views.sessions_page, name="dashboard-sessions"),
    path(
        "dashboard/sessions/<str:user_id>/end/",
        views.session_end_view,
        name="dashboard-session-end",
    ),
]
