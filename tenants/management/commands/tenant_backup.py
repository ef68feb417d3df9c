import time

from django.core.management.base import BaseCommand, CommandError

from kernel.errors import ApplicationError
from tenants.backup import backup_list, tenant_backup


class Command(BaseCommand):
    help = (
        "Export one tenant's schema (pg_dump: DDL and data) and files to backup storage as an "
        "archive and a manifest with checksums. --list shows a tenant's backups."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--list", action="store_true", help="List backups instead.")

    def handle(self, *args, **options):
        slug = options["slug"]
        if options["list"]:
            for key in backup_list(slug=slug):
                self.stdout.write(key)
            return
        started = time.perf_counter()
        try:
            result = tenant_backup(slug=slug, progress=self.stdout.write)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]") from None
        manifest = result.manifest
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {slug}: {sum(manifest['tables'].values())} rows, "
                f"{len(manifest['files'])} files, {manifest['archive']['bytes']} bytes in "
                f"{time.perf_counter() - started:.2f}s"
            )
        )
        self.stdout.write(f"manifest: {result.manifest_key}")
