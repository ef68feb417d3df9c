"""Stripe's webhook deliveries, received (one Connect endpoint for the platform; its view is
portal_api.views.stripe_webhooks).

The signature is checked on the raw body; the event id is recorded (unique) in the schema of
the tenant whose account sent it before anything else; the answer is immediate, and a Celery
task re-fetches the object from Stripe and applies one-way changes (``portal.orders.events``)."""

from __future__ import annotations

import json
import logging
import time

import stripe
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from kernel.tasks import enqueue_on_commit
from tenants.models import Tenant

from .models import StripeEvent

logger = logging.getLogger(__name__)

HANDLED = {
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
    "payment_intent.canceled", "setup_intent.succeeded", "charge.refunded",
    "charge.dispute.created", "account.updated",
}  # fmt: skip


# Stripe's default: a signature older than this is a replay. Stripe's library refuses only old
# timestamps; one further in the future than this is refused here too (a captured, post-dated
# signature would otherwise stay valid for as long as its timestamp is ahead).
SIGNATURE_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE


def _signed_at(header: str) -> int | None:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _short_str(value, limit: int = 64) -> bool:
    if not isinstance(value, str) or not 0 < len(value) <= limit or "\x00" in value:
        return False
    try:
        value.encode("utf-8")  # a lone surrogate ("\ud800") cannot be stored
    except UnicodeEncodeError:
        return False
    return True


def _event_fields(payload: str) -> tuple[str, str, str, str] | None:
    """(event id, type, connected account, object id) of a signed body, or None when the body
    is not an event as Stripe sends them (signed does not mean well-formed)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    event_id, event_type, account = data.get("id"), data.get("type"), data.get("account")
    inner = data.get("data")
    obj = inner.get("object") if isinstance(inner, dict) else None
    if not _short_str(event_id) or not _short_str(event_type):
        return None
    if account is not None and not (account == "" or _short_str(account, 255)):
        return None
    if not isinstance(obj, dict):
        return None
    object_id = obj.get("id", "")
    if object_id != "" and not _short_str(object_id):
        return None
    return event_id, event_type, account or "", object_id


def stripe_event_receive(*, payload: bytes, signature: str) -> dict:
    """Verify a webhook delivery and record its event in the connected account's tenant (once:
    the event id is unique), enqueueing its processing on commit. Returns the answer's body;
    raises ``ApplicationError`` (``webhooks_not_configured``, ``invalid_signature``,
    ``event_malformed``) for a delivery Stripe must not count as received."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise ApplicationError(
            "webhooks_not_configured", "STRIPE_WEBHOOK_SECRET is not set.", status=503
        )
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, settings.STRIPE_WEBHOOK_SECRET, SIGNATURE_TOLERANCE
        )
        signed_at = _signed_at(signature)
        if signed_at is None or signed_at > time.time() + SIGNATURE_TOLERANCE:
            raise stripe.SignatureVerificationError("timestamp in the future", signature, text)
    except (ValueError, stripe.SignatureVerificationError):
        raise ApplicationError(
            "invalid_signature",
            "The Stripe signature is missing, wrong, too old or dated in the future.",
        ) from None
    fields = _event_fields(text)
    if fields is None:
        raise ApplicationError("event_malformed", "The signed body is not a Stripe event.")
    event_id, event_type, account, object_id = fields
    if not account:  # the platform's own account: plan billing (tenants/plans.py)
        from tenants.plans import platform_event_receive

        return platform_event_receive(
            event_id=event_id, event_type=event_type, obj=json.loads(text)["data"]["object"]
        )
    tenant = Tenant.objects.filter(stripe_account_id=account).first() if account else None
    if tenant is None:
        logger.info("stripe event %s for unknown account %r ignored", event_id, account)
        return {"received": True, "ignored": "unknown account"}
    with tenant_context(tenant):
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, type=event_type, object_id=object_id)
                if event_type in HANDLED:
                    from portal.orders.tasks import stripe_event_process_task

                    enqueue_on_commit(stripe_event_process_task, event_id)
        except IntegrityError:
            connection.set_schema_to_public()
            return {"received": True, "duplicate": True}
    connection.set_schema_to_public()
    return {"received": True}
