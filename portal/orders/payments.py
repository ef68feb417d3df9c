"""Paying orders by card. What a card pays is the order's ``amount_due``; Stripe is called with
no row lock held (``portal.billing`` records an attempt, commits, calls, records the answer);
once Stripe says a payment succeeded the order is confirmed here, in one transaction with the
payment's ledger entry. A payment that arrives after its order lapsed stays on the family's
account as credit."""

from __future__ import annotations

import logging
from datetime import timedelta

import stripe
from django.db import transaction
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.activity.services import activity_record
from portal.billing import gateway
from portal.billing import services as billing
from portal.billing.models import Payment, SavedPaymentMethod
from portal.config.selectors import portal_settings_get
from portal.enrollment.models import Enrollment, Order
from portal.enrollment.services.seats import lock_offerings
from portal.privacy.audit import audit_batch

from . import services, tenders

logger = logging.getLogger(__name__)

# An attempt still ``creating`` this long lost its process before Stripe answered: the check on
# read sends it again with the same idempotency key.
RESEND_AFTER = timedelta(minutes=1)


def order_pay(*, family, order_id: int, saved_method_id: int | None = None) -> Payment:
    """Start (or resume) paying an order: with Stripe's Payment Element (returns the payment
    whose client secret the browser or app confirms) or by charging one of the family's saved
    cards at once. The amount is what is due on the server. A second click while a payment is
    open returns the same PaymentIntent, so nobody is charged twice; choosing a saved card after
    a Payment Element attempt was started cancels that attempt first."""
    order = Order.objects.filter(pk=order_id, family=family).first()
    if order is None:
        raise services.order_not_found()
    if order.status == Order.Status.CONFIRMED:
        raise ApplicationError("order_already_paid", "This order is already paid.", status=409)
    if order.status != Order.Status.AWAITING_PAYMENT or order.lapsed():
        raise services.order_not_payable()
    method = None
    if saved_method_id is not None:
        method = SavedPaymentMethod.objects.filter(
            pk=saved_method_id, family=family, removed_at__isnull=True
        ).first()
        if method is None or not hasattr(family, "stripe_customer"):
            raise ApplicationError(
                "payment_method_not_found", "We could not find that card.", status=404
            )
    due = tenders.amount_due(order)
    if due <= 0:
        return _nothing_due(order)
    gateway.ensure_configured()
    if method is None:
        payment = billing.payment_attempt_open(order=order, amount=due)
    else:
        payment = card_attempt(order=order, amount=due, method=method)
    payment, intent_status = billing.payment_intent_send(payment=payment)
    if intent_status in ("succeeded", "processing"):
        payment = payment_refresh(payment_intent_id=payment.stripe_payment_intent_id) or payment
    return payment


def card_attempt(
    *, order: Order, amount: int, method, off_session: bool = False, idempotency_key: str = ""
) -> Payment:
    """An attempt to charge ``method`` on the order. An open attempt of another kind (the family
    started paying with the Payment Element, then chose a saved card; or autopay finds the pay
    page open) gives way first, unless it went through meanwhile."""
    payment = billing.payment_attempt_open(
        order=order,
        amount=amount,
        saved_method=method,
        off_session=off_session,
        idempotency_key=idempotency_key,
    )
    if payment.saved_method_id == method.pk and payment.off_session == off_session:
        return payment
    payment = billing.payment_cancel(payment=payment)
    if payment.status == Payment.Status.SUCCEEDED:
        payment_refresh(payment_intent_id=payment.stripe_payment_intent_id)
        raise ApplicationError("order_already_paid", "This order is already paid.", status=409)
    return billing.payment_attempt_open(
        order=order,
        amount=amount,
        saved_method=method,
        off_session=off_session,
        idempotency_key=idempotency_key,
    )


def _nothing_due(order: Order) -> Payment:
    services.order_confirm(order_id=order.pk)
    raise ApplicationError(
        "order_already_paid", "Nothing is left to pay on this order.", status=409
    )


def balance_pay(*, family, saved_method_id: int | None = None) -> Payment:
    """Pay the family's whole open balance in one step (a balance order, paid like any)."""
    order = services.balance_order_create(family=family)
    return order_pay(family=family, order_id=order.pk, saved_method_id=saved_method_id)


def payment_refresh(*, payment_intent_id: str) -> Payment | None:
    """Ask Stripe about a payment and move it (and its order) forward: on success, the order is
    confirmed (its charges first) and the payment recorded in the ledger, in one transaction.
    Safe to run twice; a webhook, the check on read and autopay all come through here."""
    payment = Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
    if payment is None:
        return None
    intent = billing.payment_intent_fetch(payment_intent_id=payment_intent_id)  # no lock held
    portal = portal_settings_get()
    now = timezone.now()
    offering_ids = list(
        Enrollment.objects.filter(order_id=payment.order_id).values_list("offering_id", flat=True)
    )
    # The payment's, order's, enrollments' and ledger's audit entries: one INSERT at the end.
    with transaction.atomic(), audit_batch():
        offerings = lock_offerings(offering_ids)
        order = Order.objects.select_for_update(of=("self",)).get(pk=payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        payment.order = order  # the row locked above (the ledger entry names it)
        if not billing.payment_apply_intent(payment=payment, intent=intent):
            return payment
        if order.status == Order.Status.AWAITING_PAYMENT:
            if order.lapsed(now):
                # Paid after its seats lapsed: the payment stays on the account as credit.
                logger.warning("payment %s succeeded for lapsed order %s", payment.pk, order.pk)
                services.order_expire_locked(
                    order, offerings=offerings.values(), portal=portal, now=now
                )
            else:
                services.order_confirm_locked(order, portal=portal, now=now)
        billing.ledger_record_payment(payment=payment)
        activity_record(
            kind="payment",
            family_id=payment.family_id,
            summary=f"Paid {payment.amount // 100:,}.{payment.amount % 100:02d} "
            f"{payment.currency} by card (order {order.pk})",
            obj=payment,
        )
    return payment


def order_refresh(*, order: Order) -> None:
    """The check on read of an unpaid order: Stripe's word on its payments, then its deadline."""
    order_payments_refresh(order=order)
    order.refresh_from_db()
    if order.lapsed():
        services.order_expire(order_id=order.pk)


def order_payments_refresh(*, order: Order) -> None:
    """The check on read: ask Stripe about the order's open payments, in case a webhook is late
    or was never delivered, and send again an attempt whose process died before Stripe answered.
    Provider errors are left for the webhook (or the next read) to settle."""
    for payment in order.payments.filter(status__in=billing.OPEN):
        try:
            if payment.status == Payment.Status.CREATING:
                if payment.created_at <= timezone.now() - RESEND_AFTER:
                    billing.payment_intent_send(payment=payment)
                continue
            payment_refresh(payment_intent_id=payment.stripe_payment_intent_id)
        except (ApplicationError, stripe.StripeError):
            logger.warning("could not refresh payment %s", payment.pk, exc_info=True)
