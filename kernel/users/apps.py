from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "kernel.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        # The platform kernel's app loads first: the API's type rules apply to every serializer.
        from kernel.api import strict_json

        strict_json.install()
        # Behind PgBouncer in transaction mode, refuse a server that cannot keep search_path.
        from kernel import pgbouncer

        pgbouncer.install()
