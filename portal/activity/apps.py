from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "portal.activity"
    label = "portal_activity"
    verbose_name = "Online activity"
