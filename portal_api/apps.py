from django.apps import AppConfig


class PortalApiConfig(AppConfig):
    name = "portal_api"
    verbose_name = "Portal API"
