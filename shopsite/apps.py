from django.apps import AppConfig


class ShopsiteConfig(AppConfig):
    name = "shopsite"
