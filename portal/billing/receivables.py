"""Aged receivables: who owes what, and for how long.

Each family's payments, credits and discounts settle its oldest charges first (the rule
``selectors.past_due_amount`` uses too). What remains of each charge is aged by days past its
due date, the date it was posted in the business's time zone plus the portal's grace period
(``past_due_after_days``): *current* (not yet due), 1-30, 31-60, 61-90 and over 90 days. A
family with credit (negative balance) owes nothing and is not listed."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import Family

from .models import LedgerEntry

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
BUCKET_LABELS = {
    "current": _("Current"),
    "days_1_30": _("1-30 days"),
    "days_31_60": _("31-60 days"),
    "days_61_90": _("61-90 days"),
    "days_over_90": _("Over 90 days"),
}


def bucket_of(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "days_1_30"
    if days_overdue <= 60:
        return "days_31_60"
    if days_overdue <= 90:
        return "days_61_90"
    return "days_over_90"


def tenant_zone() -> ZoneInfo:
    return ZoneInfo(getattr(connection.tenant, "timezone", "") or "UTC")


def receivables_aged(*, today: date | None = None, grace_days: int | None = None) -> dict:
    """Families that owe money, most owed first, each with its total, the amount in each age
    bucket, the oldest unpaid charge's date and days overdue; and the totals per bucket.
    Amounts in minor units of the business's currency."""
    from portal.config.selectors import portal_settings_get

    zone = tenant_zone()
    today = today or timezone.localdate(timezone=zone)
    grace = portal_settings_get().past_due_after_days if grace_days is None else grace_days
    owing = (
        LedgerEntry.objects.values("family_id")
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
        .values_list("family_id", "balance")
    )
    balances = dict(owing)
    entries = defaultdict(list)
    for family_id, amount, created_at in (
        LedgerEntry.objects.filter(family_id__in=list(balances))
        .exclude(amount=0)
        .order_by("created_at", "pk")
        .values_list("family_id", "amount", "created_at")
    ):
        entries[family_id].append((amount, created_at))
    names = dict(Family.objects.filter(pk__in=list(balances)).values_list("pk", "name"))
    totals = dict.fromkeys(BUCKETS, 0)
    rows = []
    for family_id, balance in balances.items():
        settled = -sum(a for a, _ in entries[family_id] if a < 0)
        buckets = dict.fromkeys(BUCKETS, 0)
        oldest = None
        for amount, created_at in entries[family_id]:
            if amount <= 0:
                continue
            used = min(settled, amount)
            settled -= used
            left = amount - used
            if not left:
                continue
            posted = timezone.localtime(created_at, zone).date()
            due = posted + timedelta(days=grace)
            buckets[bucket_of((today - due).days)] += left
            oldest = oldest or posted
        for key in BUCKETS:
            totals[key] += buckets[key]
        rows.append(
            {
                "family_id": family_id,
                "family_name": names.get(family_id, ""),
                "total": balance,
                **buckets,
                "oldest_charge_on": oldest,
                "days_overdue": max((today - oldest - timedelta(days=grace)).days, 0)
                if oldest
                else 0,
            }
        )
    rows.sort(key=lambda row: (-row["total"], row["family_name"], row["family_id"]))
    return {
        "as_of": today,
        "grace_days": grace,
        "currency": connection.tenant.currency,
        "families": rows,
        "totals": {**totals, "total": sum(totals.values())},
    }
