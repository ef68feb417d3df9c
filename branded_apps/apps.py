from django.apps import AppConfig


class BrandedAppsConfig(AppConfig):
    name = "branded_apps"
    verbose_name = "Branded apps"
    default_auto_field = "django.db.models.BigAutoField"
