from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "portal.billing"
    label = "portal_billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (ledger entries when an order is confirmed)
