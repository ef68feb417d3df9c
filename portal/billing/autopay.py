"""Monthly tuition by autopay. Run daily per tenant (beat); on the billing day it bills every
family with active monthly enrollments once per month, charging the default saved card
off-session; declines and "authentication required" become a pay-now link (the charge's
order) by email, a failed attempt in the ledger, and retries on the portal's schedule.
Running it twice charges nobody twice: one AutopayCharge per family and month, and each
attempt's Stripe idempotency key is derived from that charge and the attempt number."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta

import stripe
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment.models import Enrollment, Order, OrderLine
from portal.enrollment.notifications import notify_family

from . import gateway
from .models import AutopayCharge, LedgerEntry, Payment, SavedPaymentMethod
from .services import _ledger, ledger_record_order, payment_sync

logger = logging.getLogger(__name__)
PAYABLE_FOR = timedelta(days=30)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(start: date) -> date:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def autopay_run(*, today: date | None = None) -> dict[str, int]:
    portal = portal_settings_get()
    today = today or timezone.localdate()
    created = 0
    if today.day == portal.billing_day:
        created = _bill_period(_month_start(today), portal)
    attempted = 0
    now = timezone.now()
    due = AutopayCharge.objects.filter(
        Q(status=AutopayCharge.Status.PENDING)
        | Q(status=AutopayCharge.Status.FAILED, next_attempt_at__lte=now)
    )
    for charge in due:
        _attempt(charge.pk, portal)
        attempted += 1
    return {"billed": created, "attempted": attempted}


def _bill_period(period: date, portal) -> int:
    """One charge (and order) per family for the month's monthly tuition; the first month of an
    enrollment was paid at registration."""
    end = _month_end(period)
    enrollments = (
        Enrollment.objects.filter(
            status=Enrollment.Status.ACTIVE,
            offering__tuition_billing=Offering.TuitionBilling.MONTHLY,
            start_date__lt=period,
            offering__end_date__gte=period,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=period))
        .select_related("offering", "student")
    )
    by_family = defaultdict(list)
    for enrollment in enrollments:
        if enrollment.offering.start_date <= end:
            by_family[enrollment.family_id].append(enrollment)
    created = 0
    currency = connection.tenant.currency
    for family_id, items in by_family.items():
        if AutopayCharge.objects.filter(family_id=family_id, period=period).exists():
            continue
        amount = sum(e.offering.tuition for e in items)
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    family_id=family_id,
                    currency=currency,
                    subtotal=amount,
                    total=amount,
                    idempotency_key=f"autopay:{period:%Y-%m}",
                    expires_at=timezone.now() + PAYABLE_FOR,
                )
                OrderLine.objects.bulk_create(
                    OrderLine(
                        order=order,
                        kind=OrderLine.Kind.TUITION,
                        amount=e.offering.tuition,
                        description=f"{e.offering.name} — {e.student.first_name}, {period:%B %Y}",
                        student_id=e.student_id,
                        offering_id=e.offering_id,
                    )
                    for e in items
                )
                AutopayCharge.objects.create(
                    family_id=family_id,
                    period=period,
                    amount=amount,
                    currency=currency,
                    order=order,
                )
                ledger_record_order(order=order)  # owed from today, paid or not
        except IntegrityError:
            continue  # another run billed this family for this month first
        created += 1
    return created


def _attempt(charge_id: int, portal) -> None:
    with transaction.atomic():
        charge = AutopayCharge.objects.select_for_update().select_related("order").get(pk=charge_id)
        if charge.status in (AutopayCharge.Status.SUCCEEDED, AutopayCharge.Status.NEEDS_ACTION):
            return
        if charge.order.status == Order.Status.CONFIRMED:  # paid through the pay-now link
            charge.status = AutopayCharge.Status.SUCCEEDED
            charge.save(update_fields=["status"])
            return
        charge.attempts += 1
        attempt = charge.attempts
        method = SavedPaymentMethod.objects.filter(
            family_id=charge.family_id, is_default=True, removed_at__isnull=True
        ).first()
        customer = getattr(charge.family, "stripe_customer", None)
        if method is None or customer is None:
            _failed(charge, portal, "No card on file.", final=True)
            return
        try:
            intent = gateway.client().v1.payment_intents.create(
                params={
                    "amount": charge.amount,
                    "currency": charge.currency.lower(),
                    "customer": customer.customer_id,
                    "payment_method": method.stripe_payment_method_id,
                    "off_session": True,
                    "confirm": True,
                    "metadata": {
                        "order_id": str(charge.order_id),
                        "autopay": f"{charge.period:%Y-%m}",
                        "tenant": connection.schema_name,
                    },
                },
                options={
                    "stripe_account": gateway.connected_account(),
                    "idempotency_key": gateway.idempotency_key("autopay", charge.pk, attempt),
                },
            )
        except stripe.CardError as exc:
            needs_auth = (exc.code or "") == "authentication_required"
            _failed(charge, portal, exc.user_message or "The card was declined.", final=needs_auth)
            return
        except stripe.StripeError:
            logger.warning(
                "autopay charge %s: Stripe unreachable; will retry", charge.pk, exc_info=True
            )
            charge.attempts -= 1  # not the family's failure
            charge.next_attempt_at = timezone.now() + timedelta(hours=1)
            charge.status = AutopayCharge.Status.FAILED
            charge.save(update_fields=["attempts", "next_attempt_at", "status"])
            return
        Payment.objects.get_or_create(
            stripe_payment_intent_id=intent.id,
            defaults={
                "family_id": charge.family_id,
                "order": charge.order,
                "attempt": attempt,
                "amount": charge.amount,
                "currency": charge.currency,
                "status": Payment.Status.PROCESSING,
            },
        )
        charge.status = (
            AutopayCharge.Status.PENDING if intent.status != "succeeded" else charge.status
        )
        charge.save(update_fields=["attempts", "status"])
    if intent.status == "succeeded":
        payment_sync(payment_intent_id=intent.id)  # confirms the order, records the payment
        AutopayCharge.objects.filter(pk=charge.pk).update(
            status=AutopayCharge.Status.SUCCEEDED, next_attempt_at=None, last_error=""
        )
    elif intent.status == "requires_action":
        with transaction.atomic():
            charge = AutopayCharge.objects.select_for_update().get(pk=charge.pk)
            _failed(charge, portal, "Your bank asked you to confirm this payment.", final=True)


def _failed(charge: AutopayCharge, portal, reason: str, *, final: bool) -> None:
    """Record the failed attempt, email the pay-now link, schedule the next try (if any)."""
    schedule = portal.retry_day_list
    retries_left = charge.attempts <= len(schedule) and not final
    charge.last_error = reason[:255]
    if retries_left:
        charge.status = AutopayCharge.Status.FAILED
        charge.next_attempt_at = timezone.now() + timedelta(days=schedule[charge.attempts - 1])
    else:
        charge.status = AutopayCharge.Status.NEEDS_ACTION
        charge.next_attempt_at = None
    charge.save(update_fields=["attempts", "status", "next_attempt_at", "last_error"])
    _ledger(
        family_id=charge.family_id,
        kind=LedgerEntry.Kind.PAYMENT,
        description=f"Autopay attempt {charge.attempts} failed: {reason}",
        amount=0,
        currency=charge.currency,
        source_key=f"autopay-failed:{charge.pk}:{charge.attempts}",
        order=charge.order,
    )
    notify_family(
        charge.family_id,
        "autopay_failed",
        {
            "period": charge.period.strftime("%B %Y"),
            "amount": f"{charge.amount / 100:.2f} {charge.currency}",
            "reason": reason,
            "retry": charge.next_attempt_at.strftime("%b %-d") if charge.next_attempt_at else "",
            "url": connection.tenant.url(f"/orders/{charge.order_id}/pay"),
        },
    )
