"""A small pool of pre-cloned tenant schemas, so that provisioning a tenant costs a rename.

Cloning the template (tenants.schema_clone) is bounded by PostgreSQL creating a file for each
table, index and sequence; renaming a ready schema is not. The pool holds
``TENANT_SCHEMA_POOL_SIZE`` spares for the current migrations; when it is empty provisioning
clones inline, so the pool only ever makes provisioning faster, never able to fail.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import quote_schema_name

from .models import SpareSchema
from .schema_clone import schema_clone, schema_drop, template_current

logger = logging.getLogger(__name__)

SPARE_PREFIX = "_spare_"
# pg_try_advisory_lock key: one filler at a time across all processes.
_FILL_LOCK_KEY = 0x7E9A_0001


def pool_claim(*, schema_name: str) -> bool:
    """Rename a spare schema to ``schema_name``. Call inside the provisioning transaction: the
    spare's row lock keeps concurrent claims apart, and a rollback returns the spare."""
    fingerprint = template_current().fingerprint
    spare = (
        SpareSchema.objects.select_for_update(skip_locked=True)
        .filter(fingerprint=fingerprint)
        .order_by("created_at", "pk")
        .first()
    )
    if spare is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER SCHEMA {quote_schema_name(spare.schema_name)} "
            f"RENAME TO {quote_schema_name(schema_name)}"
        )
    spare.delete()
    return True


def schema_create(*, schema_name: str) -> bool:
    """Create a tenant schema: claim a spare, or clone the template when none is ready.
    Returns whether a spare was used. Atomic either way."""
    template_current()  # a stale template is refreshed here, before the transaction opens
    with transaction.atomic():
        claimed = pool_claim(schema_name=schema_name)
        if not claimed:
            schema_clone(schema_name=schema_name)
        transaction.on_commit(_enqueue_refill)
    return claimed


def _enqueue_refill() -> None:
    from .tasks import tenant_schema_pool_fill_task

    try:
        tenant_schema_pool_fill_task.delay()
    except Exception:  # a broker hiccup must not fail provisioning; beat refills later
        logger.warning("could not enqueue the schema pool refill", exc_info=True)


def pool_fill(*, size: int | None = None) -> int:
    """Drop spares made for other migrations and clone new ones up to ``size``. Returns how
    many were created. Only one process fills at a time; others return 0 at once."""
    size = settings.TENANT_SCHEMA_POOL_SIZE if size is None else size
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_FILL_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return 0
    try:
        fingerprint = template_current().fingerprint
        for stale in SpareSchema.objects.exclude(fingerprint=fingerprint):
            with transaction.atomic():
                schema_drop(schema_name=stale.schema_name)
                stale.delete()
        created = 0
        while SpareSchema.objects.filter(fingerprint=fingerprint).count() < size:
            name = f"{SPARE_PREFIX}{secrets.token_hex(6)}"
            with transaction.atomic():
                schema_clone(schema_name=name)
                SpareSchema.objects.create(schema_name=name, fingerprint=fingerprint)
            created += 1
        return created
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_FILL_LOCK_KEY])


def pool_drain() -> int:
    """Drop every spare (after a template refresh, or to reclaim space)."""
    dropped = 0
    for spare in SpareSchema.objects.all():
        with transaction.atomic():
            schema_drop(schema_name=spare.schema_name)
            spare.delete()
        dropped += 1
    return dropped
