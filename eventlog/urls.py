"""API routes (contract paths) and dashboard pages (under dashboard/)."""

from django.urls import path

from shopsite.routing import optional_slash

from . import api, views

urlpatterns: list = [
    optional_slash("logs/", api.LogListCreateView.as_view(), name="logs"),
    # Before logs/<event_id>/, which would otherwise take "old" for an id.
    optional_slash("logs/old/", api.LogPurgeView.as_view(), name="logs-old"),
    optional_slash("logs/<str:event_id>/", api.LogDetailView.as_view(), name="log-detail"),
    path("dashboard/events/", views.events_page, name="dashboard-events"),
    path("dashboard/events/purge/", views.events_purge, name="dashboard-events-purge"),
    path("dashboard/events/<str:event_id>/edit/", views.event_edit, name="dashboard-event-edit"),
]
