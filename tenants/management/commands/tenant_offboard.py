from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ApplicationError
from tenants.backup import tenant_offboard


class Command(BaseCommand):
    help = (
        "Offboard a tenant: suspend it, export a backup, then drop its schema, domains and "
        "files. The backup's manifest key is kept on the tenant (tenant_restore --replace "
        "brings it back)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: the schema and files are deleted."
        )

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError(
                "Offboarding deletes the tenant's data after exporting it; pass --yes."
            )
        try:
            result = tenant_offboard(slug=options["slug"], progress=self.stdout.write)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        self.stdout.write(self.style.SUCCESS(f"Offboarded. Backup: {result.manifest_key}"))
