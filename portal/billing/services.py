"""Payments, refunds and the ledger. Only Stripe says a payment succeeded (a webhook, or
re-fetching the PaymentIntent); every state change is one-way, and recording anything twice is
impossible (ledger entries carry a unique source key). No row lock is held while Stripe is
called: an attempt is recorded and committed, Stripe is called with the attempt's idempotency
key, and the result is recorded in a new transaction. What an order costs and when it is
confirmed is ``portal.orders``' business; this module never confirms an order."""

from __future__ import annotations

import logging
from datetime import timedelta

import stripe
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.enrollment.models import Order, OrderLine
from portal.privacy.audit import audit_record

from . import gateway
from .models import LedgerEntry, Payment, Refund, SavedPaymentMethod, StripeCustomer
from .money import amount_format

logger = logging.getLogger(__name__)

LINE_KINDS = {
    OrderLine.Kind.TUITION: LedgerEntry.Kind.CHARGE,
    OrderLine.Kind.REGISTRATION_FEE: LedgerEntry.Kind.CHARGE,
    OrderLine.Kind.SIBLING_DISCOUNT: LedgerEntry.Kind.DISCOUNT,
    OrderLine.Kind.MULTI_CLASS_DISCOUNT: LedgerEntry.Kind.DISCOUNT,
    OrderLine.Kind.GIFT_CERTIFICATE: LedgerEntry.Kind.CHARGE,
    OrderLine.Kind.PUNCH_PASS: LedgerEntry.Kind.CHARGE,
    OrderLine.Kind.TRANSFER: LedgerEntry.Kind.CHARGE,
}
OPEN = (Payment.Status.CREATING, Payment.Status.PENDING, Payment.Status.PROCESSING)
# A refund still ``pending`` this long after it was recorded lost its process between Stripe's
# answer and our record: ``refunds_resume`` asks Stripe again with the same idempotency key.
REFUND_RESUME_AFTER = timedelta(minutes=5)


# --- the ledger ---------------------------------------------------------------------------


def ledger_post(
    *,
    family_id,
    kind,
    description,
    amount,
    currency,
    source_key,
    order=None,
    payment=None,
    new_source=False,
) -> LedgerEntry:
    """One ledger entry, once per ``source_key`` (a second call returns the first entry).
    ``new_source``: the caller made the source in this transaction, so it can have no entry
    yet and the insert needs no savepoint to survive a duplicate (two round trips fewer; a
    duplicate would still be refused by the unique key, failing the transaction)."""
    fields = {
        "family_id": family_id,
        "kind": kind,
        "description": description[:255],
        "amount": amount,
        "currency": currency,
        "source_key": source_key,
        "order": order,
        "payment": payment,
    }
    if new_source:
        return LedgerEntry.objects.create(**fields)
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(**fields)
    except IntegrityError:
        return LedgerEntry.objects.get(source_key=source_key)  # already recorded


def ledger_record_order(
    *, order: Order, lines: list[OrderLine] | None = None, new_order: bool = False
) -> None:
    """The order's charges and discounts, one entry per line (idempotent). Lines that are not
    charges (a balance payment) are skipped. Tenders are recorded by ``portal.orders``.
    ``lines``: the order's lines when the caller has just read them (not read again);
    ``new_order``: the order was made in this transaction and not recorded yet (each entry is
    inserted without a savepoint, ``ledger_post``)."""
    if lines is None:
        lines = list(order.lines.exclude(kind__in=OrderLine.NOT_CHARGED))
    for line in lines:
        if line.kind in OrderLine.NOT_CHARGED:
            continue
        ledger_post(
            family_id=order.family_id,
            kind=LINE_KINDS[line.kind],
            description=line.description,
            amount=line.amount,
            currency=order.currency,
            source_key=f"orderline:{line.pk}",
            order=order,
            new_source=new_order,
        )


def ledger_record_payment(*, payment: Payment) -> LedgerEntry:
    return ledger_post(
        family_id=payment.family_id,
        kind=LedgerEntry.Kind.PAYMENT,
        description=f"Card payment for order {payment.order_id}",
        amount=-payment.amount,
        currency=payment.currency,
        source_key=f"payment:{payment.pk}",
        order=payment.order,
        payment=payment,
    )


def ledger_balance(family) -> int:
    """What the family owes (positive) or has as credit (negative), over the whole ledger."""
    return LedgerEntry.objects.filter(family=family).aggregate(total=Sum("amount"))["total"] or 0


# --- paying an order ------------------------------------------------------------------------


def payment_attempt_open(
    *,
    order: Order,
    amount: int,
    saved_method: SavedPaymentMethod | None = None,
    off_session: bool = False,
    idempotency_key: str = "",
) -> Payment:
    """The order's open payment, or a new attempt recorded for ``amount`` (committed before
    Stripe is called; ``payment_intent_send`` sends it). A second click while an attempt is open
    gets the same attempt, so nobody is charged twice. The attempt's idempotency key is fixed
    here (by default from the order and the attempt number)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        # An order has a handful of attempts at most: one read finds the open one and the last.
        previous = list(locked.payments.order_by("-attempt"))
        current = next((p for p in previous if p.status in OPEN), None)
        if current is not None:
            return current
        attempt = (previous[0].attempt if previous else 0) + 1
        return Payment.objects.create(
            family_id=locked.family_id,
            order=locked,
            attempt=attempt,
            amount=amount,
            currency=locked.currency,
            status=Payment.Status.CREATING,
            saved_method=saved_method,
            off_session=off_session,
            idempotency_key=idempotency_key
            or gateway.idempotency_key("order-pay", locked.pk, attempt),
        )


def payment_intent_send(*, payment: Payment) -> tuple[Payment, str]:
    """Create the attempt's PaymentIntent on the business's account (no lock held during the
    call; the attempt's idempotency key makes a retry return the same PaymentIntent), then record
    it. Returns the payment and the PaymentIntent's status. A declined saved card is recorded as
    a failed attempt and raised as ``card_declined``."""
    if payment.status != Payment.Status.CREATING:
        return payment, ""
    params = {
        "amount": payment.amount,
        "currency": payment.currency.lower(),
        "metadata": {
            "order_id": str(payment.order_id),
            "tenant": connection.schema_name,
            "attempt": str(payment.attempt),
        },
    }
    # Payment methods come from the business's Stripe dashboard: with the pinned API version
    # automatic_payment_methods is on by default, so it is not sent (localstripe, the offline
    # stand-in, also rejects it).
    fee = gateway.application_fee(payment.amount)
    if fee:
        params["application_fee_amount"] = fee
    method = payment.saved_method
    if method is not None:
        customer = StripeCustomer.objects.filter(family_id=payment.family_id).first()
        if customer is None or method.removed_at is not None:
            _payment_fail(payment, "The saved card is no longer on file.")
            raise ApplicationError(
                "payment_method_not_found", "We could not find that card.", status=404
            )
        params.update(
            customer=customer.customer_id,
            payment_method=method.stripe_payment_method_id,
            confirm=True,
        )
        if payment.off_session:
            params["off_session"] = True
    client, account = gateway.client(), gateway.charges_account()
    try:
        intent = client.v1.payment_intents.create(
            params=params,
            options={"stripe_account": account, "idempotency_key": payment.idempotency_key},
        )
    except stripe.CardError as exc:
        # The attempt is spent (its key may not be reused with other parameters): record it.
        failed_id = getattr(getattr(exc.error, "payment_intent", None), "id", None)
        _payment_fail(payment, exc.user_message or "", intent_id=failed_id, code=exc.code or "")
        raise gateway.wrap(exc) from exc
    except stripe.StripeError as exc:
        # Left ``creating``: the next click (or the sweep) sends it again with the same key.
        raise gateway.wrap(exc) from exc
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == Payment.Status.CREATING:
            payment.stripe_payment_intent_id = intent.id
            payment.client_secret = intent.client_secret or ""
            payment.status = Payment.Status.PENDING
            payment.save(update_fields=["stripe_payment_intent_id", "client_secret", "status"])
    return payment, intent.status


def _payment_fail(
    payment: Payment, message: str, *, intent_id: str | None = None, code: str = ""
) -> None:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.CREATING:
            return
        locked.status = Payment.Status.FAILED
        locked.failure_code = code[:60]
        locked.failure_message = (message or "")[:255]
        locked.stripe_payment_intent_id = intent_id or None
        locked.save(
            update_fields=["status", "failure_code", "failure_message", "stripe_payment_intent_id"]
        )
    payment.status, payment.failure_code = locked.status, locked.failure_code


def payment_intent_fetch(*, payment_intent_id: str):
    """The PaymentIntent as Stripe has it now (a network call: hold no lock)."""
    try:
        return gateway.client().v1.payment_intents.retrieve(
            payment_intent_id, options={"stripe_account": gateway.connected_account()}
        )
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc


def payment_apply_intent(*, payment: Payment, intent) -> bool:
    """Move the payment forward (never back) to what Stripe says. The caller holds the payment's
    row lock in its transaction. Returns whether the payment has succeeded; recording it in the
    ledger (and confirming its order) is the caller's step."""
    if payment.status == Payment.Status.SUCCEEDED:
        return True
    if intent.status == "succeeded":
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_at = timezone.now()
        payment.save(update_fields=["status", "succeeded_at"])
        return True
    if intent.status == "processing":
        payment.status = Payment.Status.PROCESSING
        payment.save(update_fields=["status"])
    elif intent.status == "canceled":
        payment.status = Payment.Status.CANCELED
        payment.save(update_fields=["status"])
    elif intent.status == "requires_payment_method" and intent.last_payment_error:
        payment.status = Payment.Status.FAILED
        payment.failure_message = (intent.last_payment_error.message or "")[:255]
        payment.save(update_fields=["status", "failure_message"])
    return False


def payment_cancel(*, payment: Payment) -> Payment:
    """Cancel an open attempt's PaymentIntent (no lock held during the call) and record what
    Stripe says: canceled, or succeeded if the family's payment went through meanwhile."""
    if payment.status == Payment.Status.CREATING or not payment.stripe_payment_intent_id:
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if locked.status == Payment.Status.CREATING:
                locked.status = Payment.Status.CANCELED
                locked.save(update_fields=["status"])
            return locked
    options = {"stripe_account": gateway.connected_account()}
    try:
        intent = gateway.client().v1.payment_intents.cancel(
            payment.stripe_payment_intent_id, options=options
        )
    except stripe.InvalidRequestError:  # no longer cancelable: succeeded or canceled already
        intent = payment_intent_fetch(payment_intent_id=payment.stripe_payment_intent_id)
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        payment_apply_intent(payment=locked, intent=intent)
    return locked


# --- refunds and disputes -----------------------------------------------------------------


def _refundable(payment: Payment) -> int:
    pending = (
        payment.refunds.filter(status=Refund.Status.PENDING).aggregate(n=Sum("amount"))["n"] or 0
    )
    return payment.amount - payment.amount_refunded - pending


def payment_refund(*, payment_id: int, amount: int | None = None, reason: str = "") -> Payment:
    """Staff refund all or part of a payment on the business's Stripe account. The refund is
    recorded and committed before Stripe is called with its own idempotency key, then completed
    in a second transaction (two concurrent refunds can never exceed what was paid)."""
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
        refundable = _refundable(payment)
        amount = refundable if amount is None else amount
        if amount <= 0 or amount > refundable:
            left = amount_format(max(refundable, 0), currency=payment.currency)
            raise ApplicationError(
                "refund_too_large",
                _("At most %(amount)s can be refunded on this payment.")
                % {"amount": f"{left} {payment.currency}"},
                fields={"amount": [_("At most %(amount)s.") % {"amount": left}]},
            )
        refund = Refund.objects.create(payment=payment, amount=amount, reason=reason[:255])
    _refund_send(refund)
    return Payment.objects.get(pk=payment_id)


def _refund_send(refund: Refund) -> None:
    ordinal = Refund.objects.filter(payment_id=refund.payment_id, pk__lte=refund.pk).count()
    try:
        created = gateway.client().v1.refunds.create(
            params={
                "payment_intent": refund.payment.stripe_payment_intent_id,
                "amount": refund.amount,
            },
            options={
                "stripe_account": gateway.connected_account(),
                "idempotency_key": gateway.idempotency_key("refund", refund.payment_id, ordinal),
            },
        )
    except stripe.InvalidRequestError as exc:
        with transaction.atomic():
            Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
                status=Refund.Status.FAILED,
                failure_message=(exc.user_message or str(exc))[:255],
                completed_at=timezone.now(),
            )
        raise gateway.wrap(exc) from exc
    except stripe.StripeError as exc:
        # Left pending: ``refunds_resume`` asks again with the same key.
        raise gateway.wrap(exc) from exc
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != Refund.Status.PENDING:
            return
        refund.status = Refund.Status.SUCCEEDED
        refund.stripe_refund_id = created.id
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "stripe_refund_id", "completed_at"])
        payment.amount_refunded += refund.amount
        payment.save(update_fields=["amount_refunded"])
        ledger_post(
            family_id=payment.family_id,
            kind=LedgerEntry.Kind.REFUND,
            description=f"Refund{': ' + refund.reason if refund.reason else ''}",
            amount=refund.amount,
            currency=payment.currency,
            source_key=f"refund:{created.id}",
            payment=payment,
            order=payment.order,
        )


def refunds_resume() -> int:
    """Refunds left pending by a process that died after calling Stripe: ask again with the
    same idempotency key (Stripe answers with the refund it made) and record them."""
    stale = Refund.objects.filter(
        status=Refund.Status.PENDING, created_at__lte=timezone.now() - REFUND_RESUME_AFTER
    ).select_related("payment")
    done = 0
    for refund in stale:
        try:
            _refund_send(refund)
            done += 1
        except ApplicationError:
            logger.warning("refund %s could not be resumed", refund.pk, exc_info=True)
    return done


def charge_refunded_sync(*, charge_id: str) -> Payment | None:
    """A refund made in Stripe's dashboard: record what we have neither recorded nor sent."""
    charge = gateway.client().v1.charges.retrieve(
        charge_id, options={"stripe_account": gateway.connected_account()}
    )
    payment = Payment.objects.filter(stripe_payment_intent_id=charge.payment_intent).first()
    if payment is None:
        return None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        ours = payment.amount - _refundable(payment)  # recorded or on their way
        extra = (charge.amount_refunded or 0) - ours
        if extra > 0:
            Refund.objects.create(
                payment=payment,
                amount=extra,
                reason="Refunded in Stripe",
                status=Refund.Status.SUCCEEDED,
                completed_at=timezone.now(),
            )
            payment.amount_refunded += extra
            payment.save(update_fields=["amount_refunded"])
            ledger_post(
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


def stripe_onboarding_link(*, tenant, return_url: str, refresh_url: str = "") -> str:
    """Stripe's onboarding link for the business (portal.billing.connect)."""
    from .connect import connect_onboarding_link

    return connect_onboarding_link(
        tenant=tenant, refresh_url=refresh_url or return_url, return_url=return_url
    )


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
    record, _created = StripeCustomer.objects.get_or_create(
        family=family, defaults={"customer_id": customer.id}
    )
    return record


def payment_method_setup(*, guardian) -> str:
    """Start saving a card (Stripe's SetupIntent for off-session use); returns its client
    secret. The card is recorded when Stripe reports the SetupIntent succeeded. The attempt
    number is taken and committed first; Stripe is called with no lock held."""
    _method_policy_check(guardian)
    customer = stripe_customer_for(guardian.family)
    with transaction.atomic():
        customer = StripeCustomer.objects.select_for_update().get(pk=customer.pk)
        customer.setup_attempts += 1
        customer.save(update_fields=["setup_attempts"])
        attempt = customer.setup_attempts
    try:
        setup = gateway.client().v1.setup_intents.create(
            params={
                "customer": customer.customer_id,
                "usage": "off_session",
                "metadata": {"family_id": str(guardian.family_id)},
            },
            options={
                "stripe_account": gateway.connected_account(),
                "idempotency_key": gateway.idempotency_key("setup", guardian.family_id, attempt),
            },
        )
    except stripe.StripeError as exc:
        raise gateway.wrap(exc) from exc
    StripeCustomer.objects.filter(pk=customer.pk).update(pending_setup_intent_id=setup.id)
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
        saved, _created = SavedPaymentMethod.objects.get_or_create(
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
