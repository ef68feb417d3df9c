"""The family's cart: holds on seats that lapse after the business's hold timer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.queries import prepared_cursor, sql_literals
from portal import links
from portal.accounts.models import Family
from portal.catalog import waiting_room
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.tenancy.services import plan_enrollment_check

from .. import camp_days, eligibility, selectors
from ..errors import not_found
from ..models import Enrollment, Hold, Order
from ..notifications import notify_family
from .seats import (
    hold_release,
    lock_offerings,
    recount,
    schedule_hold_expiry,
    settle,
    settle_offerings,
)

EXPIRY_WARNING = timedelta(minutes=3)

# --- cart ------------------------------------------------------------------------------------


def cart_add(
    *,
    family: Family,
    student_id: int,
    offering_id: int,
    keyword: str = "",
    admission_pass: str = "",
    days: Iterable[str | date] = (),
) -> Hold:
    """Hold a seat for one of the family's students: checked against every rule, then taken
    under the offering's lock if one is free. Expires after the business's hold timer. An
    offering in a registration opening needs the family's waiting-room pass
    (``admission_pass``; portal.catalog.waiting_room). A camp booked by the day or the week
    takes the ``days`` chosen (ISO dates; ``camp_days.parse_days``) and a seat on each of
    them."""
    portal = portal_settings_get()
    student = selectors.student_for_family(family, student_id)
    offering = selectors.offering_visible(offering_id, portal)
    now = timezone.now()
    chosen = camp_days.parse_days(offering, days, timezone.localdate(now))
    waiting_room.require_pass(
        offering_ids=[offering.pk], family_id=family.pk, token=admission_pass, now=now
    )
    eligibility.check_all(
        family=family, student=student, offering=offering, portal=portal, now=now, keyword=keyword
    )
    plan_enrollment_check(student_id=student.pk)  # the business's plan's student limit
    with transaction.atomic():
        offering = lock_offerings([offering.pk])[offering.pk]
        settle(offering, portal, now)
        eligibility.check_not_taken(student, offering)
        if offering.days_selectable:
            camp_days.require_free(offering, portal, chosen)
        elif offering.openings <= 0:
            raise ApplicationError(
                "offering_full",
                _("%(class)s is full. You can join the waitlist.") % {"class": offering.name},
                status=409,
            )
        hold = Hold.objects.create(
            family=family,
            student=student,
            offering=offering,
            created_at=now,
            expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
            keyword=keyword[:100],
            camp_days=chosen,
        )
        if offering.days_selectable:
            recount(offering, portal)
        else:
            # settle() just recounted under this lock, so one more seat is exact. A fixed
            # statement: compiling the queryset update cost more Python than running it.
            offering.seats_taken += 1
            with connection.cursor() as cursor:
                cursor.execute(_SEATS_TAKEN_SQL, [offering.seats_taken, offering.pk])
        schedule_hold_expiry(hold)
    return hold


def cart_remove(*, family: Family, hold_id: int) -> None:
    portal = portal_settings_get()
    hold = Hold.objects.filter(pk=hold_id, family=family, status=Hold.Status.ACTIVE).first()
    if hold is None:
        raise not_found("cart_item")
    now = timezone.now()
    with transaction.atomic():
        offering = lock_offerings([hold.offering_id])[hold.offering_id]
        hold = Hold.objects.select_for_update(of=("self",)).get(pk=hold.pk)
        if hold.status == Hold.Status.ACTIVE:
            hold_release(hold, status=Hold.Status.RELEASED, now=now)
        settle(offering, portal, now)


def cart_clear(*, family: Family) -> int:
    """Abandon the cart: release every held seat."""
    portal = portal_settings_get()
    holds = list(Hold.objects.filter(family=family, status=Hold.Status.ACTIVE))
    if not holds:
        return 0
    now = timezone.now()
    with transaction.atomic():
        offerings = lock_offerings([h.offering_id for h in holds])
        for hold in Hold.objects.select_for_update(of=("self",)).filter(
            pk__in=[h.pk for h in holds]
        ):
            if hold.status == Hold.Status.ACTIVE:
                hold_release(hold, status=Hold.Status.RELEASED, now=now)
        for offering in offerings.values():
            settle(offering, portal, now)
    return len(holds)


_SEATS_TAKEN_SQL = f"UPDATE {Offering._meta.db_table} SET seats_taken = %s WHERE id = %s"


# The offerings of the family's lapsed holds and of its unpaid orders past their time. One
# statement, plain SQL: every cart read and every hold's answer pays it, and Django compiling
# the UNION cost ~1.4 ms of CPU against ~0.2 ms for the statement (docs/rush.md, "Sixth pass").
_LAPSED_SQL = f"""
    SELECT h.offering_id FROM {Hold._meta.db_table} h
     WHERE h.family_id = %(family)s AND h.expires_at <= %(now)s
       AND h.status IN ({sql_literals(Hold.SEAT_TAKING)})
    UNION
    SELECT e.offering_id FROM {Enrollment._meta.db_table} e
      JOIN {Order._meta.db_table} o ON o.id = e.order_id
     WHERE e.family_id = %(family)s AND e.status = {sql_literals([Enrollment.Status.RESERVED])}
       AND o.expires_at <= %(now)s
"""


def cart_refresh(*, family: Family) -> None:
    """The check on read: settle the offerings of the family's lapsed holds and orders, so a
    missed expiry task never shows (or keeps) a seat that is gone."""
    with prepared_cursor() as cursor:
        cursor.execute(_LAPSED_SQL, {"family": family.pk, "now": timezone.now()})
        lapsed = {offering_id for (offering_id,) in cursor.fetchall()}
    if lapsed:
        settle_offerings(lapsed)


def hold_expire_if_due(*, hold_id: int) -> str:
    hold = Hold.objects.filter(pk=hold_id).first()
    if hold is None:
        return "missing"
    if hold.status not in Hold.SEAT_TAKING:
        return hold.status
    if hold.expires_at > timezone.now():
        return "not_due"  # extended (an accepted offer); its new expiry has its own task
    settle_offerings([hold.offering_id])
    return "expired"


def warn_expiring_holds() -> int:
    """Email families whose cart holds lapse within a few minutes (once per hold)."""
    now = timezone.now()
    due = Hold.objects.filter(
        status=Hold.Status.ACTIVE,
        expires_at__gt=now,
        expires_at__lte=now + EXPIRY_WARNING,
        expiry_warning_sent_at__isnull=True,
    ).select_related("offering", "student")
    tenant = connection.tenant
    count = 0
    for hold in due:
        updated = Hold.objects.filter(pk=hold.pk, expiry_warning_sent_at__isnull=True).update(
            expiry_warning_sent_at=now
        )
        if updated:
            with transaction.atomic():
                notify_family(
                    hold.family_id,
                    "hold_expiring",
                    {
                        "offering": hold.offering.name,
                        "student": hold.student.first_name,
                        "minutes": max(hold.seconds_left(now) // 60, 1),
                        "url": links.url("cart", tenant=tenant),
                    },
                )
            count += 1
    return count


def staff_hold_delete(*, hold_id: int) -> None:
    portal = portal_settings_get()
    hold = Hold.objects.filter(pk=hold_id).first()
    if hold is None:
        raise not_found("hold")
    now = timezone.now()
    with transaction.atomic():
        offering = lock_offerings([hold.offering_id])[hold.offering_id]
        hold = Hold.objects.select_for_update(of=("self",)).get(pk=hold.pk)
        if hold.status in Hold.SEAT_TAKING:
            hold_release(hold, status=Hold.Status.RELEASED, now=now)
        settle(offering, portal, now)


def cart_hold_again(
    *, family: Family, items: list[tuple[int, int]]
) -> tuple[list[Hold], list[tuple[tuple[int, int], ApplicationError]]]:
    """Hold these again after a hold or an unpaid order ran out: each (student, offering)
    goes through ``cart_add`` on its own (every rule, the offering's lock), so one that filled
    up meanwhile is refused without stopping the others. Returns the new holds and the
    refusals."""
    held, refused = [], []
    today = timezone.localdate()
    for student_id, offering_id in dict.fromkeys(items):  # once each, in order
        try:
            days = _days_held_before(family, student_id, offering_id, today)
            held.append(
                cart_add(family=family, student_id=student_id, offering_id=offering_id, days=days)
            )
        except ApplicationError as exc:
            refused.append(((student_id, offering_id), exc))
    return held, refused


def _days_held_before(family: Family, student_id: int, offering_id: int, today: date) -> list[date]:
    """A camp booked by the day: the days (still open) of the hold or unpaid order that ran
    out, so holding it again holds the same days. Empty for anything else."""
    offering = Offering.objects.filter(pk=offering_id).first()
    if offering is None or not offering.days_selectable:
        return []
    last = (
        Hold.objects.filter(family=family, student_id=student_id, offering_id=offering_id)
        .exclude(camp_days=[])
        .order_by("-created_at", "-pk")
        .values_list("camp_days", flat=True)
        .first()
    )
    return camp_days.keys_for(offering, last or [], today)
