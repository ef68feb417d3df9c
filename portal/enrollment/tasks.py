"""Celery tasks of the enrollment app. Each takes ids, runs in the tenant schema it was enqueued
from (tenant-schemas-celery), and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


@shared_task(name="enrollment.send_family_email", acks_late=True)
def send_family_email_task(family_id: int, template: str, context: dict) -> int:
    from portal.accounts.models import Guardian

    guardians = list(
        Guardian.objects.filter(family_id=family_id, user__is_active=True).order_by("-is_primary")
    )
    tenant = connection.tenant
    sent = 0
    for guardian in guardians:
        text = render_to_string(
            f"emails/{template}.txt",
            {**context, "guardian": guardian.first_name, "business": tenant.name},
        )
        subject, _, body = text.partition("\n")
        send_mail(
            subject=subject.removeprefix("Subject: ").strip(),
            message=body.strip() + "\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[guardian.email],
        )
        sent += 1
    return sent


@shared_task(name="enrollment.hold_expire", acks_late=True)
def hold_expire_task(hold_id: int) -> str:
    """Scheduled for the moment a hold lapses; releases its seat if it is still held."""
    from .services import hold_expire_if_due

    return hold_expire_if_due(hold_id=hold_id)


@shared_task(name="enrollment.expire_due")
def expire_due_task() -> int:
    """Every minute, per tenant: lapse holds, offers and unpaid orders whose time is up (in case
    a scheduled hold_expire_task was lost), and warn families whose holds are about to lapse."""
    from .services import expire_due, warn_expiring_holds

    count = expire_due()
    warn_expiring_holds()
    return count
