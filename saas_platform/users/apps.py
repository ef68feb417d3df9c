from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "saas_platform.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        # The platform kernel's app loads first: the API's type rules apply to every serializer.
        from saas_platform.api import strict_json

        strict_json.install()
        # Behind PgBouncer in transaction mode, refuse a server that cannot keep search_path.
        from saas_platform import pgbouncer

        pgbouncer.install()
