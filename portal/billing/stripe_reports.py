"""Payouts and fees as Stripe reports them for the business's connected account.

Stripe is the source of truth for what reached the business's bank and what Stripe (and the
platform) kept, so nothing is stored here: the lists are read through the stripe library on the
connected account (``stripe_account``) and kept in the cache for ``CACHE_TTL`` seconds per
business and query, so a busy page costs Stripe one call a few minutes. ``refresh=True`` reads
through the cache. No lock is held (these are reads)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

import stripe
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from kernel.errors import ApplicationError

from . import gateway
from .receivables import tenant_zone

logger = logging.getLogger(__name__)
CACHE_TTL = 300
MAX_LIMIT = 100
_ID_PREFIXES = {"payout": "po_", "starting_after": ""}


def _check(limit: int, starting_after: str, payout: str = "") -> None:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError(
            "invalid_filter",
            f"limit is 1 to {MAX_LIMIT}.",
            fields={"limit": [f"1 to {MAX_LIMIT}."]},
        )
    for name, value in (("starting_after", starting_after), ("payout", payout)):
        if value and (
            len(value) > 64
            or not value.replace("_", "").isalnum()
            or not value.isascii()
            or not value.startswith(_ID_PREFIXES[name])
        ):
            raise ApplicationError(
                "invalid_filter",
                f"“{value[:64]}” is not a Stripe id.",
                fields={name: ["A Stripe id."]},
            )


def _when(timestamp) -> datetime | None:
    if not timestamp:
        return None
    return timezone.localtime(datetime.fromtimestamp(int(timestamp), tz=UTC), tenant_zone())


def _cached(kind: str, params: dict, fetch, refresh: bool):
    account = gateway.connected_account()
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    key = f"stripe-report:{connection.schema_name}:{account}:{kind}:{digest}"
    if not refresh:
        try:
            hit = cache.get(key)
        except Exception as exc:  # Redis down: ask Stripe
            logger.warning("stripe report cache unavailable: %s", exc)
            hit = None
        if hit is not None:
            return hit
    try:
        value = fetch(account)
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    try:
        cache.set(key, value, CACHE_TTL)
    except Exception as exc:
        logger.warning("stripe report cache unavailable: %s", exc)
    return value


def payouts_list(*, limit: int = 20, starting_after: str = "", refresh: bool = False) -> dict:
    """The business's payouts to its bank, newest first: amount, status, arrival date (in the
    business's time zone), method, and whether Stripe has more (page with ``starting_after``)."""
    _check(limit, starting_after)
    params = {"limit": limit, **({"starting_after": starting_after} if starting_after else {})}

    def fetch(account):
        page = gateway.client().v1.payouts.list(params=params, options={"stripe_account": account})
        return {
            "payouts": [
                {
                    "id": p.id,
                    "amount": p.amount,
                    "currency": (p.currency or "").upper(),
                    "status": p.status,
                    "arrival_date": _when(p.arrival_date).date() if p.arrival_date else None,
                    "created": _when(p.created),
                    "method": getattr(p, "method", "") or "",
                    "description": getattr(p, "description", "") or "",
                    "failure_message": getattr(p, "failure_message", "") or "",
                }
                for p in page.data
            ],
            "has_more": bool(page.has_more),
        }

    return _cached("payouts", params, fetch, refresh)


def balance_transactions_list(
    *, limit: int = 50, starting_after: str = "", payout: str = "", refresh: bool = False
) -> dict:
    """Money in and out of the business's Stripe balance (charges, refunds, fees, payouts),
    newest first, optionally those settled by one payout; each with its gross amount, Stripe's
    and the platform's fees and the net, plus the fee totals of the page."""
    _check(limit, starting_after, payout)
    params = {
        "limit": limit,
        **({"starting_after": starting_after} if starting_after else {}),
        **({"payout": payout} if payout else {}),
    }

    def fetch(account):
        page = gateway.client().v1.balance_transactions.list(
            params=params, options={"stripe_account": account}
        )
        rows = []
        for t in page.data:
            details = [
                {
                    "type": d.type,
                    "amount": d.amount,
                    "description": getattr(d, "description", "") or "",
                }
                for d in (getattr(t, "fee_details", None) or [])
            ]
            rows.append(
                {
                    "id": t.id,
                    "type": t.type,
                    "reporting_category": getattr(t, "reporting_category", "") or "",
                    "amount": t.amount,
                    "fee": t.fee,
                    "net": t.net,
                    "currency": (t.currency or "").upper(),
                    "created": _when(t.created),
                    "available_on": _when(t.available_on).date() if t.available_on else None,
                    "description": getattr(t, "description", "") or "",
                    "fee_details": details,
                }
            )
        return {
            "transactions": rows,
            "has_more": bool(page.has_more),
            "totals": {
                "amount": sum(r["amount"] for r in rows),
                "fee": sum(r["fee"] for r in rows),
                "net": sum(r["net"] for r in rows),
                "stripe_fee": sum(
                    d["amount"] for r in rows for d in r["fee_details"] if d["type"] == "stripe_fee"
                ),
                "application_fee": sum(
                    d["amount"]
                    for r in rows
                    for d in r["fee_details"]
                    if d["type"] == "application_fee"
                ),
            },
        }

    return _cached("balance_transactions", params, fetch, refresh)
