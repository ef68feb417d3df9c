from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "portal.outbox"
    label = "portal_outbox"
    verbose_name = "Outbox"
