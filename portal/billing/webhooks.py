"""POST /webhooks/stripe on the root host: one Connect endpoint for the platform.

The signature is checked on the raw body; the event id is recorded (unique) in the schema of
the tenant whose account sent it before anything else; the answer is immediate, and a Celery
task re-fetches the object from Stripe and applies one-way changes."""

from __future__ import annotations

import logging
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse
from django.utils import timezone
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
                    from .tasks import stripe_event_process_task

                    enqueue_on_commit(stripe_event_process_task, event_id)
        except IntegrityError:
            connection.set_schema_to_public()
            return JsonResponse({"received": True, "duplicate": True})
    connection.set_schema_to_public()
    return JsonResponse({"received": True})


# An event about a payment we have no row for yet (Stripe can be faster than our commit: the
# charge of a saved card is confirmed inside the transaction that records the payment) stays
# pending and is retried; after this long without its payment it is closed with an error.
EVENT_WAIT = timedelta(days=1)
WAITING = "waiting"


def event_apply(*, event_id: str) -> str:
    """Process one recorded event (in its tenant's schema). Safe to run twice. Returns
    ``"waiting"`` (and leaves the event pending) when the payment it is about is not recorded
    yet: the task retries, and ``stripe_events_retry`` sweeps what is still pending."""
    from . import services

    event = StripeEvent.objects.filter(event_id=event_id).first()
    if event is None:
        return "missing"
    if event.processed_at is not None:
        return "already processed"
    kind, object_id = event.type, event.object_id
    found = True
    if kind.startswith("payment_intent."):
        found = services.payment_sync(payment_intent_id=object_id) is not None
    elif kind == "setup_intent.succeeded":
        services.setup_intent_sync(setup_intent_id=object_id)
    elif kind == "charge.refunded":
        found = services.charge_refunded_sync(charge_id=object_id) is not None
    elif kind == "charge.dispute.created":
        from . import gateway

        dispute = gateway.client().v1.disputes.retrieve(
            object_id, options={"stripe_account": gateway.connected_account()}
        )
        charge = gateway.client().v1.charges.retrieve(
            dispute.charge, options={"stripe_account": gateway.connected_account()}
        )
        services.dispute_flag(payment_intent_id=charge.payment_intent)
    elif kind == "account.updated":
        from . import gateway

        account = gateway.client().v1.accounts.retrieve(object_id)
        Tenant.objects.filter(stripe_account_id=object_id).update(
            stripe_charges_enabled=bool(account.charges_enabled)
        )
    if not found:
        if timezone.now() - event.received_at < EVENT_WAIT:
            StripeEvent.objects.filter(pk=event.pk).update(error="no matching payment yet")
            return WAITING
        StripeEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
            processed_at=timezone.now(), error="no matching payment"
        )
        return "no matching payment"
    StripeEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), error=""
    )
    return "processed"


def events_retry(*, older_than: timedelta = timedelta(seconds=30)) -> int:
    """Apply again the handled events still pending (their payment was not recorded yet when
    they came, or their task was lost); returns how many are processed now."""
    cutoff = timezone.now() - older_than
    pending = StripeEvent.objects.filter(
        processed_at__isnull=True, type__in=HANDLED, received_at__lte=cutoff
    ).order_by("received_at")
    done = 0
    for event_id in pending.values_list("event_id", flat=True)[:500]:
        try:
            if event_apply(event_id=event_id) != WAITING:
                done += 1
        except Exception:  # Stripe unreachable: the next sweep tries again
            logger.exception("stripe event %s could not be applied", event_id)
    return done
