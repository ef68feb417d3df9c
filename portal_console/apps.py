from django.apps import AppConfig


class PortalConsoleConfig(AppConfig):
    name = "portal_console"
    label = "portal_console"
    verbose_name = "Staff console"
