"""Autopay as staff follow it: the runs (one per billed month, plus the one-off charges of
transfers) with how each charge went, the failures to chase, and a retry of one failed charge.

A retry claims the charge for an attempt now and commits, then calls Stripe through
``autopay.autopay_attempt`` with no row lock held; retrying a charge that is paid or already
being charged changes nothing, so a double click charges nobody twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.billing.models import AutopayCharge
from portal.privacy.audit import audit_record

from .autopay import autopay_attempt

RETRYABLE = (AutopayCharge.Status.FAILED, AutopayCharge.Status.NEEDS_ACTION)
FAILING = RETRYABLE


def autopay_runs_list(*, limit: int = 24) -> list[dict]:
    """The latest runs, newest first: ``period`` (the month billed; None for one-off charges),
    the number of charges and their amount per status, and how many failed."""
    rows = (
        AutopayCharge.objects.values("period", "status")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    runs: dict[date | None, dict] = defaultdict(
        lambda: {"charges": 0, "amount": 0, "by_status": {}, "failed": 0, "failed_amount": 0}
    )
    for row in rows:
        run = runs[row["period"]]
        run["charges"] += row["count"]
        run["amount"] += row["amount"] or 0
        run["by_status"][row["status"]] = {"count": row["count"], "amount": row["amount"] or 0}
        if row["status"] in FAILING:
            run["failed"] += row["count"]
            run["failed_amount"] += row["amount"] or 0
    ordered = sorted(runs.items(), key=lambda item: (item[0] is not None, item[0]), reverse=True)
    return [{"period": period, **run} for period, run in ordered[:limit]]


def autopay_charge_list(*, period: date | None = None, status: str = "", one_off: bool = False):
    """The charges of one run (or the one-off ones), optionally of one status; with their
    family and order, newest first."""
    if status and status not in AutopayCharge.Status.values:
        raise ApplicationError(
            "invalid_filter",
            _("Unknown status “%(status)s”.") % {"status": status[:30]},
            fields={"status": [f"Use one of: {', '.join(AutopayCharge.Status.values)}."]},
        )
    charges = AutopayCharge.objects.select_related("family", "order").order_by("-created_at", "-pk")
    if one_off:
        charges = charges.filter(period__isnull=True)
    elif period is not None:
        charges = charges.filter(period=period)
    if status:
        charges = charges.filter(status=status)
    return charges


def autopay_charges_retryable(*, limit: int = 200) -> list[AutopayCharge]:
    """Charges staff may charge again (failed, or waiting for the family), newest first, at
    most ``limit``, with their family and order."""
    return list(autopay_charge_list().filter(status__in=RETRYABLE)[:limit])


def autopay_retry(*, charge_id: int, by=None) -> AutopayCharge:
    """Charge a failed autopay charge's card again now (staff's "retry"). Idempotent: a paid
    charge is returned unchanged, and one already being charged is refused with
    ``autopay_in_progress``; only failed charges and those waiting for the family are tried."""
    with transaction.atomic():
        charge = AutopayCharge.objects.select_for_update().filter(pk=charge_id).first()
        if charge is None:
            raise ApplicationError(
                "autopay_charge_not_found", "We could not find that autopay charge.", status=404
            )
        if charge.status == AutopayCharge.Status.SUCCEEDED:
            return charge
        if charge.status == AutopayCharge.Status.CHARGING or (
            charge.status == AutopayCharge.Status.PENDING
        ):
            raise ApplicationError(
                "autopay_in_progress",
                "This charge is being collected right now; look again in a minute.",
                status=409,
            )
        before = charge.status
        # Claimed for an attempt now: ``autopay_attempt`` takes it from here (FAILED and due).
        charge.status = AutopayCharge.Status.FAILED
        charge.next_attempt_at = timezone.now()
        charge.save(update_fields=["status", "next_attempt_at"])
        audit_record(
            action="autopay_retry",
            obj=charge,
            user=by,
            fields={"status": [before, charge.status], "attempts": charge.attempts},
        )
    autopay_attempt(charge_id=charge.pk)  # committed: Stripe is called with no lock held
    return AutopayCharge.objects.select_related("family", "order").get(pk=charge.pk)
