import time

from django.core.management.base import BaseCommand

from tenants.schema_clone import template_refresh
from tenants.schema_pool import pool_drain, pool_fill


class Command(BaseCommand):
    help = (
        "Rebuild the pre-migrated template schema that new tenants are cloned from. "
        "Run after migrate_schemas whenever migrations change."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        template = template_refresh()
        elapsed = time.perf_counter() - started
        # Spares were cloned from the previous template: replace them.
        drained = pool_drain()
        filled = pool_fill()
        self.stdout.write(
            self.style.SUCCESS(
                f"Template {template.schema_name} refreshed in {elapsed:.2f}s "
                f"({len(template.ddl.splitlines())} DDL lines, "
                f"{len(template.seeded_tables)} seeded tables); "
                f"schema pool: {drained} dropped, {filled} cloned."
            )
        )
