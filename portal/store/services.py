"""Gift certificates: buy (an order paid like any other), issue and void (staff), check a
balance, and draw on it at checkout. Balances change only under the certificate's row lock.

Punch passes: buy (an order), activate when it is confirmed, void (staff), and redeem a visit."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from portal.accounts.models import Student
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment import eligibility
from portal.enrollment.errors import busy, not_found
from portal.enrollment.models import Enrollment, Order, OrderLine
from portal.enrollment.notifications import notify_family
from portal.enrollment.services import lock_offerings, recount, settle
from portal.orders.services import order_confirm
from portal.outbox.services import outbox_enqueue
from saas_platform.errors import ApplicationError

from .models import (
    GiftCertificate,
    GiftCertificateUse,
    PunchPass,
    PunchPassProduct,
    PunchRedemption,
    normalize_code,
)

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

    outbox_enqueue(send_gift_certificate_task, certificate.pk)


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


# --- punch passes ----------------------------------------------------------------------------
#
# Bought through an order like a gift certificate (one "tuition" line, since OrderLine has no
# punch-pass kind), activated by ``order_confirmed``. Redeeming a visit takes a seat, so it runs
# under the offering's row lock (``lock_offerings``) and then the pass's row lock, in that order,
# and recounts the offering before it commits.


def _punch_enabled() -> None:
    if not portal_settings_get().punch_passes_enabled:
        raise ApplicationError(
            "punch_passes_disabled", "This business does not sell punch passes.", status=403
        )


def _refuse(code: str, message: str, *, status: int = 409, field: str | None = None):
    return ApplicationError(
        code, message, status=status, fields={field: [message]} if field else None
    )


def punch_pass_product_list():
    """Products for sale (empty while the business hides them from the list)."""
    _punch_enabled()
    if not portal_settings_get().show_punch_passes:
        return PunchPassProduct.objects.none()
    return PunchPassProduct.objects.filter(is_active=True).select_related("program")


def punch_pass_list(*, family):
    return (
        PunchPass.objects.filter(family=family)
        .select_related("product", "student")
        .prefetch_related("redemptions__offering", "redemptions__student")
    )


def punch_pass_buy(*, family, product_id: int, student_id: int | None = None) -> Order:
    """An order for one pass, priced from the product. A free pass is confirmed (and activated)
    at once; otherwise it is paid like any order (``POST /orders/<id>/pay``)."""
    _punch_enabled()
    portal = portal_settings_get()
    product = PunchPassProduct.objects.filter(pk=product_id, is_active=True).first()
    if product is None:
        raise ApplicationError(
            "punch_pass_product_not_found", "We could not find that punch pass.", status=404
        )
    student = None
    if product.scope == PunchPassProduct.Scope.STUDENT:
        if not student_id:
            raise _refuse(
                "student_required",
                f"{product.name} is for one student: choose who it is for.",
                status=400,
                field="student",
            )
        student = family.students.filter(pk=student_id).first()
        if student is None:
            raise not_found("student")
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.create(
            family=family,
            currency=connection.tenant.currency,
            subtotal=product.price,
            total=product.price,
            idempotency_key=f"punch:{uuid.uuid4().hex}",
            created_at=now,
            expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
        )
        OrderLine.objects.create(
            order=order,
            kind=OrderLine.Kind.TUITION,
            amount=product.price,
            description=f"Punch pass: {product.name}"[:255],
            student=student,
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
            order = order_confirm(order_id=order.pk)
    return order


def punch_passes_on_order_confirmed(*, order: Order) -> None:
    """Inside the confirming transaction: the order's passes become usable from today."""
    now = timezone.now()
    today = timezone.localdate(now)
    for punch in (
        PunchPass.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(order=order, status=PunchPass.Status.AWAITING_PAYMENT)
    ):
        punch.status = PunchPass.Status.ACTIVE
        punch.expires_on = today + timedelta(days=punch.product.valid_days)
        punch.activated_at = now
        punch.save(update_fields=["status", "expires_on", "activated_at"])


def punch_passes_on_order_expired(*, order: Order) -> None:
    PunchPass.objects.filter(order=order, status=PunchPass.Status.AWAITING_PAYMENT).update(
        status=PunchPass.Status.VOID, voided_at=timezone.now()
    )


def punch_pass_void(*, pass_id: int) -> PunchPass:
    """Staff void a pass: no more visits (visits already booked stay booked)."""
    with transaction.atomic():
        punch = PunchPass.objects.select_for_update().get(pk=pass_id)
        if punch.status != PunchPass.Status.VOID:
            punch.status = PunchPass.Status.VOID
            punch.voided_at = timezone.now()
            punch.save(update_fields=["status", "voided_at"])
    return punch


def _check_pass_usable(punch: PunchPass, meeting_date, today) -> None:
    if punch.status != PunchPass.Status.ACTIVE:
        message = (
            "This punch pass is not paid for yet."
            if punch.status == PunchPass.Status.AWAITING_PAYMENT
            else "This punch pass is no longer valid."
        )
        raise _refuse("punch_pass_not_active", message)
    if punch.is_expired(today):
        raise _refuse(
            "punch_pass_expired", f"This punch pass expired on {punch.expires_on:%b %-d}."
        )
    if punch.expires_on is not None and meeting_date > punch.expires_on:
        raise _refuse(
            "punch_pass_expired",
            f"This punch pass expires on {punch.expires_on:%b %-d, %Y}, before that meeting.",
            field="meeting_date",
        )
    if punch.visits_left <= 0:
        raise _refuse("punch_pass_used_up", "Every visit on this punch pass has been used.")


KIND_PLURALS = {"class": "classes", "camp": "camps", "event": "events"}


def _check_offering(punch: PunchPass, offering, meeting_date, now) -> None:
    product = punch.product
    if offering.status != Offering.Status.PUBLISHED:
        raise _refuse("offering_not_available", f"{offering.name} is not open for registration.")
    if offering.kind != product.kind:
        raise _refuse(
            "punch_pass_not_eligible",
            f"{product.name} is for {KIND_PLURALS[product.kind]} only.",
            field="offering",
        )
    if product.program_id is not None and offering.program_id != product.program_id:
        raise _refuse(
            "punch_pass_not_eligible",
            f"{product.name} cannot be used for {offering.name}.",
            field="offering",
        )
    if meeting_date not in offering.meetings():
        raise _refuse(
            "not_a_meeting",
            f"{offering.name} does not meet on {meeting_date:%b %-d, %Y}.",
            status=400,
            field="meeting_date",
        )
    ends = timezone.make_aware(datetime.combine(meeting_date, offering.end_time))
    if ends <= now:
        raise _refuse(
            "not_a_meeting",
            f"The {meeting_date:%b %-d} meeting of {offering.name} has already taken place.",
            status=400,
            field="meeting_date",
        )


def _redeeming_student(family, punch: PunchPass, student_id: int | None):
    if punch.student_id is not None:
        if student_id and student_id != punch.student_id:
            raise _refuse(
                "punch_pass_not_eligible",
                f"This punch pass is for {punch.student.first_name} only.",
                field="student",
            )
        student_id = punch.student_id
    if not student_id:
        raise _refuse(
            "student_required", "Choose the student who is coming.", status=400, field="student"
        )
    student = Student.objects.select_related("level").filter(pk=student_id, family=family).first()
    if student is None:
        raise not_found("student")
    return student


def punch_pass_redeem(
    *, family, pass_id: int, offering_id: int, meeting_date, student_id: int | None = None
) -> PunchRedemption:
    """Use one visit: a single-day enrollment (start and end on ``meeting_date``) that takes a
    seat until that day has passed."""
    _punch_enabled()
    portal = portal_settings_get()
    punch = (
        PunchPass.objects.select_related("product", "student")
        .filter(pk=pass_id, family=family)
        .first()
    )
    if punch is None:
        raise not_found("punch_pass")
    student = _redeeming_student(family, punch, student_id)
    offering = (
        Offering.objects.prefetch_related("levels")
        .filter(pk=offering_id)
        .exclude(status=Offering.Status.DRAFT)
        .first()
    )
    if offering is None:
        raise not_found("offering")
    now = timezone.now()
    today = timezone.localdate(now)
    # Everything that needs no lock first, so a refusal never waits on a busy offering.
    _check_pass_usable(punch, meeting_date, today)
    _check_offering(punch, offering, meeting_date, now)
    eligibility.check_student(student, offering)
    with transaction.atomic():
        locked = lock_offerings([offering.pk])
        if offering.pk not in locked:
            raise not_found("offering")
        offering = locked[offering.pk]
        try:  # lock_offerings set a short lock timeout for this transaction
            punch = (
                PunchPass.objects.select_for_update(of=("self",))
                .select_related("product")
                .get(pk=punch.pk)
            )
        except OperationalError as exc:
            raise busy() from exc
        _check_pass_usable(punch, meeting_date, today)
        _check_offering(punch, offering, meeting_date, now)
        settle(offering, portal, now)
        eligibility.check_not_taken(student, offering)
        if PunchRedemption.objects.filter(
            student=student, offering=offering, meeting_date=meeting_date
        ).exists():
            raise _refuse(
                "already_enrolled",
                f"{student.first_name} already used a visit for {offering.name} on "
                f"{meeting_date:%b %-d}.",
            )
        if offering.openings <= 0:
            raise _refuse("offering_full", f"{offering.name} is full.")
        enrollment = Enrollment.objects.create(
            family=family,
            student=student,
            offering=offering,
            status=Enrollment.Status.ACTIVE,
            start_date=meeting_date,
            end_date=meeting_date,
            staff_note=f"Punch pass {punch.pk} ({punch.product.name}): one visit.",
            created_at=now,
        )
        punch.visits_left -= 1
        punch.save(update_fields=["visits_left"])
        redemption = PunchRedemption.objects.create(
            punch_pass=punch,
            offering=offering,
            meeting_date=meeting_date,
            student=student,
            enrollment=enrollment,
            created_at=now,
        )
        recount(offering, portal)
    return redemption


# --- visitors ------------------------------------------------------------------------------


def visitor_token(order: Order) -> str:
    """Lets a visitor (no login) check their gift certificate order, and nothing else."""
    from django.core import signing

    return signing.dumps({"order": order.pk, "schema": connection.schema_name}, salt="gift-visitor")


def visitor_order(*, token: str) -> Order:
    from django.core import signing

    try:
        data = signing.loads(token, salt="gift-visitor", max_age=7 * 24 * 3600)
    except signing.BadSignature:
        raise ApplicationError("invalid_token", "This link is not valid.", status=404) from None
    order = Order.objects.filter(pk=data.get("order"), family__is_guest=True).first()
    if order is None or data.get("schema") != connection.schema_name:
        raise ApplicationError("invalid_token", "This link is not valid.", status=404)
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
    from portal.accounts.services import _clean_email
    from portal.billing.services import order_pay

    _enabled()
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
        first, _, last = buyer_name.partition(" ")
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
    payment = order_pay(family=family, order_id=order.pk)
    return order, payment
