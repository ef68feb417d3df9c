"""POST /webhooks/stripe on the root host: one Connect endpoint for the platform.

The signature is checked on the raw body; the event id is recorded (unique) in the schema of
the tenant whose account sent it before anything else; the answer is immediate, and a Celery
task re-fetches the object from Stripe and applies one-way changes (``portal.orders.events``)."""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from saas_platform.tasks import enqueue_on_commit
from tenants.models import Tenant

from .models import StripeEvent

logger = logging.getLogger(__name__)

HANDLED = {
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
    "payment_intent.canceled", "setup_intent.succeeded", "charge.refunded",
    "charge.dispute.created", "account.updated",
}  # fmt: skip


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if not settings.STRIPE_WEBHOOK_SECRET:
        return _error("webhooks_not_configured", "STRIPE_WEBHOOK_SECRET is not set.", 503)
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
        )
    except (ValueError, stripe.SignatureVerificationError):
        return _error(
            "invalid_signature", "The Stripe signature is missing, wrong or too old.", 400
        )
    data = event.to_dict()  # Stripe objects are not dicts
    event_id, event_type = data["id"], data["type"]
    account = data.get("account") or ""
    tenant = Tenant.objects.filter(stripe_account_id=account).first() if account else None
    if tenant is None:
        logger.info("stripe event %s for unknown account %r ignored", event_id, account)
        return JsonResponse({"received": True, "ignored": "unknown account"})
    object_id = (data.get("data") or {}).get("object", {}).get("id", "")
    with tenant_context(tenant):
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, type=event_type, object_id=object_id)
                if event_type in HANDLED:
                    from portal.orders.tasks import stripe_event_process_task

                    enqueue_on_commit(stripe_event_process_task, event_id)
        except IntegrityError:
            connection.set_schema_to_public()
            return JsonResponse({"received": True, "duplicate": True})
    connection.set_schema_to_public()
    return JsonResponse({"received": True})
