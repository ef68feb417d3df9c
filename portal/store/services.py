"""Gift certificates: buy (an order paid like any other), issue and void (staff), check a
balance, and draw on it at checkout. Balances change only under the certificate's row lock."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from portal.config.selectors import portal_settings_get
from portal.enrollment.models import Order, OrderLine
from portal.enrollment.notifications import notify_family
from saas_platform.errors import ApplicationError
from saas_platform.tasks import enqueue_on_commit

from .models import GiftCertificate, GiftCertificateUse, normalize_code

logger = logging.getLogger(__name__)

MAX_FAILED_LOOKUPS = 5
LOOKUP_WINDOW_SECONDS = 15 * 60


def _enabled() -> None:
    if not portal_settings_get().gift_certificates_enabled:
        raise ApplicationError(
            "gift_certificates_disabled",
            "This business does not sell gift certificates.",
            status=403,
        )


def _invalid() -> ApplicationError:
    # One message for unknown, void and foreign codes: nothing to learn by guessing.
    return ApplicationError(
        "gift_certificate_invalid",
        "That gift certificate code is not valid.",
        fields={"gift_certificate_code": ["Check the code and try again."]},
    )


def _guard_guessing(family_id) -> str:
    key = f"store:gift-lookups:{family_id}"
    if (cache.get(key) or 0) >= MAX_FAILED_LOOKUPS:
        raise ApplicationError(
            "too_many_attempts",
            "Too many wrong codes. Please try again in 15 minutes.",
            status=429,
            headers={"Retry-After": str(LOOKUP_WINDOW_SECONDS)},
        )
    return key


def _failed(key: str) -> None:
    try:
        cache.add(key, 0, LOOKUP_WINDOW_SECONDS)
        cache.incr(key)
    except Exception:  # a cache outage must not break checkout
        logger.warning("could not count a wrong gift certificate code", exc_info=True)


def gift_certificate_lookup(*, family, code: str, lock: bool = False) -> GiftCertificate:
    key = _guard_guessing(family.pk)
    qs = GiftCertificate.objects.filter(
        code=normalize_code(code), status=GiftCertificate.Status.ACTIVE
    )
    if lock:
        qs = qs.select_for_update()
    certificate = qs.first()
    if certificate is None:
        _failed(key)
        raise _invalid()
    return certificate


def gift_certificate_buy(
    *, family, amount: int, recipient_name: str, recipient_email: str, message: str = ""
) -> Order:
    """An order for one certificate; it becomes active (and is emailed) when the order is paid."""
    _enabled()
    portal = portal_settings_get()
    allowed = set(portal.gift_amount_list)
    if (
        amount not in allowed
        and not portal.gift_certificate_min <= amount <= portal.gift_certificate_max
    ):
        raise ApplicationError(
            "gift_amount_invalid",
            f"Choose one of the offered amounts or an amount between {portal.gift_certificate_min} "
            f"and {portal.gift_certificate_max}.",
            fields={"amount": ["Not an offered amount."]},
        )
    recipient_name = (recipient_name or "").strip()[:150]
    if not recipient_name:
        raise ApplicationError(
            "recipient_name_required",
            "Who is the gift for?",
            fields={"recipient_name": ["Required."]},
        )
    from portal.accounts.services import _clean_email

    recipient_email = _clean_email(recipient_email, "recipient_email")
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.create(
            family=family,
            currency=connection.tenant.currency,
            subtotal=amount,
            total=amount,
            idempotency_key=f"gift:{now.timestamp()}:{family.pk}",
            created_at=now,
            expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
        )
        OrderLine.objects.create(
            order=order,
            kind=OrderLine.Kind.GIFT_CERTIFICATE,
            amount=amount,
            description=f"Gift certificate for {recipient_name}",
        )
        GiftCertificate.objects.create(
            status=GiftCertificate.Status.AWAITING_PAYMENT,
            initial_amount=amount,
            balance=amount,
            currency=order.currency,
            purchaser=family,
            order=order,
            recipient_name=recipient_name,
            recipient_email=recipient_email,
            message=(message or "")[:500],
        )
    return order


def gift_certificate_issue(
    *, amount: int, recipient_name: str, recipient_email: str, message: str = ""
) -> GiftCertificate:
    """Staff issue a certificate directly (a prize, a make-good)."""
    if amount <= 0:
        raise ApplicationError("gift_amount_invalid", "The amount must be positive.")
    with transaction.atomic():
        certificate = GiftCertificate.objects.create(
            initial_amount=amount,
            balance=amount,
            currency=connection.tenant.currency,
            recipient_name=recipient_name,
            recipient_email=recipient_email,
            message=message,
            issued_by_staff=True,
        )
        _email_certificate(certificate)
    return certificate


def gift_certificate_void(*, certificate_id: int) -> GiftCertificate:
    with transaction.atomic():
        certificate = GiftCertificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.status != GiftCertificate.Status.VOID:
            certificate.status = GiftCertificate.Status.VOID
            certificate.voided_at = timezone.now()
            certificate.save(update_fields=["status", "voided_at"])
    return certificate


def _email_certificate(certificate: GiftCertificate) -> None:
    from .tasks import send_gift_certificate_task

    enqueue_on_commit(send_gift_certificate_task, certificate.pk)


# --- order hooks (signals) ------------------------------------------------------------------


def apply_to_new_order(*, order: Order, code: str) -> None:
    """At checkout: draw on a certificate for up to the order's total (reserved until paid)."""
    _enabled()
    certificate = gift_certificate_lookup(family=order.family, code=code, lock=True)
    if certificate.currency != order.currency:
        raise _invalid()
    if certificate.balance <= 0:
        raise ApplicationError(
            "gift_certificate_empty", "This gift certificate has no balance left.", status=409
        )
    amount = min(certificate.balance, order.total)
    if amount <= 0:
        return
    certificate.balance -= amount
    certificate.save(update_fields=["balance"])
    GiftCertificateUse.objects.create(certificate=certificate, order=order, amount=amount)
    OrderLine.objects.create(
        order=order,
        kind=OrderLine.Kind.GIFT_REDEMPTION,
        amount=-amount,
        description=f"Gift certificate …{certificate.code[-4:]}",
    )
    Order.objects.filter(pk=order.pk).update(
        discount_total=order.discount_total - amount, total=order.total - amount
    )


def on_order_confirmed(*, order: Order) -> None:
    order.gift_uses.filter(status=GiftCertificateUse.Status.RESERVED).update(
        status=GiftCertificateUse.Status.USED
    )
    for certificate in order.gift_certificates.select_for_update().filter(
        status=GiftCertificate.Status.AWAITING_PAYMENT
    ):
        certificate.status = GiftCertificate.Status.ACTIVE
        certificate.save(update_fields=["status"])
        _email_certificate(certificate)
        notify_family(
            order.family_id,
            "gift_certificate_bought",
            {
                "recipient": certificate.recipient_name,
                "amount": certificate.initial_amount,
                "currency": certificate.currency,
            },
        )


def on_order_expired(*, order: Order) -> None:
    for use in order.gift_uses.select_related("certificate").filter(
        status=GiftCertificateUse.Status.RESERVED
    ):
        certificate = GiftCertificate.objects.select_for_update().get(pk=use.certificate_id)
        certificate.balance += use.amount
        certificate.save(update_fields=["balance"])
        use.status = GiftCertificateUse.Status.RELEASED
        use.save(update_fields=["status"])
