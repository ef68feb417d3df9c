from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from kernel.errors import ApplicationError

from .models import Tenant
from .services import tenant_provision

logger = logging.getLogger(__name__)

STALLED_AFTER = timedelta(minutes=10)


@shared_task(name="tenants.tasks.tenant_provision_task", acks_late=True)
def tenant_provision_task(slug: str) -> str:
    """Finish provisioning a registered tenant. Safe to run twice: an active tenant is left as
    it is, a half-provisioned one is resumed."""
    try:
        result = tenant_provision(slug=slug, exist_ok=True)
    except ApplicationError as exc:
        # The failure is recorded on the tenant (status endpoint); the beat task retries later.
        logger.error("provisioning %s failed: %s", slug, exc.message)
        return "failed"
    return result.tenant.status


@shared_task(name="tenants.tasks.tenant_resume_stalled_task")
def tenant_resume_stalled_task() -> list[str]:
    """Resume tenants whose provisioning stopped half-way (a worker died, a step failed)."""
    cutoff = timezone.now() - STALLED_AFTER
    slugs = list(
        Tenant.objects.filter(status=Tenant.Status.PROVISIONING, created_at__lt=cutoff).values_list(
            "schema_name", flat=True
        )
    )
    for slug in slugs:
        tenant_provision_task.delay(slug)
    return slugs


@shared_task(name="tenants.tasks.tenant_schema_pool_fill_task")
def tenant_schema_pool_fill_task() -> int:
    """Top the pool of pre-cloned schemas back up (after a claim, and on a schedule)."""
    from .schema_pool import pool_fill

    return pool_fill()


@shared_task(name="tenants.tasks.domain_recheck_pending_task")
def domain_recheck_pending_task() -> dict[str, int]:
    """Verify custom domains whose TXT record appeared after the business last checked."""
    from .domains import domain_recheck_pending

    return domain_recheck_pending()


@shared_task(name="tenants.tasks.domain_recheck_verified_task")
def domain_recheck_verified_task() -> dict[str, int]:
    """Check the DNS proof of verified custom domains again; unverify those that lost it."""
    from .domains import domain_recheck_verified

    return domain_recheck_verified()


@shared_task(name="tenants.tasks.tenant_offboard_task", acks_late=True)
def tenant_offboard_task(slug: str) -> str:
    """Offboard a business asked for from the platform console (suspend, export, drop). Safe to
    run twice: an offboarded business is refused and left as it is."""
    from .backup import tenant_offboard

    try:
        result = tenant_offboard(slug=slug)
    except ApplicationError as exc:
        logger.error("offboarding %s failed: %s", slug, exc.message)
        return exc.code
    return result.manifest_key


@shared_task(name="tenants.tasks.platform_event_process_task", acks_late=True)
def platform_event_process_task(event_id: str) -> str:
    """Apply a platform-account Stripe event (plans): re-fetch the subscription, copy its
    status. Safe to run twice."""
    from .plans import platform_event_process

    return platform_event_process(event_id=event_id)
