from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "portal.orders"
    label = "portal_orders"
    verbose_name = "Orders"
