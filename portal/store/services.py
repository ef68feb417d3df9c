"""Gift certificates: issue and void (staff), look up a code, draw on and restore a balance
(only under the certificate's row lock, called by ``portal.orders.tenders``), activate the ones
an order bought when it is confirmed.

Punch passes: activate or void the ones an order bought, void (staff), and redeem a visit.

Buying either is an order: ``portal.store.purchases``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal import formats
from portal.accounts.models import Student
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment import eligibility
from portal.enrollment.errors import busy, not_found
from portal.enrollment.models import Enrollment, Order
from portal.enrollment.notifications import notify_family
from portal.enrollment.services import lock_offerings, recount, settle
from portal.outbox.services import outbox_enqueue

from .models import GiftCertificate, PunchPass, PunchPassProduct, PunchRedemption, normalize_code

logger = logging.getLogger(__name__)

MAX_FAILED_LOOKUPS = 5
LOOKUP_WINDOW_SECONDS = 15 * 60


def gift_certificates_enabled_check() -> None:
    if not portal_settings_get().gift_certificates_enabled:
        raise ApplicationError(
            "gift_certificates_disabled",
            "This business does not sell gift certificates.",
            status=403,
        )


def gift_certificate_invalid() -> ApplicationError:
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


def gift_certificate_lookup(
    *, family=None, code: str, lock: bool = False, requester: str = ""
) -> GiftCertificate:
    """An active certificate by its code. Wrong codes are counted per family, or for anyone
    else (the public balance check) per ``requester`` (their address): five in 15 minutes and
    further look-ups answer ``too_many_attempts``."""
    if family is None and not requester:
        raise ValueError("a look-up needs a family or a requester to count wrong codes against")
    key = _guard_guessing(family.pk if family is not None else f"visitor:{requester}")
    qs = GiftCertificate.objects.filter(
        code=normalize_code(code), status=GiftCertificate.Status.ACTIVE
    )
    if lock:
        qs = qs.select_for_update()
    certificate = qs.first()
    if certificate is None:
        _failed(key)
        raise gift_certificate_invalid()
    return certificate


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


# --- balances and orders (called by portal.orders) -------------------------------------------


def gift_certificate_draw(*, certificate: GiftCertificate, amount: int) -> None:
    """Take ``amount`` off a certificate the caller has locked (``lookup(lock=True)``)."""
    if amount <= 0 or amount > certificate.balance:
        raise ValueError(f"cannot draw {amount} from a balance of {certificate.balance}")
    certificate.balance -= amount
    certificate.save(update_fields=["balance"])


def gift_certificate_restore(*, certificate_id: int, amount: int) -> None:
    """Give back an amount drawn by an order that lapsed (locks the certificate)."""
    certificate = GiftCertificate.objects.select_for_update().get(pk=certificate_id)
    certificate.balance += amount
    certificate.save(update_fields=["balance"])


def gift_certificates_activate(*, order: Order) -> None:
    """Inside the transaction confirming ``order``: the certificates it bought become active
    and are emailed to their recipients."""
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
                "code": certificate.code,
            },
        )


def gift_certificates_void_unpaid(*, order: Order) -> None:
    """Inside the transaction lapsing ``order``: certificates it would have bought never are."""
    order.gift_certificates.filter(status=GiftCertificate.Status.AWAITING_PAYMENT).update(
        status=GiftCertificate.Status.VOID, voided_at=timezone.now()
    )


# --- punch passes ----------------------------------------------------------------------------
#
# Bought through an order like a gift certificate (``portal.store.purchases``), activated when
# ``portal.orders`` confirms that order. Redeeming a visit takes a seat, so it runs
# under the offering's row lock (``lock_offerings``) and then the pass's row lock, in that order,
# and recounts the offering before it commits.


def punch_passes_enabled_check() -> None:
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
    punch_passes_enabled_check()
    if not portal_settings_get().show_punch_passes:
        return PunchPassProduct.objects.none()
    return PunchPassProduct.objects.filter(is_active=True).select_related("program")


def punch_pass_list(*, family):
    return (
        PunchPass.objects.filter(family=family)
        .select_related("product", "student")
        .prefetch_related("redemptions__offering", "redemptions__student")
    )


def punch_passes_activate(*, order: Order) -> None:
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


def punch_passes_void_unpaid(*, order: Order) -> None:
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
            "punch_pass_expired",
            _("This punch pass expired on %(date)s.") % {"date": formats.day(punch.expires_on)},
        )
    if punch.expires_on is not None and meeting_date > punch.expires_on:
        raise _refuse(
            "punch_pass_expired",
            _("This punch pass expires on %(date)s, before that meeting.")
            % {"date": formats.day(punch.expires_on)},
            field="meeting_date",
        )
    if punch.visits_left <= 0:
        raise _refuse("punch_pass_used_up", "Every visit on this punch pass has been used.")


def _check_offering(punch: PunchPass, offering, meeting_date, now) -> None:
    product = punch.product
    if offering.status != Offering.Status.PUBLISHED:
        raise _refuse(
            "offering_not_available",
            _("%(class)s is not open for registration.") % {"class": offering.name},
        )
    if offering.kind != product.kind:
        raise _refuse(
            "punch_pass_not_eligible",
            (
                _("%(pass)s is for camps only.")
                if product.kind == "camp"
                else _("%(pass)s is for events only.")
                if product.kind == "event"
                else _("%(pass)s is for classes only.")
            )
            % {"pass": product.name},
            field="offering",
        )
    if product.program_id is not None and offering.program_id != product.program_id:
        raise _refuse(
            "punch_pass_not_eligible",
            _("%(pass)s cannot be used for %(class)s.")
            % {"pass": product.name, "class": offering.name},
            field="offering",
        )
    if meeting_date not in offering.meetings():
        raise _refuse(
            "not_a_meeting",
            _("%(class)s does not meet on %(date)s.")
            % {"class": offering.name, "date": formats.day(meeting_date)},
            status=400,
            field="meeting_date",
        )
    ends = timezone.make_aware(datetime.combine(meeting_date, offering.end_time))
    if ends <= now:
        raise _refuse(
            "not_a_meeting",
            _("The %(date)s meeting of %(class)s has already taken place.")
            % {"date": formats.day_of_year(meeting_date), "class": offering.name},
            status=400,
            field="meeting_date",
        )


def _redeeming_student(family, punch: PunchPass, student_id: int | None):
    if punch.student_id is not None:
        if student_id and student_id != punch.student_id:
            raise _refuse(
                "punch_pass_not_eligible",
                _("This punch pass is for %(name)s only.") % {"name": punch.student.first_name},
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
    punch_passes_enabled_check()
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
                _("%(name)s already used a visit for %(class)s on %(date)s.")
                % {
                    "name": student.first_name,
                    "class": offering.name,
                    "date": formats.day_of_year(meeting_date),
                },
            )
        if offering.openings <= 0:
            raise _refuse("offering_full", _("%(class)s is full.") % {"class": offering.name})
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
