"""Reads of a family's money: the ledger with its running balance, and statement ranges. The
API and the web portal both call these, so they show the same numbers and refuse the same
input."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.queries import prepared_cursor

from .descriptions import description_display
from .models import LedgerEntry, Payment, SavedPaymentMethod

LEDGER_PERIODS = ("30d", "all")
MAX_STATEMENT_DAYS = 3660


def ledger_get(*, family, period: str = "30d") -> dict:
    """Entries oldest first with the balance after each (positive: owed); ``30d`` keeps the
    last 30 days' entries but the balance always covers the whole ledger."""
    if period not in LEDGER_PERIODS:
        raise ApplicationError(
            "invalid_filter",
            "Use period=30d or period=all.",
            fields={"period": ["Use 30d or all."]},
        )
    entries = list(LedgerEntry.objects.filter(family=family).order_by("created_at", "pk"))
    running, rows = 0, []
    for entry in entries:
        running += entry.amount
        rows.append(
            {
                "id": entry.pk,
                "kind": entry.kind,
                "kind_display": entry.get_kind_display(),
                "description": description_display(entry.description),
                "amount": entry.amount,
                "currency": entry.currency,
                "order_id": entry.order_id,
                "created_at": entry.created_at,
                "balance": running,
            }
        )
    if period == "30d":
        since = timezone.now() - timedelta(days=30)
        rows = [row for row in rows if row["created_at"] >= since]
    from portal.config.selectors import portal_settings_get
    from portal.orders.selectors import unpaid_order_list

    after_days = portal_settings_get().past_due_after_days
    unpaid = [
        {
            "order_id": order.pk,
            "kind": order.kind,
            "description": ", ".join(
                description_display(line.description) for line in order.lines.all()
            ),
            "amount_due": due,
            "expires_at": order.expires_at,
        }
        for order, due in unpaid_order_list(family)
    ]
    return {
        "entries": rows,
        "balance": running,
        "unpaid_orders": unpaid,
        "owed": max(running, 0) + sum(row["amount_due"] for row in unpaid),
        "credit": max(-running, 0),
        "past_due": past_due_amount(family, now=timezone.now(), after_days=after_days),
        "currency": connection.tenant.currency,
    }


def past_due_amount(family, *, now, after_days: int) -> int:
    """What the family owes on charges posted more than ``after_days`` ago. Payments and
    credits settle the oldest charges first, so this is the charges up to the cut-off minus
    every payment and credit since the start (never below zero, never above the balance)."""
    cutoff = now - timedelta(days=after_days)
    with prepared_cursor() as cursor:
        cursor.execute(_PAST_DUE_SQL, {"family": family.pk, "cutoff": cutoff})
        old_charges, settled, balance = cursor.fetchone()
    past_due = old_charges + settled
    return max(min(past_due, balance), 0)


# Plain SQL: every hold and checkout of a business that blocks past-due families asks, and
# Django compiling the three filtered sums cost ~2 ms of CPU each time against ~0.2 ms for the
# statement (docs/rush.md, "Sixth pass").
_PAST_DUE_SQL = f"""
    SELECT COALESCE(SUM(amount) FILTER (WHERE amount > 0 AND created_at <= %(cutoff)s), 0),
           COALESCE(SUM(amount) FILTER (WHERE amount < 0), 0),
           COALESCE(SUM(amount), 0)
      FROM {LedgerEntry._meta.db_table} WHERE family_id = %(family)s
"""


def statement_range(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    """Parse and check a statement's dates (YYYY-MM-DD, start first, at most ten years)."""
    bounds = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        raw = (raw or "").strip()
        try:
            bounds[name] = date.fromisoformat(raw)
        except ValueError:
            raise ApplicationError(
                "invalid_filter",
                _("“%(value)s” is not a date; use YYYY-MM-DD.") % {"value": raw[:30]},
                fields={name: ["Use YYYY-MM-DD."]},
            ) from None
    if bounds["to"] < bounds["from"] or (bounds["to"] - bounds["from"]).days > MAX_STATEMENT_DAYS:
        raise ApplicationError(
            "invalid_filter",
            "Give a range of at most ten years, start first.",
            fields={"to": ["After from, within ten years."]},
        )
    return bounds["from"], bounds["to"]


def payment_method_list(*, family):
    return SavedPaymentMethod.objects.filter(family=family, removed_at__isnull=True)


def has_saved_card(*, family) -> bool:
    """Whether the family has a saved card it has not removed."""
    return payment_method_list(family=family).exists()


def order_payments_succeeded(*, order) -> list[Payment]:
    """The card payments that went through on an order, oldest first, with the saved card each
    used (a receipt's lines)."""
    return list(
        Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED)
        .select_related("saved_method")
        .order_by("created_at", "pk")
    )
