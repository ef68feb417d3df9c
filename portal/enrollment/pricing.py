"""Server-side prices of a cart, in integer minor units. Nothing a client sends is trusted."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from . import camp_days
from .models import OrderLine, RegistrationFeeCharge


@dataclass(frozen=True)
class Line:
    kind: str
    description: str
    amount: int
    student_id: int | None = None
    offering_id: int | None = None
    registration_year: int | None = None


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount``, rounded half up, in minor units."""
    return (amount * percent + 50) // 100


def registration_year(day: date, start_month: int) -> int:
    return day.year if day.month >= start_month else day.year - 1


def price_items(*, family, items: list[tuple], portal) -> list[Line]:
    """``items`` are (student, offering) pairs, or (student, offering, camp_days) for a camp
    booked by the day or week (priced per day or week chosen: ``camp_days.tuition_for``).
    Returns tuition lines, one registration fee per family (or student) per registration year
    not already paid, then multi-class and sibling discounts from the portal's schedules."""
    lines: list[Line] = []
    tuition: dict[int, int] = {}  # item index -> its tuition
    pairs_of: list[tuple] = []
    for index, item in enumerate(items):
        student, offering = item[0], item[1]
        days = item[2] if len(item) > 2 else ()
        tuition[index] = camp_days.tuition_for(offering, days)
        pairs_of.append((student, offering, index))
        chosen = camp_days.describe(offering, days)
        lines.append(
            Line(
                OrderLine.Kind.TUITION,
                f"{offering.name} — {student.first_name}" + (f" ({chosen})" if chosen else ""),
                tuition[index],
                student.pk,
                offering.pk,
            )
        )
    items = [(student, offering) for student, offering, _ in pairs_of]

    per_student = portal.registration_fee_scope == "student"
    fees: dict[tuple, tuple[int, str, int]] = {}
    for student, offering in items:
        if offering.registration_fee <= 0:
            continue
        year = registration_year(offering.start_date, portal.registration_year_start_month)
        key = (student.pk if per_student else None, year)
        best = fees.get(key)
        if best is None or offering.registration_fee > best[0]:
            fees[key] = (offering.registration_fee, student.first_name, year)
    # No fee among the items (most classes): nothing to look up.
    paid = (
        set(
            RegistrationFeeCharge.objects.filter(family=family).values_list(
                "student_id", "registration_year"
            )
        )
        if fees
        else set()
    )
    for (student_id, year), (amount, first_name, _) in sorted(
        fees.items(), key=lambda kv: kv[0][1]
    ):
        if (student_id, year) in paid:
            continue
        who = f" — {first_name}" if per_student else ""
        lines.append(
            Line(
                OrderLine.Kind.REGISTRATION_FEE,
                f"Registration fee {year}-{year + 1}{who}",
                amount,
                student_id,
                None,
                year,
            )
        )

    by_student: dict[int, list] = defaultdict(list)
    for student, offering, index in pairs_of:
        by_student[student.pk].append((student, offering, tuition[index]))
    remaining: dict[int, int] = {}
    for student_id, pairs in by_student.items():
        pairs.sort(key=lambda p: (-p[2], p[1].pk))
        total = 0
        for position, (student, offering, amount) in enumerate(pairs, start=1):
            percent = portal.discount_percent("multi_class_discount_percents", position)
            off = percent_of(amount, percent)
            if off:
                lines.append(
                    Line(
                        OrderLine.Kind.MULTI_CLASS_DISCOUNT,
                        f"Multi-class discount {percent}% — {offering.name}",
                        -off,
                        student.pk,
                        offering.pk,
                    )
                )
            total += amount - off
        remaining[student_id] = total
    order = sorted(remaining, key=lambda sid: (-remaining[sid], sid))
    for position, student_id in enumerate(order, start=1):
        percent = portal.discount_percent("sibling_discount_percents", position)
        off = percent_of(remaining[student_id], percent)
        if off:
            first_name = by_student[student_id][0][0].first_name
            lines.append(
                Line(
                    OrderLine.Kind.SIBLING_DISCOUNT,
                    f"Sibling discount {percent}% — {first_name}",
                    -off,
                    student_id,
                    None,
                )
            )
    return lines


def totals(lines: list[Line]) -> tuple[int, int, int]:
    """(subtotal, discount_total, total)."""
    subtotal = sum(line.amount for line in lines if line.amount > 0)
    discount = sum(line.amount for line in lines if line.amount < 0)
    return subtotal, discount, max(subtotal + discount, 0)
