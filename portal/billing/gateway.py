"""The one way to Stripe: a StripeClient built from settings (pinned API version, explicit
retries, an optional local base address), direct charges on the business's connected account,
and our own idempotency keys derived from the business object and attempt."""

from __future__ import annotations

import functools

import stripe
from django.conf import settings
from django.db import connection

from kernel.errors import ApplicationError
from kernel.network import stripe_client


def payments_not_configured() -> ApplicationError:
    return ApplicationError(
        "payments_not_configured",
        "This business does not take online payments yet. Please contact them to pay.",
        status=409,
    )


@functools.cache
def _client(key: str, base: str, version: str, retries: int) -> stripe.StripeClient:
    options = {"stripe_version": version, "max_network_retries": retries}
    if base:
        options["base_addresses"] = {"api": base, "connect": base}
    return stripe_client(key, **options)


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise payments_not_configured()
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_API_VERSION,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def connected_account() -> str:
    """The current tenant's Stripe account; every family payment is created on it."""
    account = getattr(connection.tenant, "stripe_account_id", "")
    if not account:
        raise payments_not_configured()
    return account


def charges_account() -> str:
    """The account a new charge or saved card goes to: connected, and Stripe has enabled its
    charges (``portal.billing.connect``). Reads and refunds of earlier payments only need
    ``connected_account``."""
    account = connected_account()
    if not getattr(connection.tenant, "stripe_charges_enabled", False):
        raise payments_not_configured()
    return account


def online_payments_ready() -> bool:
    """Card payments may be offered: the platform's keys and the business's enabled account."""
    tenant = connection.tenant
    return bool(
        settings.STRIPE_SECRET_KEY
        and settings.STRIPE_PUBLISHABLE_KEY
        and getattr(tenant, "stripe_account_id", "")
        and getattr(tenant, "stripe_charges_enabled", False)
    )


def ensure_configured() -> None:
    """Raise ``payments_not_configured`` before anything is recorded for a payment that could
    never be sent (no platform key, the business has not connected its Stripe account, or
    Stripe has not enabled its charges yet)."""
    client()
    charges_account()


def idempotency_key(kind: str, object_id, attempt: int = 1) -> str:
    """Deterministic per business object and attempt, unique across tenants (<= 255 chars)."""
    return f"{connection.schema_name}:{kind}:{object_id}:{attempt}"


def application_fee(amount: int) -> int:
    return amount * settings.STRIPE_APPLICATION_FEE_BPS // 10_000


def wrap(exc: stripe.StripeError) -> ApplicationError:
    if isinstance(exc, stripe.CardError):
        return ApplicationError(
            "card_declined", exc.user_message or "The card was declined.", status=402
        )
    return ApplicationError(
        "payment_provider_error",
        "The payment provider could not be reached. Please try again in a moment.",
        status=502,
    )
