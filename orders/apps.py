from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    # Collected by init_mongo (collections, indexes, GIN equality indexes).
    mongo_repositories = ["orders.repository", "orders.purchase_repository"]
    # The sales module's collections (orders/sales/store.py ALL).
    mongo_derived_repositories = ["orders.sales.store"]
