"""Query-string parsing for class search and "find the right class", in one place for every
delivery (the API, the web portal, the website widget): every unknown or malformed value is a
400 with code ``invalid_filter`` naming the parameter, never an empty page that hides the mistake;
a student who is not one of the family's is ``student_not_found`` (404) wherever it is asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.accounts.errors import student_not_found
from portal.accounts.models import Student
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

KNOWN = {
    "kind", "program", "location", "level", "instructor", "term", "day", "time_of_day", "age",
    "gender", "has_openings", "q", "from", "to", "page", "page_size",
}  # fmt: skip
GENDERS = {"female", "male", "nonbinary", "unspecified"}


def bad(param: str, message: str) -> ApplicationError:
    return ApplicationError("invalid_filter", message, fields={param: [message]})


def _values(params: QueryDict, name: str) -> list[str]:
    out: list[str] = []
    for raw in params.getlist(name):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def choice_values(params, name, allowed: set[str] | list[str]) -> list[str]:
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


def int_param(params, name, low: int, high: int, label: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    value = value.strip()
    try:
        number = int(value)
    except ValueError:
        raise bad(name, f"“{value}” is not a whole number.") from None
    if not low <= number <= high:
        raise bad(
            name,
            _("%(label)s must be between %(low)s and %(high)s.")
            % {"label": label, "low": low, "high": high},
        )
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
        kinds=choice_values(params, "kind", set(Offering.Kind.values)),
        program_ids=_ids(params, "program", Program, "program"),
        location_ids=_ids(params, "location", Location, "location"),
        level_ids=_ids(params, "level", Level, "level"),
        instructor_ids=_ids(params, "instructor", StaffProfile, "instructor"),
        term_ids=_ids(params, "term", Term, "term"),
        weekdays=[WEEKDAY_CODES.index(d) for d in choice_values(params, "day", WEEKDAY_CODES)],
        times_of_day=choice_values(params, "time_of_day", set(TIMES_OF_DAY)),
        age=int_param(params, "age", 0, 120, _("Age")),
        gender=next(iter(choice_values(params, "gender", GENDERS)), None),
        has_openings=_bool(params, "has_openings"),
        text=text,
        date_from=_date(params, "from"),
        date_to=_date(params, "to"),
    )
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise bad("to", "The end of the date range is before its start.")
    return filters


MATCH_PARAMS = {"student", "age", "gender", "level", "page", "page_size"}


@dataclass(frozen=True)
class MatchQuery:
    """Who a "find the right class" search is for: a birth date (taken on each offering's start
    date) or an age, with gender and level (``None``: new to this)."""

    born: date | None
    age: int | None
    gender: str
    level: Level | None


def parse_offering_match(params: QueryDict, *, family, allow_birthdate: bool = False) -> MatchQuery:
    """``student`` (one of ``family``'s; a visitor has none), or ``age`` (or, where
    ``allow_birthdate``, ``born``) with optional ``gender`` and ``level``."""
    known = MATCH_PARAMS | ({"born"} if allow_birthdate else set())
    unknown = sorted(set(params) - known)
    if unknown:
        raise bad(unknown[0], _("Unknown filter “%(name)s”.") % {"name": unknown[0]})
    raw = (params.get("student") or "").strip()
    if raw:
        if not raw.isdigit() or len(raw) > 12:
            raise bad("student", _("“%(value)s” is not a student id.") % {"value": raw})
        student = (
            Student.objects.select_related("level").filter(pk=int(raw), family=family).first()
            if family is not None
            else None
        )
        if student is None:
            raise student_not_found()
        return MatchQuery(
            born=student.date_of_birth, age=None, gender=student.gender, level=student.level
        )
    born = _birthdate(params) if allow_birthdate else None
    age = int_param(params, "age", 0, 120, _("Age")) if born is None else None
    if born is None and age is None:
        raise bad(
            "age",
            _("Give a student, an age or a date of birth.")
            if allow_birthdate
            else _("Give a student or an age."),
        )
    gender = (choice_values(params, "gender", GENDERS) or ["unspecified"])[0]
    level = None
    level_id = int_param(params, "level", 1, 10**9, _("Level"))
    if level_id is not None:
        level = Level.objects.filter(pk=level_id).first()
        if level is None:
            raise bad("level", _("Unknown level %(id)s.") % {"id": level_id})
    return MatchQuery(born=born, age=age, gender=gender, level=level)


def _birthdate(params: QueryDict) -> date | None:
    raw = (params.get("born") or "").strip()
    if not raw:
        return None
    try:
        born = date.fromisoformat(raw)
    except ValueError:
        raise bad(
            "born", _("“%(value)s” is not a date; use YYYY-MM-DD.") % {"value": raw}
        ) from None
    if born > timezone.localdate():
        raise bad("born", _("The date of birth is in the future."))
    return born
