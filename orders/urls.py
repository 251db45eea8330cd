"""API routes (contract paths) and dashboard pages (under dashboard/)."""

from django.urls import path

from shopsite.routing import optional_slash

from . import api, stats_api, stats_views, views

urlpatterns: list = [
    # Orders API; "recent" before <order_id> so it is not taken for an id.
    optional_slash("orders/", api.OrderListApi.as_view(), name="orders"),
    optional_slash("orders/recent/", api.OrderRecentApi.as_view(), name="orders-recent"),
    optional_slash("orders/<str:order_id>/", api.OrderDetailApi.as_view(), name="order-detail"),
    optional_slash(
        "orders/<str:order_id>/fulfil/", api.OrderFulfilApi.as_view(), name="order-fulfil"
    ),
    optional_slash(
        "orders/<str:order_id>/cancel/", api.OrderCancelApi.as_view(), name="order-cancel"
    ),
    path("dashboard/orders/", views.orders_recent, name="dashboard-orders"),
    path("dashboard/orders/new/", views.order_place, name="dashboard-order-create"),
    path("dashboard/orders/last-30-days/", views.orders_last_days, name="dashboard-orders-last"),
    path("dashboard/orders/<str:order_id>/", views.order_detail, name="dashboard-order-detail"),
    path(
        "dashboard/orders/<str:order_id>/fulfil/",
        views.order_fulfil,
        name="dashboard-order-fulfil",
    ),
    path(
        "dashboard/orders/<str:order_id>/cancel/",
        views.order_cancel,
        name="dashboard-order-cancel",
    ),
    # Stats (orders/stats_api.py, orders/stats_views.py)
    optional_slash("stats/sold/", stats_api.SoldStatsView.as_view(), name="stats-sold"),
    # path: customer names may contain "/" (sent as %2F).
    optional_slash(
        "stats/customer/<path:name>/", stats_api.CustomerStatsView.as_view(), name="stats-customer"
    ),
    path("dashboard/sales/", stats_views.sales_dashboard, name="dashboard-sales"),
]
