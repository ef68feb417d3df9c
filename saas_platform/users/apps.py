from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "saas_platform.users"
    label = "users"
    verbose_name = "Users"
