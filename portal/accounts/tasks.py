"""Celery tasks of the accounts app. Each takes ids, runs in the tenant schema it was enqueued
from (tenant-schemas-celery), and is safe to run twice (a second run sends another valid link)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection


@shared_task(name="accounts.send_guardian_invite", acks_late=True)
def send_guardian_invite_task(guardian_id: int) -> int:
    """A guardian's invitation to choose a password, with a link made now."""
    from .models import Guardian
    from .services import _reset_url

    guardian = Guardian.objects.select_related("user", "family").filter(pk=guardian_id).first()
    if guardian is None or guardian.user is None or not guardian.user.is_active:
        return 0
    name = connection.tenant.name
    url = _reset_url(guardian.user, "set_password")
    send_mail(
        subject=f"Your family account at {name}",
        message=f"Hello {guardian.first_name},\n\n{name} invites you to your family account "
        f"({guardian.family.name}). Choose your password here:\n{url}\n\n{name}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[guardian.email],
    )
    return 1
