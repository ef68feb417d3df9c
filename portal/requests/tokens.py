"""Makeup tokens given for a missed class: the business's one rule (portal settings
``absence_issues_makeup_token`` and ``makeup_token_expiry_days``), shared by an approved absence
request (portal.requests.services) and an absence staff mark as excused
(portal.attendance.services)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import MakeupToken


def makeup_token_for_absence(*, enrollment, portal) -> MakeupToken | None:
    """A token for the enrollment's student, valid for the same program and kind of offering
    for ``makeup_token_expiry_days`` from today; None when the business gives no tokens for
    absences. The caller owns the transaction (and the lock that makes it happen once)."""
    if not portal.absence_issues_makeup_token:
        return None
    offering = enrollment.offering
    return MakeupToken.objects.create(
        family_id=enrollment.family_id,
        student_id=enrollment.student_id,
        program_id=offering.program_id,
        kind=offering.kind,
        expires_on=timezone.localdate() + timedelta(days=portal.makeup_token_expiry_days),
    )
