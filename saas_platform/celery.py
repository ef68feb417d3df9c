"""The Celery app. Tasks are tenant-aware (tenant-schemas-celery): a task enqueued while the
connection is in a tenant's schema runs in that schema; beat entries say which schemas they run
in through ``tenancy_options``. A task in a tenant's schema also runs in the tenant's time zone
(``TenantZoneTask``)."""

import os

from django.db import connection
from django.utils import timezone
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask

from kernel.observability import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings")


class TenantZoneTask(TenantTask):
    """Runs the task body with the tenant's time zone active, like a request on its host:
    emails rendered, dates counted (``timezone.localdate()``: the autopay day, a hold's expiry
    text) and ``__date`` lookups made in the business's zone. tenant-schemas-celery has switched
    the schema in its task_prerun handler by the time ``__call__`` runs; in the public schema
    (a FakeTenant without a zone) the task runs in UTC. The previous zone is restored after, so
    eager tasks called inside a request or another task leave the caller's zone as it was."""

    abstract = True

    def __call__(self, *args, **kwargs):
        zone = getattr(getattr(connection, "tenant", None), "zone", None)
        with timezone.override(zone):
            return super().__call__(*args, **kwargs)


app = CeleryApp("saas_platform", task_cls=TenantZoneTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks log the request id of the request (or task) that enqueued them.
connect_celery_signals()
