from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ApplicationError
from tenants.services import tenant_reactivate, tenant_suspend


class Command(BaseCommand):
    help = "Suspend (or with --reactivate, reactivate) a tenant's portal."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--reactivate", action="store_true")

    def handle(self, *args, **options):
        service = tenant_reactivate if options["reactivate"] else tenant_suspend
        try:
            tenant = service(slug=options["slug"])
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        self.stdout.write(f"{tenant.name} is {tenant.status}.")
