"""Who may take a seat: every rule a business sets, each failure with its own code and a
message a parent understands. Checked when a seat is added to the cart and again at checkout."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.queries import prepared_cursor, sql_literals
from portal import formats
from portal.accounts.models import Family, Student
from portal.accounts.selectors import policies_pending
from portal.billing.selectors import past_due_amount
from portal.catalog.models import Offering, age_on
from portal.catalog.selectors import offering_levels

from .models import Enrollment, Hold


def refuse(code: str, message: str, status: int = 409) -> ApplicationError:
    return ApplicationError(code, message, status=status)


def is_returning(family: Family) -> bool:
    return Enrollment.objects.filter(
        family=family,
        status__in=[
            Enrollment.Status.ACTIVE,
            Enrollment.Status.DROPPED,
            Enrollment.Status.TRANSFERRED,
        ],
    ).exists()


def _local(dt: datetime) -> str:
    return formats.moment(dt)


def check_student(student: Student, offering: Offering, *, check_level: bool = True) -> None:
    """Age on the start date, gender and (unless the caller checks it) level."""
    name = student.first_name
    if not student.is_active:
        raise refuse("student_inactive", _("%(name)s's profile is not active.") % {"name": name})
    age = age_on(student.date_of_birth, offering.start_date)
    if offering.min_age is not None and age < offering.min_age:
        raise refuse(
            "too_young",
            _("%(name)s will be %(age)s on %(date)s; %(class)s is for ages %(min)s and up.")
            % {
                "name": name,
                "age": age,
                "date": formats.day(offering.start_date),
                "class": offering.name,
                "min": offering.min_age,
            },
        )
    if offering.max_age is not None and age > offering.max_age:
        raise refuse(
            "too_old",
            _("%(name)s will be %(age)s on %(date)s; %(class)s is for ages up to %(max)s.")
            % {
                "name": name,
                "age": age,
                "date": formats.day(offering.start_date),
                "class": offering.name,
                "max": offering.max_age,
            },
        )
    if offering.gender != Offering.Gender.ANY and student.gender != offering.gender:
        raise refuse(
            "gender_restricted",
            _("%(class)s is for girls only.") % {"class": offering.name}
            if offering.gender == Offering.Gender.FEMALE
            else _("%(class)s is for boys only.") % {"class": offering.name},
        )
    levels = offering_levels(offering) if check_level else []
    if levels:
        if student.level_id is None:
            if not any(level.position == 1 for level in levels):
                raise refuse(
                    "level_required",
                    _("%(class)s needs a level (%(levels)s); ask the front desk to place %(name)s.")
                    % {
                        "class": offering.name,
                        "levels": formats.listing(lv.name for lv in levels),
                        "name": name,
                    },
                )
        elif student.level_id not in {level.pk for level in levels}:
            raise refuse(
                "level_mismatch",
                _("%(class)s is for %(levels)s; %(name)s is in %(level)s.")
                % {
                    "class": offering.name,
                    "levels": formats.listing(lv.name for lv in levels),
                    "name": name,
                    "level": student.level.name,
                },
            )


def check_registration_window(offering: Offering, portal, now: datetime) -> None:
    if offering.status != Offering.Status.PUBLISHED:
        raise refuse(
            "offering_not_available",
            _("%(class)s is not open for registration.") % {"class": offering.name},
        )
    if offering.end_date < timezone.localdate(now):
        raise refuse("offering_ended", _("%(class)s has ended.") % {"class": offering.name})
    if offering.registration_opens_at and now < offering.registration_opens_at:
        raise refuse(
            "registration_not_open",
            formats.sentence(
                _("Registration for %(class)s opens %(when)s.")
                % {"class": offering.name, "when": _local(offering.registration_opens_at)}
            ),
        )
    if offering.registration_closes_at and now >= offering.registration_closes_at:
        raise refuse(
            "registration_closed",
            _("Registration for %(class)s has closed.") % {"class": offering.name},
        )
    cutoff = portal.enrollment_cutoff_minutes_after_start
    if cutoff is not None:
        first = offering.meetings(limit=1)
        if first:
            # A UTC instant, so the cutoff adds real minutes even across a DST change.
            starts = timezone.make_aware(datetime.combine(first[0], offering.start_time))
            starts = starts.astimezone(UTC)
            if now > starts + timedelta(minutes=cutoff):
                raise refuse(
                    "registration_closed",
                    _("%(class)s has started; online registration is closed.")
                    % {"class": offering.name},
                )


def check_family(family: Family, portal, now: datetime, keyword: str = "") -> None:
    """Priority window, new-family and inactive-family rules, past-due balance."""
    opens = portal.new_family_enrollment_opens_at
    priority_window = portal.priority_window_open(now)
    # Whether the family is returning is read only when a rule asks (a query on every cart
    # add and checkout otherwise).
    asks = priority_window or not portal.new_families_may_enroll or bool(opens and now < opens)
    returning = is_returning(family) if asks else True
    if priority_window:
        mode = portal.priority_registration_mode
        keyword_ok = (
            keyword.strip().lower() in {k.lower() for k in portal.keyword_list}
            if keyword
            else False
        )
        ends = _local(portal.priority_registration_ends_at)
        if mode == "returning" and not returning:
            raise refuse(
                "priority_registration_only",
                _("Until %(when)s, registration is open to returning families only.")
                % {"when": ends},
                status=403,
            )
        if mode == "keyword" and not keyword_ok:
            raise refuse(
                "priority_keyword_required",
                _("Until %(when)s, registration needs a priority keyword.") % {"when": ends},
                status=403,
            )
        if mode == "keyword_or_returning" and not (keyword_ok or returning):
            raise refuse(
                "priority_registration_only",
                _("Until %(when)s, registration is open to returning families and keyword holders.")
                % {"when": ends},
                status=403,
            )
    if not returning:
        if not portal.new_families_may_enroll:
            raise refuse(
                "new_families_closed",
                "Registration is not open to new families. Please contact us.",
                status=403,
            )
        if opens and now < opens:
            raise refuse(
                "new_families_not_yet",
                formats.sentence(
                    _("Registration for new families opens %(when)s.") % {"when": _local(opens)}
                ),
                status=403,
            )
    if family.status == Family.Status.INACTIVE and not portal.inactive_families_may_enroll:
        raise refuse(
            "inactive_family",
            "Your account is inactive. Please contact us to enroll again.",
            status=403,
        )
    if portal.past_due_policy == "block":
        past_due = past_due_amount(family, now=now, after_days=portal.past_due_after_days)
        if past_due > 0:
            raise ApplicationError(
                "past_due_balance",
                "Your account has a past-due balance. Please pay it before enrolling.",
                status=403,
                fields={"past_due": [str(past_due)]},
            )


def check_policies(family: Family, students) -> None:
    """Every active policy, in its current version, accepted by the family (and, for
    per-student policies, for each student enrolling): re-asked whenever staff change one."""
    student_ids = {s.pk for s in students}
    # Only the (active) students enrolling: the family's other students are not read.
    enrolling = sorted(s.pk for s in students if s.is_active)
    missing = [
        pending
        for pending in policies_pending(family, student_ids=enrolling)
        if pending.student_id is None or pending.student_id in student_ids
    ]
    if not missing:
        return
    names = {s.pk: s.first_name for s in students}
    labels = []
    for pending in missing:
        label = _("%(policy)s (version %(version)s)") % {
            "policy": pending.policy.title,
            "version": pending.policy.version,
        }
        if pending.student_id is not None:
            label = _("%(policy)s for %(name)s") % {
                "policy": label,
                "name": names[pending.student_id],
            }
        if label not in labels:
            labels.append(label)
    raise ApplicationError(
        "policy_acceptance_required",
        _("Please accept %(policies)s before enrolling.") % {"policies": formats.listing(labels)},
        status=403,
        fields={"policies": labels},
    )


def needs_approval(family: Family, offering: Offering, portal, now=None) -> bool:
    """Enrollments that become requests for staff rather than enrolling at once."""
    mode = offering.registration_mode or portal.registration_mode
    if mode == "request":
        return True
    if portal.past_due_policy != "request":
        return False
    now = now or timezone.now()
    return past_due_amount(family, now=now, after_days=portal.past_due_after_days) > 0


# Whether the student is enrolled in or holds a seat of the offering, in one statement. Plain
# SQL: it runs twice on every hold (before the offering's lock for the message, under it for
# the race), and Django compiling the two EXISTS subqueries cost ~1.8 ms of CPU each time
# against ~0.2 ms for the statement (docs/rush.md, "Sixth pass").
_TAKEN_SQL = f"""
    SELECT EXISTS (SELECT 1 FROM {Enrollment._meta.db_table} e
                    WHERE e.student_id = %(student)s AND e.offering_id = %(offering)s
                      AND e.status IN ({sql_literals(Enrollment.LIVE)})),
           EXISTS (SELECT 1 FROM {Hold._meta.db_table} h
                    WHERE h.student_id = %(student)s AND h.offering_id = %(offering)s
                      AND h.status IN ({sql_literals(Hold.SEAT_TAKING)})
                      AND h.id <> %(ignore)s)
"""


def check_not_taken(
    student: Student, offering: Offering, *, ignore_hold: Hold | None = None
) -> None:
    """Neither enrolled nor already holding a seat: both looked up in one query."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _TAKEN_SQL,
            {
                "student": student.pk,
                "offering": offering.pk,
                "ignore": ignore_hold.pk if ignore_hold is not None else 0,
            },
        )
        enrolled, held = cursor.fetchone()
    if enrolled:
        raise refuse(
            "already_enrolled",
            _("%(name)s is already enrolled in %(class)s.")
            % {"name": student.first_name, "class": offering.name},
        )
    if held:
        raise refuse(
            "already_in_cart",
            _("%(class)s for %(name)s is already in your cart.")
            % {"class": offering.name, "name": student.first_name},
        )


def _overlaps(a: Offering, b: Offering | _Busy) -> bool:
    return (
        a.start_date <= b.end_date
        and b.start_date <= a.end_date
        and set(a.weekdays) & set(b.weekdays)
        and a.start_time < b.end_time
        and b.start_time < a.end_time
    )


class _Busy(NamedTuple):
    name: str
    start_date: date
    end_date: date
    weekdays: list[int]
    start_time: time
    end_time: time


# The student's other classes (enrolled or held) that share a day and dates with the
# offering; ``_overlaps`` then compares the hours. Plain SQL for the same reason as
# ``_TAKEN_SQL`` (the ORM's two joined relations under DISTINCT cost ~1.5 ms to compile).
_BUSY_SQL = f"""
    SELECT o.name, o.start_date, o.end_date, o.weekdays, o.start_time, o.end_time
      FROM {Offering._meta.db_table} o
     WHERE o.id <> %(offering)s AND o.id <> %(ignore_offering)s
       AND o.start_date <= %(end)s AND o.end_date >= %(start)s
       AND o.weekdays && %(weekdays)s::smallint[]
       AND (EXISTS (SELECT 1 FROM {Enrollment._meta.db_table} e
                     WHERE e.offering_id = o.id AND e.student_id = %(student)s
                       AND e.status IN ({sql_literals(Enrollment.LIVE)}))
            OR EXISTS (SELECT 1 FROM {Hold._meta.db_table} h
                        WHERE h.offering_id = o.id AND h.student_id = %(student)s
                          AND h.status IN ({sql_literals(Hold.SEAT_TAKING)})))
     ORDER BY o.start_date, o.name, o.id
"""


def check_schedule(
    student: Student, offering: Offering, *, ignore_hold: Hold | None = None
) -> None:
    """The same student cannot be in two places at once. ``ignore_hold``'s class is left out
    (the seat being converted or extended is not a clash with itself)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _BUSY_SQL,
            {
                "offering": offering.pk,
                "ignore_offering": ignore_hold.offering_id if ignore_hold is not None else 0,
                "start": offering.start_date,
                "end": offering.end_date,
                "weekdays": list(offering.weekdays),
                "student": student.pk,
            },
        )
        busy = [_Busy(*row) for row in cursor.fetchall()]
    for other in busy:
        if _overlaps(offering, other):
            raise refuse(
                "schedule_clash",
                _("%(name)s already has %(class)s at that time.")
                % {"name": student.first_name, "class": other.name},
            )


def check_all(
    *,
    family: Family,
    student: Student,
    offering: Offering,
    portal,
    now=None,
    keyword: str = "",
    ignore_hold: Hold | None = None,
) -> None:
    """Every rule but capacity, in the order a parent would want to hear about them."""
    now = now or timezone.now()
    check_registration_window(offering, portal, now)
    check_family(family, portal, now, keyword)
    check_policies(family, [student])
    check_student(student, offering)
    check_not_taken(student, offering, ignore_hold=ignore_hold)
    check_schedule(student, offering, ignore_hold=ignore_hold)


def student_ineligibility(student: Student, offering: Offering) -> str:
    """Why the student may not take the offering (age on its start date, gender, level), or ""
    when it may: what pickers show before the family tries."""
    try:
        check_student(student, offering)
    except ApplicationError as exc:
        return exc.message
    return ""


def offerings_for_student(student: Student, offerings) -> list[Offering]:
    """Only the offerings the student may take (for makeup, transfer and punch-pass pickers)."""
    return [o for o in offerings if not student_ineligibility(student, o)]
