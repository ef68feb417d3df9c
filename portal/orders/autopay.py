"""Autopay: collecting invoices off-session from the family's default saved card.

Monthly tuition: run daily per tenant (beat); on the billing day it bills every family with
active monthly enrollments once per month (an invoice, ``services.invoice_create``, with its
``AutopayCharge``). A transfer's price difference gets an autopay charge when it is approved.
Each attempt charges what is still due on the invoice; declines and "authentication required"
become a pay-now link (the invoice) by email, a failed attempt in the ledger, and retries on the
portal's schedule.

Running it twice charges nobody twice: one AutopayCharge per family and month, and each
attempt is claimed (status ``charging`` with a lease) and committed before Stripe is called with
the attempt's idempotency key; no row lock is held during the call. A lease that runs out (a
worker died mid-call) is retried with the same key, so Stripe answers with the same charge."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kernel.errors import ApplicationError
from portal import links
from portal.activity.services import activity_record
from portal.billing import gateway
from portal.billing import services as billing
from portal.billing.models import AutopayCharge, LedgerEntry, Payment, SavedPaymentMethod
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment.models import Enrollment, Order, OrderLine
from portal.enrollment.notifications import notify_family
from portal.enrollment.pricing import Line

from . import payments, services, tenders

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(start: date) -> date:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def autopay_run(*, today: date | None = None) -> dict[str, int]:
    portal = portal_settings_get()
    today = today or timezone.localdate()
    created = 0
    if today.day == portal.billing_day:
        created = _bill_period(_month_start(today))
    attempted = 0
    now = timezone.now()
    due = AutopayCharge.objects.filter(
        Q(status=AutopayCharge.Status.PENDING)
        | Q(
            status__in=[AutopayCharge.Status.FAILED, AutopayCharge.Status.CHARGING],
            next_attempt_at__lte=now,
        )
    ).values_list("pk", flat=True)
    for charge_id in list(due):
        autopay_attempt(charge_id=charge_id)
        attempted += 1
    return {"billed": created, "attempted": attempted}


def _bill_period(period: date) -> int:
    """One invoice per family for the month's monthly tuition; the first month of an
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
    for family_id, items in by_family.items():
        if AutopayCharge.objects.filter(family_id=family_id, period=period).exists():
            continue
        try:
            with transaction.atomic():
                services.invoice_create(
                    family=items[0].family,
                    kind=Order.Kind.TUITION,
                    lines=[
                        Line(
                            OrderLine.Kind.TUITION,
                            f"{e.offering.name} — {e.student.first_name}, {period:%B %Y}",
                            e.offering.tuition,
                            e.student_id,
                            e.offering_id,
                        )
                        for e in items
                    ],
                    idempotency_key=f"autopay:{period:%Y-%m}",
                    period=period,
                )
        except IntegrityError:
            continue  # another run billed this family for this month first
        created += 1
    return created


def autopay_attempt(*, charge_id: int) -> str:
    """One off-session attempt on an autopay charge. Safe to run twice."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        charge = AutopayCharge.objects.select_for_update().select_related("order").get(pk=charge_id)
        if charge.status in (AutopayCharge.Status.SUCCEEDED, AutopayCharge.Status.NEEDS_ACTION):
            return charge.status
        if charge.status == AutopayCharge.Status.CHARGING and charge.next_attempt_at > now:
            return "in progress"  # another worker holds the lease
        if charge.order.status == Order.Status.CONFIRMED:  # paid through the pay-now link
            charge.status = AutopayCharge.Status.SUCCEEDED
            charge.next_attempt_at = None
            charge.save(update_fields=["status", "next_attempt_at"])
            return charge.status
        if charge.status != AutopayCharge.Status.CHARGING:
            charge.attempts += 1  # a lapsed lease retries the same attempt (same key)
        method = SavedPaymentMethod.objects.filter(
            family_id=charge.family_id, is_default=True, removed_at__isnull=True
        ).first()
        if method is None or not hasattr(charge.family, "stripe_customer"):
            _failed(charge, portal, "No card on file.", final=True)
            return charge.status
        charge.status = AutopayCharge.Status.CHARGING
        charge.next_attempt_at = now + LEASE
        charge.save(update_fields=["attempts", "status", "next_attempt_at"])
        attempt = charge.attempts
    # Committed: no lock is held while Stripe is called.
    try:
        payment = payments.card_attempt(
            order=charge.order,
            amount=tenders.amount_due(charge.order),
            method=method,
            off_session=True,
            idempotency_key=gateway.idempotency_key("autopay", charge.pk, attempt),
        )
        if payment.status == Payment.Status.CREATING:
            payment, status = billing.payment_intent_send(payment=payment)
        else:  # an attempt already sent (a lapsed lease): ask Stripe how it went
            payment = payments.payment_refresh(payment_intent_id=payment.stripe_payment_intent_id)
            status = "succeeded" if payment.status == Payment.Status.SUCCEEDED else "processing"
    except ApplicationError as exc:
        if exc.code == "order_already_paid":
            return AutopayCharge.Status.SUCCEEDED
        return _record_failure(charge.pk, portal, exc)
    if status == "succeeded":
        payments.payment_refresh(payment_intent_id=payment.stripe_payment_intent_id)
        return AutopayCharge.Status.SUCCEEDED  # confirming the invoice settled the charge
    with transaction.atomic():
        charge = AutopayCharge.objects.select_for_update().get(pk=charge_id)
        if status == "requires_action":
            _failed(charge, portal, "Your bank asked you to confirm this payment.", final=True)
        elif charge.status == AutopayCharge.Status.CHARGING:
            charge.status = AutopayCharge.Status.PENDING  # processing: the webhook settles it
            charge.next_attempt_at = None
            charge.save(update_fields=["status", "next_attempt_at"])
    return charge.status


def _record_failure(charge_id: int, portal, exc: ApplicationError) -> str:
    with transaction.atomic():
        charge = AutopayCharge.objects.select_for_update().get(pk=charge_id)
        if exc.code == "card_declined":
            failed = (
                Payment.objects.filter(order_id=charge.order_id, status=Payment.Status.FAILED)
                .order_by("-attempt")
                .first()
            )
            needs_auth = failed is not None and failed.failure_code == "authentication_required"
            _failed(charge, portal, exc.message, final=needs_auth)
        else:  # Stripe unreachable: not the family's failure; the same attempt in an hour
            logger.warning("autopay charge %s: %s; will retry", charge.pk, exc.code)
            charge.status = AutopayCharge.Status.CHARGING
            charge.next_attempt_at = timezone.now() + timedelta(hours=1)
            charge.save(update_fields=["status", "next_attempt_at"])
    return charge.status


def _failed(charge: AutopayCharge, portal, reason: str, *, final: bool) -> None:
    """Record the failed attempt, email the pay-now link, schedule the next try (if any).
    Under the charge's lock."""
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
    billing.ledger_post(
        family_id=charge.family_id,
        kind=LedgerEntry.Kind.PAYMENT,
        description=f"Autopay attempt {charge.attempts} failed: {reason}",
        amount=0,
        currency=charge.currency,
        source_key=f"autopay-failed:{charge.pk}:{charge.attempts}",
        order=charge.order,
    )
    what = f"{charge.period:%B %Y}" if charge.period else charge.order.lines.first().description
    activity_record(
        kind="autopay_failed",
        family_id=charge.family_id,
        summary=f"Autopay for {what} failed (attempt {charge.attempts}): {reason}",
        obj=charge,
    )
    notify_family(
        charge.family_id,
        "autopay_failed",
        {
            "period": what,
            "amount": f"{charge.amount / 100:.2f} {charge.currency}",
            "reason": reason,
            "retry": (
                f"{timezone.localtime(charge.next_attempt_at):%b %-d}"
                if charge.next_attempt_at
                else ""
            ),
            "url": links.url("order", order_id=charge.order_id),
        },
    )


def autopay_next(*, family, today: date | None = None) -> dict | None:
    """The family's next autopay: the billing day it falls on, what it will bill (the monthly
    tuition of its active enrollments then running) and the saved card it will charge (the
    default one). ``None`` when nothing monthly is due. Read only; ``_bill_period`` decides."""
    from portal.billing.models import SavedPaymentMethod

    portal = portal_settings_get()
    today = today or timezone.localdate()
    day = today.replace(day=portal.billing_day)
    if day <= today:
        day = (_month_end(_month_start(today)) + timedelta(days=1)).replace(day=portal.billing_day)
    period = _month_start(day)
    enrollments = (
        Enrollment.objects.filter(
            family=family,
            status=Enrollment.Status.ACTIVE,
            offering__tuition_billing=Offering.TuitionBilling.MONTHLY,
            start_date__lt=period,
            offering__end_date__gte=period,
            offering__start_date__lte=_month_end(period),
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=period))
        .select_related("offering")
    )
    amount = sum(e.offering.tuition for e in enrollments)
    if amount <= 0:
        return None
    card = (
        SavedPaymentMethod.objects.filter(family=family, removed_at__isnull=True)
        .order_by("-is_default", "-pk")
        .first()
    )
    return {"date": day, "amount": amount, "card": card}
