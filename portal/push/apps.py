from django.apps import AppConfig


class PushConfig(AppConfig):
    name = "portal.push"
    label = "portal_push"
    verbose_name = "Push notifications"

    def ready(self) -> None:
        from . import signals  # noqa: F401
