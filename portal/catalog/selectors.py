"""Reads of the catalog. Search takes already-validated filters (portal.catalog.filters parses
them) and returns a queryset whose page costs a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from django.db.models import DateTimeField, ExpressionWrapper, F, Func, Q, QuerySet, Value
from django.utils import timezone

from kernel import prefetch
from kernel.queries import CompiledQuery

from .models import (
    Level,
    Location,
    Offering,
    Program,
    RegistrationOpening,
    StaffProfile,
    Term,
)

TIMES_OF_DAY = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59, 59)),
}


@dataclass
class OfferingFilters:
    kinds: list[str] = field(default_factory=list)
    program_ids: list[int] = field(default_factory=list)
    location_ids: list[int] = field(default_factory=list)
    level_ids: list[int] = field(default_factory=list)
    instructor_ids: list[int] = field(default_factory=list)
    term_ids: list[int] = field(default_factory=list)
    weekdays: list[int] = field(default_factory=list)
    times_of_day: list[str] = field(default_factory=list)
    age: int | None = None
    gender: str | None = None
    has_openings: bool | None = None
    text: str = ""
    date_from: date | None = None
    date_to: date | None = None


_OFFERING_LEVELS = CompiledQuery(
    lambda offering_id: Level.objects.filter(offerings__id=offering_id), offering_id=int
)


def offering_levels(offering: Offering) -> list[Level]:
    """``offering.levels.all()`` (the same rows, in the same order), read once and kept on the
    offering as a prefetch would: the level rule of every hold, waitlist join and checkout
    reads it, so it is compiled once per connection (kernel.queries.CompiledQuery)."""
    if not prefetch.attached(offering, "levels"):
        prefetch.attach(
            offering,
            "levels",
            Level,
            {"offerings": offering.pk},
            _OFFERING_LEVELS.all(offering_id=offering.pk),
        )
    return list(offering.levels.all())


def _with_related(qs: QuerySet[Offering]) -> QuerySet[Offering]:
    return qs.select_related("program", "location", "term").with_search_related()


def attach_search_related(offerings: list[Offering]) -> None:
    """One query for the levels and one for the active instructors of ``offerings``, cached on
    each as ``prefetch_related`` would (same rows, same order). The profile of a search page
    showed Django's prefetch building a filtered queryset per offering and relation: most of
    the page's time."""
    offerings = [o for o in offerings if isinstance(o, Offering)]
    if not offerings:
        return
    ids = [o.pk for o in offerings]
    levels: dict[int, list] = {pk: [] for pk in ids}
    for level in (
        Level.objects.filter(offerings__in=ids)
        .annotate(_offering_id=F("offerings__id"))
        .select_related("program")
        .order_by("position", "pk")
    ):
        levels[level._offering_id].append(level)
    staff: dict[int, list] = {pk: [] for pk in ids}
    for person in (
        StaffProfile.objects.filter(is_active=True, offerings__in=ids)
        .annotate(_offering_id=F("offerings__id"))
        .order_by(*StaffProfile._meta.ordering, "pk")
    ):
        staff[person._offering_id].append(person)
    for offering in offerings:
        prefetch.attach(offering, "levels", Level, {"offerings": offering.pk}, levels[offering.pk])
        prefetch.attach(
            offering, "instructors", StaffProfile, {"offerings": offering.pk}, staff[offering.pk]
        )


def offering_search(*, filters: OfferingFilters, visible_kinds: list[str]) -> QuerySet[Offering]:
    """Published offerings of the kinds the business shows, matching every filter given."""
    qs = Offering.objects.published().filter(kind__in=visible_kinds)
    if filters.kinds:
        qs = qs.filter(kind__in=filters.kinds)
    if filters.date_from or filters.date_to:
        if filters.date_from:
            qs = qs.filter(end_date__gte=filters.date_from)
        if filters.date_to:
            qs = qs.filter(start_date__lte=filters.date_to)
    else:
        qs = qs.filter(end_date__gte=timezone.localdate())
    if filters.program_ids:
        qs = qs.filter(program_id__in=filters.program_ids)
    if filters.location_ids:
        qs = qs.filter(location_id__in=filters.location_ids)
    if filters.term_ids:
        qs = qs.filter(term_id__in=filters.term_ids)
    if filters.level_ids:
        qs = qs.filter(Q(levels__in=filters.level_ids) | Q(levels__isnull=True))
    if filters.instructor_ids:
        qs = qs.filter(instructors__in=filters.instructor_ids)
    if filters.weekdays:
        qs = qs.filter(weekdays__overlap=filters.weekdays)
    if filters.times_of_day:
        window = Q()
        for name in filters.times_of_day:
            start, end = TIMES_OF_DAY[name]
            window |= Q(start_time__gte=start, start_time__lt=end)
        qs = qs.filter(window)
    if filters.age is not None:
        qs = qs.filter(
            Q(min_age__isnull=True) | Q(min_age__lte=filters.age),
            Q(max_age__isnull=True) | Q(max_age__gte=filters.age),
        )
    if filters.gender in ("female", "male"):
        qs = qs.filter(gender__in=[Offering.Gender.ANY, filters.gender])
    elif filters.gender:
        qs = qs.filter(gender=Offering.Gender.ANY)
    if filters.has_openings is True:
        qs = qs.filter(seats_taken__lt=F("capacity"))
    elif filters.has_openings is False:
        qs = qs.filter(seats_taken__gte=F("capacity"))
    for word in filters.text.split():
        qs = qs.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(program__name__icontains=word)
            | Q(location__name__icontains=word)
        )
    if filters.level_ids or filters.instructor_ids:
        qs = qs.distinct()
    return _with_related(qs).order_by("start_date", "start_time", "name", "pk")


def offering_get(*, offering_id: int, visible_kinds: list[str]) -> Offering | None:
    return (
        _with_related(Offering.objects.published().filter(kind__in=visible_kinds))
        .filter(pk=offering_id)
        .first()
    )


def offering_public_ids(*, visible_kinds: list[str], limit: int) -> list[int]:
    """Ids of the published, not yet ended offerings of the kinds the business shows (the
    sitemap's class pages), oldest first, at most ``limit``."""
    qs = Offering.objects.published().filter(
        kind__in=visible_kinds, end_date__gte=timezone.localdate()
    )
    return list(qs.order_by("pk").values_list("pk", flat=True)[:limit])


class _YearsInterval(Func):
    function = "make_interval"
    template = "make_interval(years => %(expressions)s)"


def offering_match(
    *,
    born: date | None,
    age: int | None,
    gender: str,
    level: Level | None,
    visible_kinds: list[str],
) -> QuerySet[Offering]:
    """ "Find the right class": upcoming offerings a student may join by age (on each
    offering's start date when the birth date is known), gender and level."""
    qs = Offering.objects.published().filter(
        kind__in=visible_kinds, end_date__gte=timezone.localdate()
    )
    if born is not None:
        # age on start_date >= min_age  <=>  born <= start_date - min_age years
        # age on start_date <= max_age  <=>  born >  start_date - (max_age + 1) years
        youngest_birth = ExpressionWrapper(
            F("start_date") - _YearsInterval(F("min_age")), output_field=DateTimeField()
        )
        oldest_birth = ExpressionWrapper(
            F("start_date") - _YearsInterval(F("max_age") + 1), output_field=DateTimeField()
        )
        qs = qs.annotate(_youngest=youngest_birth, _oldest=oldest_birth).filter(
            Q(min_age__isnull=True) | Q(_youngest__gte=Value(born)),
            Q(max_age__isnull=True) | Q(_oldest__lt=Value(born)),
        )
    elif age is not None:
        qs = qs.filter(
            Q(min_age__isnull=True) | Q(min_age__lte=age),
            Q(max_age__isnull=True) | Q(max_age__gte=age),
        )
    if gender in ("female", "male"):
        qs = qs.filter(gender__in=[Offering.Gender.ANY, gender])
    else:
        qs = qs.filter(gender=Offering.Gender.ANY)
    if level is not None:
        qs = qs.filter(Q(levels=level) | Q(levels__isnull=True))
    else:
        # A student without a level fits offerings open to every level or taking beginners.
        qs = qs.filter(Q(levels__isnull=True) | Q(levels__position=1))
    return _with_related(qs.distinct()).order_by("start_date", "start_time", "name", "pk")


def staff_list() -> QuerySet[StaffProfile]:
    return StaffProfile.objects.filter(is_active=True).prefetch_related("availability__location")


def offering_filter_options(*, visible_kinds: list[str], show_levels: bool) -> dict:
    """The values class search can be filtered by at this business (for the apps' filter
    sheets): the kinds it shows, active programs, locations and instructors, levels when it
    shows them, and terms that have not ended."""
    from django.utils import timezone

    return {
        "kinds": [
            {"id": value, "name": str(label)}
            for value, label in Offering.Kind.choices
            if value in visible_kinds
        ],
        "programs": list(Program.objects.filter(is_active=True).values("id", "name")),
        "locations": list(Location.objects.filter(is_active=True).values("id", "name")),
        "levels": list(Level.objects.values("id", "name", "position", "program_id"))
        if show_levels
        else [],
        "instructors": list(
            StaffProfile.objects.filter(is_active=True).values("id", "display_name")
        ),
        "terms": list(Term.objects.filter(end_date__gte=timezone.localdate()).values("id", "name")),
    }


def registration_openings_for_staff(*, now) -> QuerySet[RegistrationOpening]:
    """The openings staff watch: those still in effect (no end, or ending in the future) and
    those that ended in the last day, soonest first."""
    from datetime import timedelta

    recent = now - timedelta(days=1)
    return (
        RegistrationOpening.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gte=recent))
        .prefetch_related("offerings")
        .order_by("opens_at", "pk")
    )


@dataclass(frozen=True)
class FilterChoices:
    """What the class search page offers to filter by (rows, not ids: the page shows names)."""

    programs: list[Program]
    locations: list[Location]
    levels: list[Level]
    instructors: list[StaffProfile]
    terms: list[Term]


def level_list() -> QuerySet[Level]:
    """Every level with its program (pickers: a student's level, the class finder)."""
    return Level.objects.select_related("program")


def filter_choices_get(*, show_levels: bool) -> FilterChoices:
    """The active programs, locations and instructors, the levels when the business shows them,
    and the terms that have not ended (in the business's zone): the search page's filters."""
    return FilterChoices(
        programs=list(Program.objects.filter(is_active=True)),
        locations=list(Location.objects.filter(is_active=True)),
        levels=list(level_list()) if show_levels else [],
        instructors=list(StaffProfile.objects.filter(is_active=True)),
        terms=list(Term.objects.filter(end_date__gte=timezone.localdate())),
    )


FILTER_NAMES = ("program", "location", "level", "instructor", "term")


def filter_value_ids(*, name: str, value: str) -> list[int]:
    """The ids (at most two, so a caller can tell "ambiguous" from "one") of the ``name``
    filter's rows called ``value``, case-insensitive: programs, locations and terms by name,
    active instructors by display name, levels by name or "Program: Level"."""
    qs: QuerySet
    if name == "level":
        program, _sep, level = value.rpartition(":")
        qs = Level.objects.filter(name__iexact=level.strip())
        if program.strip():
            qs = qs.filter(program__name__iexact=program.strip())
    elif name == "instructor":
        qs = StaffProfile.objects.filter(display_name__iexact=value, is_active=True)
    elif name in ("program", "location", "term"):
        model = {"program": Program, "location": Location, "term": Term}[name]
        qs = model.objects.filter(name__iexact=value)
    else:
        raise ValueError(f"not a filter with names: {name}")
    return list(qs.values_list("pk", flat=True)[:2])


def opening_offerings(*, opening_id: int) -> QuerySet[Offering]:
    """The offerings a registration opening gates, by name (none when it does not exist)."""
    return Offering.objects.filter(registration_openings__pk=opening_id).order_by("name")
