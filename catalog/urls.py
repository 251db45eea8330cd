"""API routes (contract paths) and dashboard pages (under dashboard/)."""

from django.urls import path

from shopsite.routing import optional_slash

from . import api, import_views, views

urlpatterns = [
    # Before products/<id>/ so "unavailable" is not taken for an id.
    optional_slash(
        "products/unavailable/", api.ProductsUnavailableApi.as_view(), name="products-unavailable"
    ),
    optional_slash("products/", api.ProductListApi.as_view(), name="products"),
    optional_slash(
        "products/<str:product_id>/stock/", api.ProductStockApi.as_view(), name="product-stock"
    ),
    optional_slash(
        "products/<str:product_id>/", api.ProductDetailApi.as_view(), name="product-detail"
    ),
    path("dashboard/products/", views.product_list, name="dashboard-products"),
    path("dashboard/products/new/", views.product_create, name="dashboard-product-create"),
    path(
        "dashboard/products/import/", import_views.product_import, name="dashboard-products-import"
    ),
    path(
        "dashboard/products/import/confirm/",
        import_views.product_import_confirm,
        name="dashboard-products-import-confirm",
    ),
    path(
        "dashboard/products/unavailable/delete/",
        views.products_delete_unavailable,
        name="dashboard-products-delete-unavailable",
    ),
    path(
        "dashboard/products/<str:product_id>/edit/",
        views.product_edit,
        name="dashboard-product-edit",
    ),
    path(
        "dashboard/products/<str:product_id>/delete/",
        views.product_delete,
        name="dashboard-product-delete",
    ),
    path(
        "dashboard/products/<str:product_id>/stock/",
        views.product_restock,
        name="dashboard-product-restock",
    ),
]
