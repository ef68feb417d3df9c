import time

from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ApplicationError
from tenants.backup import tenant_restore


class Command(BaseCommand):
    help = (
        "Restore a tenant backup (its manifest key) into a new tenant (--into SLUG) or over "
        "the tenant it was taken from (--replace; brings an offboarded tenant back)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "manifest_key", help="e.g. backups/alpha/20261124T210000Z-ab12cd34/manifest.json"
        )
        parser.add_argument("--into", dest="slug", default=None, help="A new tenant's slug.")
        parser.add_argument("--replace", action="store_true", help="Replace the source tenant.")
        parser.add_argument("--name", default=None, help="The new tenant's name.")
        parser.add_argument("--owner-email", default=None, help="The new tenant's owner.")

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            result = tenant_restore(
                manifest_key=options["manifest_key"],
                slug=options["slug"],
                replace=options["replace"],
                name=options["name"],
                owner_email=options["owner_email"],
                progress=self.stdout.write,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        tenant = result.tenant
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {result.rows} rows and {result.files} files into {tenant.name} "
                f"({tenant.slug}, {tenant.status}) in {time.perf_counter() - started:.2f}s"
                + (" (migrated to the current code)" if result.migrated else "")
            )
        )
