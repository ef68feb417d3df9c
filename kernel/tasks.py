"""Enqueue Celery tasks after commit, in the schema of the caller.

tenant-schemas-celery tags a task with the schema the connection is in when it is sent. An
on-commit callback may run after the connection has moved on (another tenant, or the public
schema), so the tenant is captured when the work is decided and restored around the send."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django_tenants.utils import tenant_context

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, eta=None, **kwargs) -> None:
    tenant = connection.tenant

    def send() -> None:
        try:
            with tenant_context(tenant):
                task.apply_async(args=args, kwargs=kwargs, eta=eta)
        except Exception:  # a broker hiccup must not break the request that already committed
            logger.exception("could not enqueue %s for %s", task.name, tenant.schema_name)

    transaction.on_commit(send)
