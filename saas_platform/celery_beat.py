"""Beat scheduler: tenant-schemas-celery's, plus entries for the public schema.

A CELERY_BEAT_SCHEDULE entry names its schemas with ``tenant_schemas``: omitted, the task runs
once per tenant; ``["public"]``, it runs once in the public schema (platform chores). The
upstream scheduler looks every schema up as a Tenant row, and the public schema has none here
(tenants are businesses only), so public entries are sent directly.
"""

from django_tenants.utils import get_public_schema_name, schema_context
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler


class PlatformScheduler(TenantAwarePersistentScheduler):
    @classmethod
    def get_queryset(cls):
        from tenants.models import Tenant

        # Only portals that are up get their periodic work.
        return super().get_queryset().filter(status=Tenant.Status.ACTIVE)

    def apply_entry(self, entry, producer=None):
        headers = entry.options.setdefault("headers", {})
        if headers.get("_schema_name") == get_public_schema_name():
            with schema_context(get_public_schema_name()):
                self.apply_async(entry, producer=producer, advance=False)
            return
        super().apply_entry(entry, producer=producer)
