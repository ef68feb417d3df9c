from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "portal.demo"
    label = "portal_demo"
    verbose_name = "Demo data"
