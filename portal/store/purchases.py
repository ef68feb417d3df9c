"""Buying from the store: a gift certificate or a punch pass is an order like any other
(``portal.orders``), paid online or free; what it bought is activated when the order is
confirmed (``portal.store.services``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal import formats
from portal.accounts.services import _clean_email
from portal.config.selectors import portal_settings_get
from portal.enrollment.errors import not_found
from portal.enrollment.models import Order, OrderLine
from portal.enrollment.pricing import Line
from portal.orders import payments
from portal.orders import services as orders

from .models import GiftCertificate, PunchPass, PunchPassProduct
from .services import gift_certificates_enabled_check, punch_passes_enabled_check


def gift_certificate_buy(
    *, family, amount: int, recipient_name: str, recipient_email: str, message: str = ""
) -> Order:
    """An order for one certificate; it becomes active (and is emailed) when the order is paid."""
    gift_certificates_enabled_check()
    portal = portal_settings_get()
    allowed = set(portal.gift_amount_list)
    if (
        amount not in allowed
        and not portal.gift_certificate_min <= amount <= portal.gift_certificate_max
    ):
        raise ApplicationError(
            "gift_amount_invalid",
            _("Choose one of the offered amounts or an amount between %(min)s and %(max)s.")
            % {
                "min": formats.money(portal.gift_certificate_min, connection.tenant.currency),
                "max": formats.money(portal.gift_certificate_max, connection.tenant.currency),
            },
            fields={"amount": ["Not an offered amount."]},
        )
    recipient_name = (recipient_name or "").strip()[:150]
    if not recipient_name:
        raise ApplicationError(
            "recipient_name_required",
            "Who is the gift for?",
            fields={"recipient_name": ["Required."]},
        )
    recipient_email = _clean_email(recipient_email, "recipient_email")
    now = timezone.now()
    with transaction.atomic():
        order = orders.order_create(
            family=family,
            kind=Order.Kind.STORE,
            lines=[
                Line(
                    OrderLine.Kind.GIFT_CERTIFICATE,
                    f"Gift certificate for {recipient_name}",
                    amount,
                )
            ],
            idempotency_key=f"gift:{uuid.uuid4().hex}",
            expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
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


def punch_pass_buy(*, family, product_id: int, student_id: int | None = None) -> Order:
    """An order for one pass, priced from the product. A free pass is confirmed (and activated)
    at once; otherwise it is paid like any order (``POST /orders/<id>/pay``)."""
    punch_passes_enabled_check()
    portal = portal_settings_get()
    product = PunchPassProduct.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise ApplicationError(
            "punch_pass_product_not_found", "We could not find that punch pass.", status=404
        )
    student = None
    if product.scope == PunchPassProduct.Scope.STUDENT:
        if not student_id:
            message = f"{product.name} is for one student: choose who it is for."
            raise ApplicationError(
                "student_required", message, status=400, fields={"student": [message]}
            )
        student = family.students.filter(pk=student_id).first()
        if student is None:
            raise not_found("student")
    now = timezone.now()
    with transaction.atomic():
        order = orders.order_create(
            family=family,
            kind=Order.Kind.STORE,
            lines=[
                Line(
                    OrderLine.Kind.PUNCH_PASS,
                    f"Punch pass: {product.name}"[:255],
                    product.price,
                    student.pk if student else None,
                )
            ],
            idempotency_key=f"punch:{uuid.uuid4().hex}",
            expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
        )
        PunchPass.objects.create(
            product=product,
            family=family,
            student=student,
            visits_total=product.visits,
            visits_left=product.visits,
            status=PunchPass.Status.AWAITING_PAYMENT,
            order=order,
            created_at=now,
        )
        if order.total == 0:
            order = orders.order_confirm(order_id=order.pk)
    return order


def gift_certificate_buy_as_visitor(
    *,
    buyer_name: str,
    buyer_email: str,
    amount: int,
    recipient_name: str,
    recipient_email: str,
    message: str = "",
):
    """A visitor buys a certificate: a guest family (no login) holds the order so payments,
    the ledger and emails work as for anyone. Returns (order, payment) for the Payment Element."""
    from portal.accounts.models import Family, Guardian

    gift_certificates_enabled_check()
    if not portal_settings_get().gift_certificates_visitors_may_buy:
        raise ApplicationError(
            "visitor_purchase_disabled", "Please sign in to buy a gift certificate.", status=403
        )
    buyer_name = (buyer_name or "").strip()[:150]
    if not buyer_name:
        raise ApplicationError(
            "buyer_name_required", "Tell us your name.", fields={"buyer_name": ["Required."]}
        )
    buyer_email = _clean_email(buyer_email, "buyer_email")
    with transaction.atomic():
        family = Family.objects.create(
            name=f"{buyer_name} (gift buyer)", is_guest=True, status=Family.Status.INACTIVE
        )
        first, _space, last = buyer_name.partition(" ")
        Guardian.objects.create(
            family=family,
            first_name=first,
            last_name=last or "-",
            email=buyer_email,
            is_primary=True,
        )
        order = gift_certificate_buy(
            family=family,
            amount=amount,
            recipient_name=recipient_name,
            recipient_email=recipient_email,
            message=message,
        )
    payment = payments.order_pay(family=family, order_id=order.pk)
    return order, payment
