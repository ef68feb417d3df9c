from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "portal.store"
    label = "portal_store"
    verbose_name = "Store"
