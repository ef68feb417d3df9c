from django.apps import AppConfig


class PortalWebConfig(AppConfig):
    name = "portal_web"
    verbose_name = "Family web portal"
