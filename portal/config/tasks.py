"""Celery tasks of the config app. Each takes ids, runs in the tenant schema it was queued
from, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="config.announcement_email_send", acks_late=True)
def announcement_email_send_task(email_id: int) -> str:
    from .announcements import announcement_email_send

    return announcement_email_send(email_id=email_id)
