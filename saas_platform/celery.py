"""The Celery app. Tasks are tenant-aware (tenant-schemas-celery): a task enqueued while the
connection is in a tenant's schema runs in that schema; beat entries say which schemas they run
in through ``tenancy_options``."""

import os

from tenant_schemas_celery.app import CeleryApp

from saas_platform.observability import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings")

app = CeleryApp("saas_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks log the request id of the request (or task) that enqueued them.
connect_celery_signals()
