from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "portal.billing"
    label = "portal_billing"
    verbose_name = "Billing"
