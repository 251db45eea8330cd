from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    # Collected by init_mongo (collections, indexes, GIN equality indexes).
    mongo_repositories = ["orders.repository", "orders.purchase_repository"]
    # The sales module's collections (orders/sales/store.py ALL).
    mongo_derived_repositories = ["orders.sales.store"]

    def ready(self):
        # The worker runs these beside the event outbox (eventlog/periodic.py).
        from eventlog.periodic import register

        from . import services

        register(services.order_intents_recover, every_setting="ORDER_INTENT_RECOVER_EVERY_SECONDS")
        register(
            services.order_status_changes_recover,
            every_setting="ORDER_INTENT_RECOVER_EVERY_SECONDS",
        )
        register(services.sales_fold, every_setting="SALES_FOLD_EVERY_SECONDS")
