"""Payments and the ledger. Only Stripe says an order is paid (a webhook, or re-fetching the
PaymentIntent); every state change is one-way, and recording anything twice is impossible
(ledger entries carry a unique source key)."""

from __future__ import annotations

import logging

import stripe
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from portal.enrollment.models import Order, OrderLine
from portal.orders.services import order_confirm
from portal.privacy.audit import audit_record
from saas_platform.errors import ApplicationError

from . import gateway
from .models import LedgerEntry, Payment, SavedPaymentMethod, StripeCustomer

logger = logging.getLogger(__name__)

LINE_KINDS = {
    OrderLine.Kind.TUITION: LedgerEntry.Kind.CHARGE,
    OrderLine.Kind.REGISTRATION_FEE: LedgerEntry.Kind.CHARGE,
    OrderLine.Kind.SIBLING_DISCOUNT: LedgerEntry.Kind.DISCOUNT,
    OrderLine.Kind.MULTI_CLASS_DISCOUNT: LedgerEntry.Kind.DISCOUNT,
    OrderLine.Kind.GIFT_CERTIFICATE: LedgerEntry.Kind.CHARGE,
    OrderLine.Kind.GIFT_REDEMPTION: LedgerEntry.Kind.CREDIT,
}
OPEN = (Payment.Status.PENDING, Payment.Status.PROCESSING)


def _ledger(
    *, family_id, kind, description, amount, currency, source_key, order=None, payment=None
):
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                family_id=family_id,
                kind=kind,
                description=description[:255],
                amount=amount,
                currency=currency,
                source_key=source_key,
                order=order,
                payment=payment,
            )
    except IntegrityError:
        return LedgerEntry.objects.get(source_key=source_key)  # already recorded


def ledger_record_order(*, order: Order) -> None:
    """The order's charges and discounts (called when the order is confirmed). Account credit
    used by the order is not new money: the charges simply absorb the credit already there."""
    for line in order.lines.exclude(kind=OrderLine.Kind.ACCOUNT_CREDIT):
        _ledger(
            family_id=order.family_id,
            kind=LINE_KINDS[line.kind],
            description=line.description,
            amount=line.amount,
            currency=order.currency,
            source_key=f"orderline:{line.pk}",
            order=order,
        )


def ledger_balance(family) -> int:
    from django.db.models import Sum

    return LedgerEntry.objects.filter(family=family).aggregate(total=Sum("amount"))["total"] or 0


# --- paying an order ---------------------------------------------------------------------


def order_pay(*, family, order_id: int, saved_method_id: int | None = None) -> Payment:
    """Start (or resume) paying an order: with Stripe's Payment Element (returns the payment
    whose client secret the browser or app confirms) or by charging one of the family's saved
    cards at once. The amount is the server's price. A second click while a payment is open
    returns the same PaymentIntent, so nobody is charged twice."""
    order = Order.objects.filter(pk=order_id, family=family).first()
    if order is None:
        raise ApplicationError("order_not_found", "We could not find that order.", status=404)
    if order.status == Order.Status.CONFIRMED:
        raise ApplicationError("order_already_paid", "This order is already paid.", status=409)
    if order.status != Order.Status.AWAITING_PAYMENT or order.expires_at <= timezone.now():
        raise ApplicationError(
            "order_not_payable",
            "This order can no longer be paid: its seats were released. Add them to your cart "
            "again.",
            status=409,
        )
    method = customer = None
    if saved_method_id is not None:
        method = SavedPaymentMethod.objects.filter(
            pk=saved_method_id, family=family, removed_at__isnull=True
        ).first()
        customer = StripeCustomer.objects.filter(family=family).first()
        if method is None or customer is None:
            raise ApplicationError(
                "payment_method_not_found", "We could not find that card.", status=404
            )
    client, account = gateway.client(), gateway.connected_account()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        current = order.payments.filter(status__in=OPEN).order_by("-attempt").first()
        if current is not None:
            return current
        attempt = (
            order.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
        ) + 1
        # Payment methods come from the business's Stripe dashboard: with the pinned API
        # version automatic_payment_methods is on by default, so it is not sent (localstripe,
        # the offline stand-in, also rejects it).
        params = {
            "amount": order.total,
            "currency": order.currency.lower(),
            "metadata": {
                "order_id": str(order.pk),
                "tenant": connection.schema_name,
                "attempt": str(attempt),
            },
        }
        fee = gateway.application_fee(order.total)
        if fee:
            params["application_fee_amount"] = fee
        if method is not None:
            params.update(
                customer=customer.customer_id,
                payment_method=method.stripe_payment_method_id,
                confirm=True,
            )
        try:
            intent = client.v1.payment_intents.create(
                params=params,
                options={
                    "stripe_account": account,
                    "idempotency_key": gateway.idempotency_key("order-pay", order.pk, attempt),
                },
            )
        except stripe.CardError as exc:
            # The attempt is spent (its key may not be reused with other parameters): record it.
            failed_id = getattr(getattr(exc.error, "payment_intent", None), "id", None)
            Payment.objects.create(
                family_id=order.family_id,
                order=order,
                attempt=attempt,
                amount=order.total,
                currency=order.currency,
                status=Payment.Status.FAILED,
                stripe_payment_intent_id=failed_id or f"declined:{order.pk}:{attempt}",
                failure_message=(exc.user_message or "")[:255],
            )
            error = gateway.wrap(exc)
        except stripe.StripeError as exc:
            raise gateway.wrap(exc) from exc
        else:
            error = None
            payment = Payment.objects.create(
                family_id=order.family_id,
                order=order,
                attempt=attempt,
                amount=order.total,
                currency=order.currency,
                stripe_payment_intent_id=intent.id,
                client_secret=intent.client_secret or "",
            )
    if error is not None:
        raise error
    if method is not None and intent.status in ("succeeded", "processing"):
        payment = payment_sync(payment_intent_id=intent.id) or payment
    return payment


def payment_sync(*, payment_intent_id: str) -> Payment | None:
    """Re-fetch a PaymentIntent from Stripe and move our payment forward (never back). On
    success the ledger records the payment and the order's enrollments are confirmed."""
    payment = Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
    if payment is None:
        return None
    try:
        intent = gateway.client().v1.payment_intents.retrieve(
            payment_intent_id, options={"stripe_account": gateway.connected_account()}
        )
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == Payment.Status.SUCCEEDED:
            return payment
        if intent.status == "succeeded":
            payment.status = Payment.Status.SUCCEEDED
            payment.succeeded_at = timezone.now()
            payment.save(update_fields=["status", "succeeded_at"])
            order = Order.objects.get(pk=payment.order_id)
            if order.status == Order.Status.AWAITING_PAYMENT:
                order_confirm(order_id=order.pk)  # records the order's charges first
            elif order.status != Order.Status.CONFIRMED:
                # Paid after the seats lapsed: the payment stays on the account as credit.
                logger.warning(
                    "payment %s succeeded for %s order %s", payment.pk, order.status, order.pk
                )
            _ledger(
                family_id=payment.family_id,
                kind=LedgerEntry.Kind.PAYMENT,
                description=f"Card payment for order {payment.order_id}",
                amount=-payment.amount,
                currency=payment.currency,
                source_key=f"payment:{payment.pk}",
                order=payment.order,
                payment=payment,
            )
        elif intent.status == "processing":
            payment.status = Payment.Status.PROCESSING
            payment.save(update_fields=["status"])
        elif intent.status == "canceled":
            payment.status = Payment.Status.CANCELED
            payment.save(update_fields=["status"])
        elif intent.status == "requires_payment_method" and intent.last_payment_error:
            payment.status = Payment.Status.FAILED
            payment.failure_message = (intent.last_payment_error.message or "")[:255]
            payment.save(update_fields=["status", "failure_message"])
    return payment


# --- refunds and disputes -----------------------------------------------------------------


def payment_refund(*, payment_id: int, amount: int | None = None, reason: str = "") -> Payment:
    """Staff refund all or part of a payment on the business's Stripe account."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise ApplicationError(
                "payment_not_found", "We could not find that payment.", status=404
            )
        if payment.status != Payment.Status.SUCCEEDED:
            raise ApplicationError(
                "payment_not_refundable", "Only a succeeded payment can be refunded.", status=409
            )
        refundable = payment.amount - payment.amount_refunded
        amount = refundable if amount is None else amount
        if amount <= 0 or amount > refundable:
            raise ApplicationError(
                "refund_too_large",
                f"At most {refundable} can be refunded on this payment.",
                fields={"amount": [f"Between 1 and {refundable}."]},
            )
        done = LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.REFUND).count()
        try:
            refund = gateway.client().v1.refunds.create(
                params={"payment_intent": payment.stripe_payment_intent_id, "amount": amount},
                options={
                    "stripe_account": gateway.connected_account(),
                    "idempotency_key": gateway.idempotency_key("refund", payment.pk, done + 1),
                },
            )
        except stripe.StripeError as exc:
            raise gateway.wrap(exc) from exc
        payment.amount_refunded += amount
        payment.save(update_fields=["amount_refunded"])
        _ledger(
            family_id=payment.family_id,
            kind=LedgerEntry.Kind.REFUND,
            description=f"Refund{': ' + reason if reason else ''}"[:255],
            amount=amount,
            currency=payment.currency,
            source_key=f"refund:{refund.id}",
            payment=payment,
            order=payment.order,
        )
    return payment


def charge_refunded_sync(*, charge_id: str) -> Payment | None:
    """A refund made in Stripe's dashboard: record what we have not recorded yet."""
    charge = gateway.client().v1.charges.retrieve(
        charge_id, options={"stripe_account": gateway.connected_account()}
    )
    payment = Payment.objects.filter(stripe_payment_intent_id=charge.payment_intent).first()
    if payment is None:
        return None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        extra = (charge.amount_refunded or 0) - payment.amount_refunded
        if extra > 0:
            payment.amount_refunded += extra
            payment.save(update_fields=["amount_refunded"])
            _ledger(
                family_id=payment.family_id,
                kind=LedgerEntry.Kind.REFUND,
                description="Refund",
                amount=extra,
                currency=payment.currency,
                source_key=f"charge-refunded:{charge.id}:{payment.amount_refunded}",
                payment=payment,
                order=payment.order,
            )
    return payment


def dispute_flag(*, payment_intent_id: str) -> Payment | None:
    updated = Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).update(
        disputed=True
    )
    payment = (
        Payment.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
        if updated
        else None
    )
    if payment is not None:
        audit_record(action="update", obj=payment, fields={"disputed": [None, True]})
    return payment


def stripe_onboarding_link(*, tenant, return_url: str) -> str:
    """Connect the business's Stripe account (created once) and return Stripe's onboarding
    link for its staff."""
    client = gateway.client()
    from tenants.models import Tenant

    account_id = tenant.stripe_account_id
    if not account_id:
        try:
            account = client.v1.accounts.create(
                params={
                    "type": "standard",
                    "email": tenant.contact_email,
                    "metadata": {"tenant": tenant.schema_name},
                },
                options={"idempotency_key": f"tenant:{tenant.schema_name}:account:1"},
            )
        except stripe.StripeError as exc:
            raise gateway.wrap(exc) from exc
        account_id = account.id
        Tenant.objects.filter(pk=tenant.pk).update(stripe_account_id=account_id)
        tenant.stripe_account_id = account_id
        from tenants import routing

        routing.invalidate_on_commit()
    try:
        link = client.v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": return_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    return link.url


# --- saved payment methods ----------------------------------------------------------------


def _method_policy_check(guardian) -> None:
    from portal.config.selectors import portal_settings_get

    if portal_settings_get().stored_payment_method_policy == "off":
        raise ApplicationError(
            "payment_methods_disabled",
            "This business does not keep payment methods on file.",
            status=403,
        )
    if not guardian.is_primary:
        raise ApplicationError(
            "primary_guardian_only",
            "Only the primary guardian can manage payment methods.",
            status=403,
        )


def stripe_customer_for(family) -> StripeCustomer:
    """The family's Customer on the business's account, created once (idempotent key)."""
    existing = StripeCustomer.objects.filter(family=family).first()
    if existing is not None:
        return existing
    primary = family.guardians.filter(is_primary=True).first()
    try:
        customer = gateway.client().v1.customers.create(
            params={
                "name": family.name,
                "email": primary.email if primary else None,
                "metadata": {"family_id": str(family.pk), "tenant": connection.schema_name},
            },
            options={
                "stripe_account": gateway.connected_account(),
                "idempotency_key": gateway.idempotency_key("customer", family.pk),
            },
        )
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    record, _ = StripeCustomer.objects.get_or_create(
        family=family, defaults={"customer_id": customer.id}
    )
    return record


def payment_method_setup(*, guardian) -> str:
    """Start saving a card (Stripe's SetupIntent for off-session use); returns its client
    secret. The card is recorded when Stripe reports the SetupIntent succeeded."""
    _method_policy_check(guardian)
    customer = stripe_customer_for(guardian.family)
    with transaction.atomic():
        customer = StripeCustomer.objects.select_for_update().get(pk=customer.pk)
        customer.setup_attempts += 1
        customer.save(update_fields=["setup_attempts"])
        try:
            setup = gateway.client().v1.setup_intents.create(
                params={
                    "customer": customer.customer_id,
                    "usage": "off_session",
                    "metadata": {"family_id": str(guardian.family_id)},
                },
                options={
                    "stripe_account": gateway.connected_account(),
                    "idempotency_key": gateway.idempotency_key(
                        "setup", guardian.family_id, customer.setup_attempts
                    ),
                },
            )
        except stripe.StripeError as exc:
            raise gateway.wrap(exc) from exc
        customer.pending_setup_intent_id = setup.id
        customer.save(update_fields=["pending_setup_intent_id"])
    return setup.client_secret


def payment_methods_refresh(*, family) -> None:
    """The check on read: record the card of the last SetupIntent if Stripe says it succeeded
    and no webhook did it yet."""
    customer = (
        StripeCustomer.objects.filter(family=family).exclude(pending_setup_intent_id="").first()
    )
    if customer is None:
        return
    try:
        saved = setup_intent_sync(setup_intent_id=customer.pending_setup_intent_id)
    except (ApplicationError, stripe.StripeError):
        logger.warning("could not refresh setup intent of %s", customer.pk, exc_info=True)
        return
    if saved is not None:
        StripeCustomer.objects.filter(pk=customer.pk).update(pending_setup_intent_id="")


def setup_intent_sync(*, setup_intent_id: str) -> SavedPaymentMethod | None:
    """Record the card of a succeeded SetupIntent (re-fetched from Stripe). Idempotent."""
    options = {"stripe_account": gateway.connected_account()}
    setup = gateway.client().v1.setup_intents.retrieve(setup_intent_id, options=options)
    if setup.status != "succeeded" or not setup.payment_method:
        return None
    customer = StripeCustomer.objects.filter(customer_id=setup.customer).first()
    if customer is None:
        return None
    method_id = (
        setup.payment_method if isinstance(setup.payment_method, str) else setup.payment_method.id
    )
    method = gateway.client().v1.payment_methods.retrieve(method_id, options=options)
    card = getattr(method, "card", None)
    with transaction.atomic():
        has_default = SavedPaymentMethod.objects.filter(
            family_id=customer.family_id, is_default=True, removed_at__isnull=True
        ).exists()
        saved, _ = SavedPaymentMethod.objects.get_or_create(
            stripe_payment_method_id=method_id,
            defaults={
                "family_id": customer.family_id,
                "brand": getattr(card, "brand", "") or "",
                "last4": getattr(card, "last4", "") or "",
                "exp_month": getattr(card, "exp_month", None),
                "exp_year": getattr(card, "exp_year", None),
                "is_default": not has_default,
            },
        )
    return saved


def payment_method_set_default(*, guardian, method_id: int) -> SavedPaymentMethod:
    _method_policy_check(guardian)
    with transaction.atomic():
        method = (
            SavedPaymentMethod.objects.select_for_update()
            .filter(pk=method_id, family=guardian.family, removed_at__isnull=True)
            .first()
        )
        if method is None:
            raise ApplicationError(
                "payment_method_not_found", "We could not find that card.", status=404
            )
        SavedPaymentMethod.objects.filter(family=guardian.family, is_default=True).update(
            is_default=False
        )
        method.is_default = True
        method.save(update_fields=["is_default"])
    return method


def payment_method_remove(*, guardian, method_id: int) -> None:
    """Detach a card in Stripe and forget it. When the business requires a card for autopay,
    the last one cannot be removed while the family has active enrollments."""
    from portal.config.selectors import portal_settings_get
    from portal.enrollment.models import Enrollment

    _method_policy_check(guardian)
    method = SavedPaymentMethod.objects.filter(
        pk=method_id, family=guardian.family, removed_at__isnull=True
    ).first()
    if method is None:
        raise ApplicationError(
            "payment_method_not_found", "We could not find that card.", status=404
        )
    live = SavedPaymentMethod.objects.filter(family=guardian.family, removed_at__isnull=True)
    if (
        portal_settings_get().stored_payment_method_policy == "required"
        and live.count() == 1
        and Enrollment.objects.filter(
            family=guardian.family, status=Enrollment.Status.ACTIVE
        ).exists()
    ):
        raise ApplicationError(
            "payment_method_required",
            "A card on file is required for your enrollments; add another before removing "
            "this one.",
            status=409,
        )
    try:
        gateway.client().v1.payment_methods.detach(
            method.stripe_payment_method_id, options={"stripe_account": gateway.connected_account()}
        )
    except stripe.InvalidRequestError:
        pass  # already detached in Stripe
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    with transaction.atomic():
        was_default = method.is_default
        SavedPaymentMethod.objects.filter(pk=method.pk).update(
            removed_at=timezone.now(), is_default=False
        )
        if was_default:
            successor = live.exclude(pk=method.pk).order_by("-created_at").first()
            if successor is not None:
                SavedPaymentMethod.objects.filter(pk=successor.pk).update(is_default=True)


def order_payments_refresh(*, order) -> None:
    """The check on read: ask Stripe about the order's open payments, in case a webhook is late
    or was never delivered. Provider errors are left for the webhook to settle."""
    for payment in order.payments.filter(status__in=OPEN):
        try:
            payment_sync(payment_intent_id=payment.stripe_payment_intent_id)
        except ApplicationError:
            logger.warning("could not refresh payment %s", payment.pk, exc_info=True)


def available_credit(family) -> int:
    """Credit on the family's account not yet promised to an order waiting for payment."""
    from django.db.models import Sum

    promised = -(
        OrderLine.objects.filter(
            order__family=family,
            order__status=Order.Status.AWAITING_PAYMENT,
            kind=OrderLine.Kind.ACCOUNT_CREDIT,
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return max(-ledger_balance(family) - promised, 0)


def apply_account_credit(*, order: Order) -> int:
    """At checkout: pay what account credit covers (under the family's row lock, so two
    checkouts cannot spend the same credit)."""
    from portal.accounts.models import Family

    Family.objects.select_for_update(of=("self",)).filter(pk=order.family_id).first()
    order.refresh_from_db()
    amount = min(available_credit(order.family), order.total)
    if amount <= 0:
        return 0
    OrderLine.objects.create(
        order=order,
        kind=OrderLine.Kind.ACCOUNT_CREDIT,
        amount=-amount,
        description="Account credit",
    )
    Order.objects.filter(pk=order.pk).update(
        discount_total=order.discount_total - amount, total=order.total - amount
    )
    return amount
