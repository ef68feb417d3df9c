"""Staff writes on a family that are not money (money is ``portal.billing.staff``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kernel.errors import ApplicationError
from portal.accounts.models import Guardian
from portal.outbox.services import outbox_enqueue
from portal.privacy.audit import audit_record

from .errors import guardian_not_found


def guardian_invite_resend(*, family_id: int, guardian_id: int, by: Any = None) -> Guardian:
    """Email a guardian a fresh link to choose their password (the invitation a new guardian
    gets, again). The link is made when the email is sent, so it is valid for the usual
    ``PASSWORD_RESET_TIMEOUT`` from then; the email leaves once this commits."""
    from portal.accounts.tasks import send_guardian_invite_task

    guardian = (
        Guardian.objects.select_related("user").filter(pk=guardian_id, family_id=family_id).first()
    )
    if guardian is None:
        raise guardian_not_found()
    if guardian.user is None or not guardian.user.is_active:
        raise ApplicationError(
            "guardian_has_no_login",
            "This guardian has no active login to invite; add one first.",
            status=409,
        )
    with transaction.atomic():
        outbox_enqueue(send_guardian_invite_task, guardian.pk)
        audit_record(action="invite_resent", obj=guardian, user=by, fields={})
    return guardian
