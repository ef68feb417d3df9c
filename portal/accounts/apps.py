from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "portal_accounts"
    verbose_name = "Families"

    def ready(self) -> None:
        from . import signals  # noqa: F401
