"""Celery tasks of the staff app: take ids, run in the tenant schema they were enqueued from,
safe to run twice (a second run sends another valid link)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import connection
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal import links


@shared_task(name="staff.send_invite", acks_late=True)
def send_staff_invite_task(user_id: int, role: str) -> int:
    """The invitation to choose a password and sign in to the staff console."""
    from kernel.users.models import User

    from .roles import ROLES

    user = User.objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    if user is None or user.has_usable_password():
        return 0  # gone, or already signed up (nothing to invite to)
    tenant = connection.tenant
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = links.url("set_password", tenant=tenant, uidb64=uid, token=token)
    label = ROLES[role].label if role in ROLES else role
    send_mail(
        subject=f"You are invited to the staff of {tenant.name}",
        message=(
            f"Hello,\n\n{tenant.name} invites you to its staff console as {label}.\n\n"
            f"Choose your password here:\n{link}\n\n"
            f"Then sign in at {links.url('console_login', tenant=tenant)}\n\n{tenant.name}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return 1
