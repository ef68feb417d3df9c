"""Camps booked by the day or by the week (``Offering.camp_selection``): which days or weeks a
family may choose, what they cost, and how many seats each day has left.

A choice is a *unit*: one meeting day of a per-day camp, or the meeting days of one calendar
week (Monday to Sunday) of a per-week camp, named by its first meeting day. Holds and
enrollments keep the days they cover in ``camp_days`` (empty: every day, as for a whole camp).
Capacity applies to each day: a day is full when ``capacity`` students (holds and enrollments,
as ``seats.recount`` counts them) come that day, while the other days keep their seats. The
offering's ``seats_taken`` of such a camp is the count of its least-taken day still to come, so
search shows it open while any day has a seat and full when every day is."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from kernel.errors import ApplicationError
from portal.catalog.models import Offering

from .models import Enrollment, Hold


@dataclass(frozen=True)
class Unit:
    """One choice: its key (the first day), the meeting days it covers, its price and seats."""

    start: date
    days: tuple[date, ...]
    price: int
    seats_left: int

    @property
    def end(self) -> date:
        return self.days[-1]


def units_all(offering: Offering) -> list[tuple[date, tuple[date, ...]]]:
    """Every unit of the camp, past ones included: (key, days)."""
    meetings = offering.meetings()
    if offering.camp_selection == Offering.CampSelection.WEEK:
        weeks: dict[tuple[int, int], list[date]] = {}
        for day in meetings:
            weeks.setdefault(day.isocalendar()[:2], []).append(day)
        return [(days[0], tuple(days)) for days in weeks.values()]
    return [(day, (day,)) for day in meetings]


def units_open(offering: Offering, today: date) -> list[tuple[date, tuple[date, ...]]]:
    """The units a family may still choose: those that start today or later."""
    return [(key, days) for key, days in units_all(offering) if key >= today]


def seat_statuses(portal) -> list[str]:
    statuses = [Enrollment.Status.RESERVED, Enrollment.Status.ACTIVE]
    if portal.pending_requests_count_against_openings:
        statuses.append(Enrollment.Status.PENDING)
    return [str(s) for s in statuses]


def day_counts(offering: Offering, portal) -> Counter[date]:
    """Seats taken on each meeting day: live holds and seat-taking enrollments (the rows
    ``seats.recount`` counts), a row without days counting on every day. Exact under the
    offering's lock; a moment old otherwise."""
    meetings = offering.meetings()
    counts: Counter[date] = Counter({day: 0 for day in meetings})
    rows = list(
        Hold.objects.filter(offering=offering, status__in=Hold.SEAT_TAKING).values_list(
            "camp_days", flat=True
        )
    ) + list(
        Enrollment.objects.filter(offering=offering, status__in=seat_statuses(portal)).values_list(
            "camp_days", flat=True
        )
    )
    for days in rows:
        for day in days or meetings:
            counts[day] += 1
    return counts


def least_taken(offering: Offering, counts: Counter[date], today: date) -> int:
    """The seats taken on the camp's least-taken day still to come (all its days once it is
    over): the offering's ``seats_taken``, so ``openings`` is the most any day has left."""
    upcoming = [n for day, n in counts.items() if day >= today] or list(counts.values())
    return min(upcoming, default=0)


def unit_list(offering: Offering, portal, today: date) -> list[Unit]:
    """The units a family may choose, each with its price and the seats its fullest day has
    left (what the offering's page and ``GET /api/v1/offerings/{id}`` list)."""
    if not offering.days_selectable:
        return []
    counts = day_counts(offering, portal)
    return [
        Unit(
            start=key,
            days=days,
            price=offering.camp_unit_price,
            seats_left=max(offering.capacity - max(counts[d] for d in days), 0),
        )
        for key, days in units_open(offering, today)
    ]


def tuition_for(offering: Offering, camp_days) -> int:
    """The tuition of a seat covering ``camp_days`` (minor units): the offering's tuition for a
    whole camp (or no days), else the unit price per day or per week chosen."""
    if not offering.days_selectable or not camp_days:
        return offering.tuition
    if offering.camp_selection == Offering.CampSelection.WEEK:
        return offering.camp_unit_price * len({d.isocalendar()[:2] for d in camp_days})
    return offering.camp_unit_price * len(camp_days)


def describe(offering: Offering, camp_days) -> str:
    """The chosen days in words for order lines and receipts (English, like the lines)."""
    if not offering.days_selectable or not camp_days:
        return ""
    days = sorted(camp_days)
    if offering.camp_selection == Offering.CampSelection.WEEK:
        chosen = set(days)
        starts = [key for key, _covered in units_all(offering) if key in chosen]
        label = "week of" if len(starts) == 1 else "weeks of"
        return f"{len(starts)} {label} " + ", ".join(f"{d:%b %-d}" for d in starts)
    label = "day" if len(days) == 1 else "days"
    return f"{len(days)} {label}: " + ", ".join(f"{d:%b %-d}" for d in days)


# --- input -----------------------------------------------------------------------------------


def _bad_days(code: str, message: str, *, days: list[str] | None = None, status=400):
    fields = {"days": days or [message]}
    return ApplicationError(code, message, status=status, fields=fields)


def parse_days(offering: Offering, raw, today: date) -> list[date]:
    """The days a family chose for ``offering`` (ISO dates: meeting days of a per-day camp, the
    first day of each week of a per-week camp), as the sorted meeting days they cover. Empty
    for an offering not booked by the day. Refuses, changing nothing: days for a camp booked
    whole (or a class) ``camp_days_not_selectable``; none chosen ``camp_days_required``; a date
    that is not one to choose ``camp_day_not_in_camp`` (``fields.days``)."""
    raw = list(raw or [])
    if not offering.days_selectable:
        if raw:
            raise _bad_days(
                "camp_days_not_selectable",
                "This is booked as a whole: leave out the days.",
            )
        return []
    if not raw:
        raise _bad_days("camp_days_required", "Choose at least one day.")
    if len(raw) > 400:
        raise _bad_days("camp_day_not_in_camp", "Choose fewer days.")
    chosen: set[date] = set()
    for value in raw:
        if isinstance(value, date):
            chosen.add(value)
            continue
        try:
            chosen.add(date.fromisoformat(str(value).strip()))
        except ValueError:
            raise _bad_days("camp_day_not_in_camp", "Give each day as YYYY-MM-DD.") from None
    units = dict(units_open(offering, today))
    unknown = sorted(d for d in chosen if d not in units)
    if unknown:
        raise ApplicationError(
            "camp_day_not_in_camp",
            "One of the days you chose is not a day of this camp you can book.",
            fields={"days": [d.isoformat() for d in unknown]},
        )
    return sorted(day for key in chosen for day in units[key])


def require_free(offering: Offering, portal, camp_days, *, counts=None) -> None:
    """Under the offering's lock: every day of ``camp_days`` (every meeting when empty) has a
    seat, else ``camp_day_full`` (409, ``fields.days`` names the full days). Only camps booked
    by the day count per day; other offerings are checked by their ``openings``."""
    if not offering.days_selectable:
        return
    counts = counts if counts is not None else day_counts(offering, portal)
    days = list(camp_days) or list(counts)
    full = sorted(d for d in days if counts[d] >= offering.capacity)
    if full:
        raise ApplicationError(
            "camp_day_full",
            "A day you chose is full: choose other days.",
            status=409,
            fields={"days": [d.isoformat() for d in full]},
        )


def covers(day: date):
    """A filter of the enrollments (or holds) whose student comes on ``day``."""
    return Q(camp_days=[]) | Q(camp_days__contains=[day])


def keys_for(offering: Offering, camp_days, today: date) -> list[date]:
    """The units still open that cover any of ``camp_days``: what to send as ``days`` to hold
    the same days (or weeks) again."""
    chosen = set(camp_days)
    return [key for key, days in units_open(offering, today) if chosen & set(days)]


def meetings_of(offering: Offering, camp_days) -> list[date]:
    """The meetings a seat covers: its chosen days, or every meeting of the offering."""
    return sorted(camp_days) if camp_days else offering.meetings()


def refuse_without_days(offering: Offering) -> None:
    """Paths that cannot take days (a transfer, a waitlist) refuse a camp booked by the day."""
    if offering.days_selectable:
        raise ApplicationError(
            "camp_booked_by_day",
            "This camp is booked by the day or the week: add it to the cart with the days "
            "you want.",
            status=409,
        )
