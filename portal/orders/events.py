"""Stripe events, applied: each recorded event (``portal.billing.webhooks`` stores it and
answers Stripe at once) is processed here in its tenant's schema by a Celery task that re-fetches
the object from Stripe and makes one-way changes. Payments go through ``payments`` (which confirms
their orders); refunds, disputes, saved cards and account updates through ``portal.billing``."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from portal.billing import gateway
from portal.billing import services as billing
from portal.billing.models import StripeEvent
from portal.billing.webhooks import HANDLED

from . import payments

logger = logging.getLogger(__name__)


# An event about a payment we have no row for yet (Stripe can be faster than our commit: the
# charge of a saved card is confirmed inside the transaction that records the payment) stays
# pending and is retried; after this long without its payment it is closed with an error.
EVENT_WAIT = timedelta(days=1)
WAITING = "waiting"


def event_apply(*, event_id: str) -> str:
    """Process one recorded event (in its tenant's schema). Safe to run twice. Returns
    ``"waiting"`` (and leaves the event pending) when the payment it is about is not recorded
    yet: the task retries, and ``stripe_events_retry`` sweeps what is still pending."""
    event = StripeEvent.objects.filter(event_id=event_id).first()
    if event is None:
        return "missing"
    if event.processed_at is not None:
        return "already processed"
    kind, object_id = event.type, event.object_id
    found = True
    if kind.startswith("payment_intent."):
        found = payments.payment_refresh(payment_intent_id=object_id) is not None
    elif kind == "setup_intent.succeeded":
        billing.setup_intent_sync(setup_intent_id=object_id)
    elif kind == "charge.refunded":
        found = billing.charge_refunded_sync(charge_id=object_id) is not None
    elif kind == "charge.dispute.created":
        dispute = gateway.client().v1.disputes.retrieve(
            object_id, options={"stripe_account": gateway.connected_account()}
        )
        charge = gateway.client().v1.charges.retrieve(
            dispute.charge, options={"stripe_account": gateway.connected_account()}
        )
        billing.dispute_flag(payment_intent_id=charge.payment_intent)
    elif kind == "account.updated":
        from portal.billing.connect import connect_account_sync

        connect_account_sync(account_id=object_id)
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
