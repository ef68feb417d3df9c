"""Stripe Connect onboarding of a business: its connected account (created once), Stripe's
hosted onboarding through single-use Account Links, and the account's state as Stripe reports
it (``account.updated`` webhooks and a refresh when the owner comes back from Stripe). Online
payments are taken only once Stripe says the account's charges are enabled
(``gateway.online_payments_ready``); until then families are told to pay the business directly
(cash and cheque at the desk keep working).

Offline: the project's local Stripe stand-in (localstripe, ``make demo``) has no Connect. With
``STRIPE_API_BASE`` on a loopback address the console offers an explicit *demo* connection
instead (``connect_demo``), which marks the account ``acct_demo_<slug>``; it is refused
anywhere else, so no production business is ever "connected" without Stripe.

No network call is made while a row lock is held: Stripe is called first, the result written
after, in its own short transaction."""

from __future__ import annotations

from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.db import transaction

from kernel.errors import ApplicationError

from . import gateway

DEMO_PREFIX = "acct_demo_"


def connect_demo_mode() -> bool:
    """The platform talks to a local Stripe stand-in (no Connect): demo connections only."""
    host = urlsplit(settings.STRIPE_API_BASE or "").hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


def _tenant_model():
    from tenants.models import Tenant

    return Tenant


def _routes_changed() -> None:
    from tenants import routing

    routing.invalidate_on_commit()


def connect_status(*, tenant) -> dict:
    """Where the business stands: ``not_connected``, ``pending`` (an account, Stripe still needs
    something) or ``enabled``; with what Stripe still needs and whether this is a demo."""
    account = tenant.stripe_account_id or ""
    if not account:
        state = "not_connected"
    elif tenant.stripe_charges_enabled:
        state = "enabled"
    else:
        state = "pending"
    return {
        "state": state,
        "account_id": account or None,
        "charges_enabled": bool(account and tenant.stripe_charges_enabled),
        "details_submitted": bool(account and tenant.stripe_details_submitted),
        "requirements_due": list(tenant.stripe_requirements_due or []) if account else [],
        "demo": account.startswith(DEMO_PREFIX),
        "demo_mode": connect_demo_mode(),
        "platform_configured": bool(settings.STRIPE_SECRET_KEY),
        "checked_at": tenant.stripe_checked_at,
    }


def _account_create(*, tenant) -> str:
    client = gateway.client()
    try:
        account = client.v1.accounts.create(
            params={
                "type": "standard",
                "email": tenant.contact_email,
                "metadata": {"tenant": tenant.schema_name},
            },
            # One account per business however often the owner clicks.
            options={"idempotency_key": f"tenant:{tenant.schema_name}:account:1"},
        )
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    Tenant = _tenant_model()
    with transaction.atomic():
        # Another request may have recorded it first: the same account (same key).
        Tenant.objects.filter(pk=tenant.pk, stripe_account_id="").update(
            stripe_account_id=account.id
        )
    tenant.stripe_account_id = Tenant.objects.get(pk=tenant.pk).stripe_account_id
    _routes_changed()
    return tenant.stripe_account_id


def connect_onboarding_link(*, tenant, refresh_url: str, return_url: str) -> str:
    """Stripe's hosted onboarding for the business (its account is created the first time).
    Account Links are single-use and expire within minutes: Stripe sends the owner to
    ``refresh_url`` to get a new one, and to ``return_url`` when they leave the flow (which
    does not mean they finished: the return page refreshes the account's state)."""
    if connect_demo_mode():
        raise ApplicationError(
            "stripe_connect_unavailable",
            "This platform runs against a local Stripe stand-in without Connect: use the demo "
            "connection instead.",
            status=409,
        )
    if (tenant.stripe_account_id or "").startswith(DEMO_PREFIX):
        raise ApplicationError(
            "stripe_connect_unavailable",
            "This business has a demo account; it cannot be onboarded with Stripe.",
            status=409,
        )
    account_id = tenant.stripe_account_id or _account_create(tenant=tenant)
    try:
        link = gateway.client().v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    return link.url


def connect_account_sync(*, account_id: str) -> bool:
    """Re-fetch the account from Stripe and record what it says (charges enabled, details
    submitted, what is still due) on the business that owns it. Safe to run twice; used by
    the ``account.updated`` webhook and on the owner's return. False: no business has it."""
    if not account_id or account_id.startswith(DEMO_PREFIX):
        return False
    try:
        account = gateway.client().v1.accounts.retrieve(account_id)
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    requirements = getattr(account, "requirements", None)
    due = list(getattr(requirements, "currently_due", None) or []) if requirements else []
    Tenant = _tenant_model()
    from django.utils import timezone

    updated = Tenant.objects.filter(stripe_account_id=account_id).update(
        stripe_charges_enabled=bool(getattr(account, "charges_enabled", False)),
        stripe_details_submitted=bool(getattr(account, "details_submitted", False)),
        stripe_requirements_due=[str(item) for item in due][:50],
        stripe_checked_at=timezone.now(),
    )
    _routes_changed()
    return bool(updated)


def connect_refresh(*, tenant):
    """The owner is back from Stripe (or asked to check): the account's state, fresh."""
    if tenant.stripe_account_id and not tenant.stripe_account_id.startswith(DEMO_PREFIX):
        connect_account_sync(account_id=tenant.stripe_account_id)
        tenant.refresh_from_db()
    return tenant


def connect_demo(*, tenant):
    """Demo only (a local Stripe stand-in): mark the business connected with a demo account,
    which the local stand-in accepts for payments. Refused against real Stripe."""
    if not connect_demo_mode():
        raise ApplicationError(
            "stripe_demo_only",
            "A demo connection is only possible against the local Stripe stand-in.",
            status=409,
        )
    from django.utils import timezone

    Tenant = _tenant_model()
    account = tenant.stripe_account_id or f"{DEMO_PREFIX}{tenant.schema_name}"
    Tenant.objects.filter(pk=tenant.pk).update(
        stripe_account_id=account,
        stripe_charges_enabled=True,
        stripe_details_submitted=True,
        stripe_requirements_due=[],
        stripe_checked_at=timezone.now(),
    )
    _routes_changed()
    tenant.refresh_from_db()
    return tenant
