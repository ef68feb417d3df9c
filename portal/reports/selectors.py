"""The reports. ``report_run(name=..., params=...)`` parses the query parameters a person
typed (strings), refuses bad ones with ``invalid_filter`` and returns a :class:`Report`.
Money is in minor units in the rows (``money`` columns); dates and months are the business's
(its time zone)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.errors import ApplicationError
from portal.billing.models import LedgerEntry
from portal.billing.money import amount_format
from portal.billing.receivables import tenant_zone
from portal.catalog.models import Offering
from portal.enrollment.models import Enrollment, WaitlistEntry
from portal.requests.models import Request

MAX_MONTHS = 60
MAX_DAYS = 3660


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, money, percent, date, month


@dataclass
class Report:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict]
    params: dict = field(default_factory=dict)
    currency: str = ""

    def cell(self, row: dict, column: Column) -> str:
        """A cell as people read it (and as the CSV has it): money in the currency."""
        value = row.get(column.key)
        if value is None:
            return ""
        if column.kind == "money":
            return amount_format(value, currency=self.currency)
        if column.kind == "percent":
            return f"{value:.1f}"
        if column.kind == "month":
            return f"{value:%Y-%m}"
        if column.kind == "date":
            return value.isoformat()
        return str(value)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([c.label for c in self.columns])
        for row in self.rows:
            writer.writerow([_csv_safe(self.cell(row, c)) for c in self.columns])
        return out.getvalue()


def _csv_safe(text: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula: a family-typed reason
    ("=HYPERLINK(...)") must stay text. Numbers (``-12.50``) are left as they are."""
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bad(name: str, message: str) -> ApplicationError:
    return ApplicationError("invalid_filter", message, fields={name: [message]})


def _choice(params: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(name) or default
    if value not in choices:
        raise _bad(name, f"Use one of: {', '.join(choices)}.")
    return value


def _int_param(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if not (isinstance(value, str) and value.isdigit() and len(value) <= 9):
        raise _bad(name, "Give a number.")
    return int(value)


def _date_param(params: dict, name: str, default: date) -> date:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(str(value)[:10]) if len(str(value)) == 10 else _fail()
    except ValueError:
        raise _bad(name, "Use YYYY-MM-DD.") from None


def _month_param(params: dict, name: str, default: date) -> date:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        if len(str(value)) != 7:
            _fail()
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise _bad(name, "Use YYYY-MM.") from None


def _fail():
    raise ValueError


def _today() -> date:
    return timezone.localdate(timezone=tenant_zone())


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


# --- enrollment ---------------------------------------------------------------------------

LIVE = (Enrollment.Status.ACTIVE, Enrollment.Status.PENDING, Enrollment.Status.RESERVED)


def _offerings(params: dict):
    offerings = Offering.objects.exclude(status=Offering.Status.ARCHIVED)
    kind = params.get("kind")
    if kind:
        if kind not in Offering.Kind.values:
            raise _bad("kind", f"Use one of: {', '.join(Offering.Kind.values)}.")
        offerings = offerings.filter(kind=kind)
    program = _int_param(params, "program")
    if program is not None:
        offerings = offerings.filter(program_id=program)
    if params.get("current", "1") not in ("0", "1"):
        raise _bad("current", "Use 1 (classes not yet ended) or 0 (all).")
    if params.get("current", "1") == "1":
        offerings = offerings.filter(end_date__gte=_today())
    return offerings


ENROLLMENT_TITLES = {
    "program": _("Enrollment by program"),
    "offering": _("Enrollment by class"),
    "level": _("Enrollment by level"),
}


def enrollment_report(params: dict) -> Report:
    group_by = _choice(params, "group_by", ("program", "offering", "level"), "program")
    offerings = _offerings(params)
    counts = {
        "active": Count("pk", filter=Q(status=Enrollment.Status.ACTIVE)),
        "pending": Count("pk", filter=Q(status=Enrollment.Status.PENDING)),
    }
    enrollments = Enrollment.objects.filter(offering__in=offerings, status__in=LIVE)
    if group_by == "level":
        rows = [
            {
                "level": r["student__level__name"] or str(_("No level")),
                **_pick(r, "active", "pending"),
            }
            for r in enrollments.values("student__level__name", "student__level__position")
            .annotate(**counts)
            .order_by("student__level__position", "student__level__name")
        ]
        columns = [Column("level", _("Level"))]
    elif group_by == "program":
        capacity = dict(
            offerings.values("program__name")
            .annotate(c=Sum("capacity"))
            .values_list("program__name", "c")
        )
        classes = dict(
            offerings.values("program__name")
            .annotate(n=Count("pk"))
            .values_list("program__name", "n")
        )
        by_program = {
            r["offering__program__name"]: r
            for r in enrollments.values("offering__program__name").annotate(**counts)
        }
        rows = [
            {
                "program": name,
                "offerings": classes[name],
                **_pick(by_program.get(name, {}), "active", "pending"),
                "capacity": capacity[name] or 0,
            }
            for name in sorted(capacity)
        ]
        columns = [
            Column("program", _("Program")),
            Column("offerings", _("Classes"), "int"),
        ]
    else:
        by_offering = {
            r["offering_id"]: r for r in enrollments.values("offering_id").annotate(**counts)
        }
        rows = [
            {
                "offering_id": o.pk,
                "program": o.program.name,
                "offering": o.name,
                "kind": o.kind,
                "start_date": o.start_date,
                **_pick(by_offering.get(o.pk, {}), "active", "pending"),
                "capacity": o.capacity,
            }
            for o in offerings.select_related("program").order_by(
                "program__sort_order", "program__name", "start_date", "name", "pk"
            )
        ]
        columns = [
            Column("program", _("Program")),
            Column("offering", _("Class")),
            Column("kind", _("Kind")),
            Column("start_date", _("Starts"), "date"),
        ]
    columns += [Column("active", _("Enrolled"), "int"), Column("pending", _("Pending"), "int")]
    if group_by != "level":
        columns.append(Column("capacity", _("Capacity"), "int"))
    return Report("enrollment", ENROLLMENT_TITLES[group_by], columns, rows, {"group_by": group_by})


def _pick(row: dict, *keys: str) -> dict:
    return {key: row.get(key, 0) or 0 for key in keys}


def fill_rate_report(params: dict) -> Report:
    """Seats filled by live enrollments (enrolled, pending approval, reserved for payment) out
    of capacity, per class, with the waitlist's length."""
    offerings = (
        _offerings(params)
        .select_related("program")
        .annotate(
            enrolled=Count("enrollments", filter=Q(enrollments__status__in=LIVE), distinct=True),
            waiting=Count(
                "waitlist", filter=Q(waitlist__status__in=WaitlistEntry.LIVE), distinct=True
            ),
        )
        .order_by("program__sort_order", "program__name", "start_date", "name", "pk")
    )
    rows = [
        {
            "offering_id": o.pk,
            "program": o.program.name,
            "offering": o.name,
            "start_date": o.start_date,
            "capacity": o.capacity,
            "enrolled": o.enrolled,
            "openings": max(o.capacity - o.enrolled, 0),
            "fill_rate": _pct(o.enrolled, o.capacity),
            "waiting": o.waiting,
        }
        for o in offerings
    ]
    columns = [
        Column("program", _("Program")),
        Column("offering", _("Class")),
        Column("start_date", _("Starts"), "date"),
        Column("capacity", _("Capacity"), "int"),
        Column("enrolled", _("Enrolled"), "int"),
        Column("openings", _("Openings"), "int"),
        Column("fill_rate", _("Fill rate (%)"), "percent"),
        Column("waiting", _("Waiting"), "int"),
    ]
    return Report("fill-rate", _("Fill rate"), columns, rows)


# --- money --------------------------------------------------------------------------------


def revenue_report(params: dict) -> Report:
    """Per month (the business's calendar): what was charged, discounted, credited, collected
    (card and offline payments) and refunded, and the net collected."""
    this_month = _today().replace(day=1)
    default_from = (this_month - timedelta(days=335)).replace(day=1)
    start = _month_param(params, "from", default_from)
    end = _month_param(params, "to", this_month)
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months < 1 or months > MAX_MONTHS:
        raise _bad("to", f"Give at most {MAX_MONTHS} months, the first one first.")
    zone = tenant_zone()
    after = (end.replace(day=28) + timedelta(days=4)).replace(day=1)
    lower, upper = _midnight(start, zone), _midnight(after, zone)
    sums = (
        LedgerEntry.objects.filter(created_at__gte=lower, created_at__lt=upper)
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    by_month: dict[date, dict] = {}
    for row in sums:
        by_month.setdefault(row["month"].date(), {})[row["kind"]] = row["total"] or 0
    rows = []
    month = start
    while month < after:
        kinds = by_month.get(month, {})
        payments = -kinds.get(LedgerEntry.Kind.PAYMENT, 0)
        refunds = kinds.get(LedgerEntry.Kind.REFUND, 0)
        rows.append(
            {
                "month": month,
                "charges": kinds.get(LedgerEntry.Kind.CHARGE, 0),
                "discounts": -kinds.get(LedgerEntry.Kind.DISCOUNT, 0),
                "credits": -kinds.get(LedgerEntry.Kind.CREDIT, 0),
                "payments": payments,
                "refunds": refunds,
                "net_collected": payments - refunds,
            }
        )
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    columns = [
        Column("month", _("Month"), "month"),
        Column("charges", _("Charged"), "money"),
        Column("discounts", _("Discounts"), "money"),
        Column("credits", _("Credits"), "money"),
        Column("payments", _("Collected"), "money"),
        Column("refunds", _("Refunded"), "money"),
        Column("net_collected", _("Net collected"), "money"),
    ]
    return Report(
        "revenue",
        _("Revenue by month"),
        columns,
        rows,
        {"from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}"},
        connection.tenant.currency,
    )


# --- demand and drops -----------------------------------------------------------------------


def waitlist_report(params: dict) -> Report:
    """Classes with families waiting, longest list first."""
    offerings = (
        _offerings(params)
        .select_related("program")
        .annotate(
            waiting=Count(
                "waitlist", filter=Q(waitlist__status=WaitlistEntry.Status.WAITING), distinct=True
            ),
            offered=Count(
                "waitlist", filter=Q(waitlist__status=WaitlistEntry.Status.OFFERED), distinct=True
            ),
            enrolled=Count("enrollments", filter=Q(enrollments__status__in=LIVE), distinct=True),
            since=Min("waitlist__created_at", filter=Q(waitlist__status__in=WaitlistEntry.LIVE)),
        )
        .filter(Q(waiting__gt=0) | Q(offered__gt=0))
        .order_by("-waiting", "program__name", "name", "pk")
    )
    zone = tenant_zone()
    rows = [
        {
            "offering_id": o.pk,
            "program": o.program.name,
            "offering": o.name,
            "capacity": o.capacity,
            "enrolled": o.enrolled,
            "waiting": o.waiting,
            "offered": o.offered,
            "waiting_since": timezone.localtime(o.since, zone).date() if o.since else None,
        }
        for o in offerings
    ]
    columns = [
        Column("program", _("Program")),
        Column("offering", _("Class")),
        Column("capacity", _("Capacity"), "int"),
        Column("enrolled", _("Enrolled"), "int"),
        Column("waiting", _("Waiting"), "int"),
        Column("offered", _("Offers out"), "int"),
        Column("waiting_since", _("Waiting since"), "date"),
    ]
    return Report("waitlist", _("Waitlist demand"), columns, rows)


def drops_report(params: dict) -> Report:
    """Drop requests made in a date range (the business's days), with the family's reason and
    what became of them."""
    today = _today()
    start = _date_param(params, "from", today - timedelta(days=89))
    end = _date_param(params, "to", today)
    if end < start or (end - start).days > MAX_DAYS:
        raise _bad("to", "Give a range of at most ten years, start first.")
    status = params.get("status") or ""
    if status and status not in Request.Status.values:
        raise _bad("status", f"Use one of: {', '.join(Request.Status.values)}.")
    zone = tenant_zone()
    lower, upper = _midnight(start, zone), _midnight(end + timedelta(days=1), zone)
    drops = (
        Request.objects.filter(type=Request.Type.DROP, created_at__gte=lower, created_at__lt=upper)
        .select_related("family", "student", "enrollment__offering__program")
        .order_by("-created_at", "-pk")
    )
    if status:
        drops = drops.filter(status=status)
    rows = []
    for r in drops:
        offering = r.enrollment.offering if r.enrollment_id else None
        rows.append(
            {
                "request_id": r.pk,
                "requested_on": timezone.localtime(r.created_at, zone).date(),
                "family": r.family.name,
                "student": f"{r.student.first_name} {r.student.last_name}",
                "program": offering.program.name if offering else "",
                "offering": offering.name if offering else "",
                "last_day": r.effective_date,
                "status": r.status,
                "reason": r.reason,
            }
        )
    columns = [
        Column("requested_on", _("Requested"), "date"),
        Column("family", _("Family")),
        Column("student", _("Student")),
        Column("program", _("Program")),
        Column("offering", _("Class")),
        Column("last_day", _("Last day"), "date"),
        Column("status", _("Status")),
        Column("reason", _("Reason")),
    ]
    return Report(
        "drops",
        _("Drops with reasons"),
        columns,
        rows,
        {"from": start.isoformat(), "to": end.isoformat()},
    )


# --- attendance -----------------------------------------------------------------------------


def attendance_report(params: dict) -> Report:
    """Attendance by class (or by student) over a range of the business's days: meetings held
    (up to today), students expected at them (makeups included), marks present, late, absent
    and excused, marks not taken, and the share attended (present or late) of the marks."""
    from portal.attendance.models import Attendance
    from portal.attendance.selectors import meeting_summaries

    today = _today()
    start = _date_param(params, "from", today - timedelta(days=27))
    end = _date_param(params, "to", today)
    if end < start or (end - start).days > MAX_DAYS:
        raise _bad("to", "Give a range of at most ten years, start first.")
    group_by = _choice(params, "group_by", ("offering", "student"), "offering")
    offerings = _offerings({**params, "current": params.get("current", "0")})
    offering_id = _int_param(params, "offering")
    if offering_id is not None:
        offerings = offerings.filter(pk=offering_id)
    offerings = list(
        offerings.filter(start_date__lte=min(end, today), end_date__gte=start)
        .select_related("program")
        .order_by("program__name", "name", "pk")
    )
    last = min(end, today)
    marks = Attendance.objects.filter(
        offering__in=offerings, meeting_date__gte=start, meeting_date__lte=last
    )
    statuses = Attendance.Status.values
    rows: list[dict] = []
    if group_by == "offering":
        counts: dict[int, dict[str, int]] = {}
        for offering_pk, status, n in (
            marks.values_list("offering_id", "status").annotate(n=Count("pk")).order_by()
        ):
            counts.setdefault(offering_pk, {})[status] = n
        for offering in offerings:
            days = [d for d in offering.meetings() if start <= d <= last]
            summaries = meeting_summaries(offering=offering, days=days)
            expected = sum(s.expected for s in summaries.values())
            by_status = counts.get(offering.pk, {})
            marked = sum(by_status.values())
            row = {
                "program": offering.program.name,
                "offering": offering.name,
                "meetings": len(days),
                "taken": sum(1 for s in summaries.values() if s.state == "taken"),
                "expected": expected,
                **{status: by_status.get(status, 0) for status in statuses},
                "unmarked": max(expected - marked, 0),
                "rate": _pct(by_status.get("present", 0) + by_status.get("late", 0), marked),
            }
            rows.append(row)
        columns = [
            Column("program", _("Program")),
            Column("offering", _("Class")),
            Column("meetings", _("Meetings"), "int"),
            Column("taken", _("Attendance taken"), "int"),
            Column("expected", _("Expected"), "int"),
        ]
    else:
        counts_s: dict[tuple[int, int], dict[str, int]] = {}
        names: dict[tuple[int, int], tuple[str, str, str]] = {}
        for offering_pk, student_pk, first, last_name, status, n in (
            marks.values_list(
                "offering_id", "student_id", "student__first_name", "student__last_name", "status"
            )
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts_s.setdefault((offering_pk, student_pk), {})[status] = n
            names[(offering_pk, student_pk)] = (first, last_name, "")
        by_pk = {o.pk: o for o in offerings}
        for key in sorted(
            counts_s, key=lambda k: (by_pk[k[0]].name, names[k][0], names[k][1], k[1])
        ):
            by_status = counts_s[key]
            marked = sum(by_status.values())
            first, last_name, _unused = names[key]
            rows.append(
                {
                    "offering": by_pk[key[0]].name,
                    "student": f"{first} {last_name}",
                    **{status: by_status.get(status, 0) for status in statuses},
                    "rate": _pct(by_status.get("present", 0) + by_status.get("late", 0), marked),
                }
            )
        columns = [Column("offering", _("Class")), Column("student", _("Student"))]
    labels = dict(Attendance.Status.choices)
    columns += [Column(status, labels[status], "int") for status in statuses]
    if group_by == "offering":
        columns.append(Column("unmarked", _("Not marked"), "int"))
    columns.append(Column("rate", _("Attended %"), "percent"))
    title = _("Attendance by class") if group_by == "offering" else _("Attendance by student")
    return Report(
        "attendance", title, columns, rows, {"from": start.isoformat(), "to": end.isoformat()}
    )


REPORTS = {
    "enrollment": enrollment_report,
    "fill-rate": fill_rate_report,
    "revenue": revenue_report,
    "waitlist": waitlist_report,
    "drops": drops_report,
    "attendance": attendance_report,
}


def report_run(*, name: str, params: dict) -> Report:
    runner = REPORTS.get(name)
    if runner is None:
        raise ApplicationError(
            "report_not_found",
            f"There is no report “{str(name)[:40]}”.",
            status=404,
        )
    for key, value in params.items():
        if isinstance(value, str) and ("\x00" in value or len(value) > 100):
            raise _bad(key, "That value is not allowed.")
    report = runner(params)
    report.currency = report.currency or connection.tenant.currency
    return report
