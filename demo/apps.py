from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    label = "portal_demo"
    verbose_name = "Demo data"
