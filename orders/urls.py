"""API routes (contract paths) and dashboard pages (under dashboard/)."""

from django.urls import path

from shopsite.routing import optional_slash

from . import stats_api, stats_views

urlpatterns: list = [
    # Stats (orders/stats_api.py, orders/stats_views.py)
    optional_slash("stats/sold/", stats_api.SoldStatsView.as_view(), name="stats-sold"),
    # path: customer names may contain "/" (sent as %2F).
    optional_slash(
        "stats/customer/<path:name>/", stats_api.CustomerStatsView.as_view(), name="stats-customer"
    ),
    path("dashboard/sales/", stats_views.sales_dashboard, name="dashboard-sales"),
]
