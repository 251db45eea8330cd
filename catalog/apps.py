from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    # Collected by init_mongo (collections, indexes, GIN equality indexes).
    mongo_repositories = ["catalog.repository"]
