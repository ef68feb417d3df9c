from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "portal.requests"
    label = "portal_requests"
    verbose_name = "Family requests"
