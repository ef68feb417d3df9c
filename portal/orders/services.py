"""Orders: the cart becomes an order priced on the server; paid (or free) orders are confirmed,
unpaid ones lapse. This module owns an order's money."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from portal.accounts.models import Family
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment import eligibility
from portal.enrollment.models import Enrollment, Hold, Order, OrderLine, RegistrationFeeCharge
from portal.enrollment.notifications import notify_family
from portal.enrollment.pricing import price_items, totals
from portal.enrollment.services.cart import cart_refresh
from portal.enrollment.services.seats import expire_lapsed, lock_offerings, recount
from portal.enrollment.signals import order_confirmed, order_created
from saas_platform.errors import ApplicationError

logger = logging.getLogger(__name__)


def _first_attended(offering: Offering, portal, today) -> datetime.date:
    meetings = offering.meetings()
    upcoming = [day for day in meetings if day >= today]
    if portal.force_start_on_meeting_date and upcoming:
        return upcoming[0]
    return max(offering.start_date, today)


def _idempotency_key(holds: list[Hold], given: str | None) -> str:
    if given:
        return given.strip()[:100]
    digest = hashlib.sha256(",".join(str(h.pk) for h in sorted(holds, key=lambda h: h.pk)).encode())
    return f"cart:{digest.hexdigest()[:40]}"


def checkout(
    *, family: Family, idempotency_key: str | None = None, params: dict | None = None
) -> Order:
    """Turn the cart's holds into one order priced on the server. A zero total confirms at once;
    otherwise the seats stay reserved until the order is paid or lapses. Submitting the same
    cart twice (or the same key) returns the same order."""
    portal = portal_settings_get()
    if idempotency_key:
        existing = Order.objects.filter(
            family=family, idempotency_key=idempotency_key.strip()[:100]
        ).first()
        if existing is not None:
            return existing
    holds = list(
        Hold.objects.filter(family=family, status__in=[Hold.Status.ACTIVE]).select_related(
            "student__level", "offering"
        )
    )
    lapsed = [h for h in holds if h.expires_at <= timezone.now()]
    if lapsed:
        cart_refresh(family=family)  # commit the release, then say which seats were lost
        names = ", ".join(f"{h.offering.name} ({h.student.first_name})" for h in lapsed)
        raise ApplicationError(
            "hold_expired",
            f"The hold on {names} has expired. Add it to your cart again if seats remain.",
            status=409,
        )
    if not holds:
        recent = Order.objects.filter(
            family=family, created_at__gte=timezone.now() - timedelta(minutes=2)
        ).first()
        if recent is not None:
            return recent  # a double-submitted checkout of a cart that just became this order
        raise ApplicationError("cart_empty", "Your cart is empty.", status=400)
    key = _idempotency_key(holds, idempotency_key)
    now = timezone.now()
    try:
        with transaction.atomic():
            offerings = lock_offerings([h.offering_id for h in holds])
            existing = Order.objects.filter(family=family, idempotency_key=key).first()
            if existing is not None:
                return existing
            for offering in offerings.values():
                expire_lapsed(offering, now)
            live = {
                h.pk: h
                for h in Hold.objects.select_for_update(of=("self",))
                .filter(pk__in=[h.pk for h in holds])
                .select_related("student__level", "offering")
            }
            lapsed = [h for h in holds if live[h.pk].status != Hold.Status.ACTIVE]
            if lapsed:
                names = ", ".join(f"{h.offering.name} ({h.student.first_name})" for h in lapsed)
                raise ApplicationError(
                    "hold_expired",
                    f"The hold on {names} has expired. Add it to your cart again if seats remain.",
                    status=409,
                )
            items = []
            for hold in holds:
                hold = live[hold.pk]
                offering = offerings[hold.offering_id]
                eligibility.check_registration_window(offering, portal, now)
                eligibility.check_family(family, portal, now, hold.keyword)
                eligibility.check_student(hold.student, offering)
                items.append((hold.student, offering, hold))
            lines = price_items(family=family, items=[(s, o) for s, o, _ in items], portal=portal)
            subtotal, discount, total = totals(lines)
            order = Order.objects.create(
                family=family,
                currency=connection.tenant.currency,
                subtotal=subtotal,
                discount_total=discount,
                total=total,
                idempotency_key=key,
                created_at=now,
                expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    kind=line.kind,
                    description=line.description,
                    amount=line.amount,
                    student_id=line.student_id,
                    offering_id=line.offering_id,
                    registration_year=line.registration_year,
                )
                for line in lines
            )
            today = timezone.localdate(now)
            for student, offering, hold in items:
                hold.status = Hold.Status.CONVERTED
                hold.ended_at = now
                hold.save(update_fields=["status", "ended_at"])
                Enrollment.objects.create(
                    family=family,
                    student=student,
                    offering=offering,
                    order=order,
                    status=Enrollment.Status.RESERVED,
                    start_date=_first_attended(offering, portal, today),
                )
            for offering in offerings.values():
                recount(offering, portal)
            order_created.send(sender=Order, order=order, params=params or {})
            order.refresh_from_db()
            if order.total == 0:
                _confirm(order, portal, now)
    except IntegrityError:
        existing = Order.objects.filter(family=family, idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return order


def order_confirm(*, order_id: int) -> Order:
    """Paid (or free): reserved seats become enrollments, or pending requests in request mode.
    Called by checkout for free orders and by the payments app once the money is in."""
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
        if order.status == Order.Status.CONFIRMED:
            return order
        if order.status != Order.Status.AWAITING_PAYMENT:
            raise ApplicationError(
                "order_not_payable", "This order can no longer be confirmed.", status=409
            )
        offering_ids = list(order.enrollments.values_list("offering_id", flat=True))
        lock_offerings(offering_ids)
        _confirm(order, portal, now)
    return order


def _confirm(order: Order, portal, now: datetime) -> None:
    family = order.family
    summary, pending_any = [], False
    for enrollment in order.enrollments.select_related("offering", "student").filter(
        status=Enrollment.Status.RESERVED
    ):
        pending = eligibility.needs_approval(family, enrollment.offering, portal)
        enrollment.status = Enrollment.Status.PENDING if pending else Enrollment.Status.ACTIVE
        enrollment.save(update_fields=["status", "updated_at"])
        pending_any = pending_any or pending
        summary.append(
            f"{enrollment.student.first_name}: {enrollment.offering.name} from "
            f"{enrollment.start_date:%b %-d}" + (" (pending approval)" if pending else "")
        )
    for line in order.lines.filter(kind=OrderLine.Kind.REGISTRATION_FEE):
        RegistrationFeeCharge.objects.get_or_create(
            family=family,
            student_id=line.student_id,
            registration_year=line.registration_year,
            defaults={"order": order},
        )
    order.status = Order.Status.CONFIRMED
    order.confirmed_at = now
    order.save(update_fields=["status", "confirmed_at"])
    order_confirmed.send(sender=Order, order=order)
    if pending_any and not portal.pending_requests_count_against_openings:
        # Reserved seats that became pending requests no longer hold a seat.
        for offering in Offering.objects.filter(enrollments__order=order).distinct():
            recount(offering, portal)
    if summary:  # orders for store items (gift certificates, punch passes) have their own emails
        notify_family(
            family.pk,
            "enrollment_confirmed",
            {
                "enrollments": summary,
                "pending": pending_any,
                "url": connection.tenant.url("/enrollments"),
            },
        )
