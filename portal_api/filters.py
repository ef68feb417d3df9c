"""Query-string parsing for class search: every unknown or malformed value is a 400 with code
``invalid_filter`` naming the parameter, never an empty page that hides the mistake."""

from __future__ import annotations

from datetime import date

from django.http import QueryDict

from portal.catalog.models import (
    WEEKDAY_CODES,
    Level,
    Location,
    Offering,
    Program,
    StaffProfile,
    Term,
)
from portal.catalog.selectors import TIMES_OF_DAY, OfferingFilters
from saas_platform.errors import ApplicationError

KNOWN = {
    "kind", "program", "location", "level", "instructor", "term", "day", "time_of_day", "age",
    "gender", "has_openings", "q", "from", "to", "page", "page_size",
}  # fmt: skip
GENDERS = {"female", "male", "nonbinary", "unspecified"}


def bad(param: str, message: str) -> ApplicationError:
    return ApplicationError("invalid_filter", message, fields={param: [message]})


def _values(params: QueryDict, name: str) -> list[str]:
    out = []
    for raw in params.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def _choice(params, name, allowed: set[str] | list[str]) -> list[str]:
    values = [v.lower() for v in _values(params, name)]
    for value in values:
        if value not in allowed:
            raise bad(name, f"Unknown {name} “{value}”. Use one of: {', '.join(sorted(allowed))}.")
    return values


def _ids(params, name, model, label) -> list[int]:
    values = _values(params, name)
    ids = []
    for value in values:
        if not value.isdigit() or len(value) > 12:
            raise bad(name, f"“{value}” is not a {label} id.")
        ids.append(int(value))
    if ids:
        found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [i for i in ids if i not in found]
        if missing:
            raise bad(name, f"Unknown {label} {missing[0]}.")
    return ids


def _date(params, name) -> date | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise bad(name, f"“{value}” is not a date; use YYYY-MM-DD.") from None


def _int(params, name, low: int, high: int, label: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    value = value.strip()
    try:
        number = int(value)
    except ValueError:
        raise bad(name, f"“{value}” is not a whole number.") from None
    if not low <= number <= high:
        raise bad(name, f"{label} must be between {low} and {high}.")
    return number


def _bool(params, name) -> bool | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    lowered = value.strip().lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise bad(name, f"“{value}” is not true or false.")


def parse_offering_filters(params: QueryDict) -> OfferingFilters:
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise bad(unknown[0], f"Unknown filter “{unknown[0]}”.")
    text = (params.get("q") or "").strip()
    if len(text) > 100:
        raise bad("q", "The search text may be at most 100 characters.")
    filters = OfferingFilters(
        kinds=_choice(params, "kind", set(Offering.Kind.values)),
        program_ids=_ids(params, "program", Program, "program"),
        location_ids=_ids(params, "location", Location, "location"),
        level_ids=_ids(params, "level", Level, "level"),
        instructor_ids=_ids(params, "instructor", StaffProfile, "instructor"),
        term_ids=_ids(params, "term", Term, "term"),
        weekdays=[WEEKDAY_CODES.index(d) for d in _choice(params, "day", WEEKDAY_CODES)],
        times_of_day=_choice(params, "time_of_day", set(TIMES_OF_DAY)),
        age=_int(params, "age", 0, 120, "Age"),
        gender=(_choice(params, "gender", GENDERS) or [None])[0],
        has_openings=_bool(params, "has_openings"),
        text=text,
        date_from=_date(params, "from"),
        date_to=_date(params, "to"),
    )
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise bad("to", "The end of the date range is before its start.")
    return filters
