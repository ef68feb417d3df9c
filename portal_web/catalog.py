"""Class search, "find the right class" and one offering: the catalog's query parsing
(portal.catalog.filters), selectors (portal.catalog.selectors) and output shapes
(portal.catalog.outputs, which apply the portal's visibility settings), the ones the API uses,
drawn as pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import EmptyPage, Paginator
from django.db import connection
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.catalog.filters import parse_offering_filters, parse_offering_match
from portal.catalog.models import WEEKDAY_CODES, Offering
from portal.catalog.outputs import OfferingDetailOutput, OfferingOutput
from portal.catalog.selectors import (
    filter_choices_get,
    level_list,
    offering_get,
    offering_match,
    offering_search,
)
from portal.enrollment.eligibility import student_ineligibility
from portal.enrollment.selectors import camp_choices, students_active

from .context import portal_context_get
from .helpers import error_page, field_errors

PAGE_SIZE = 20


def _catalog_visible(request):
    """The API's CatalogVisible: visitors browse only when the business shows them the list.
    Returns a redirect to sign in when they may not."""
    if request.user.is_authenticated:
        return None
    if portal_context_get(request)["portal"].list_visible_when_logged_out:
        return None
    messages.info(request, _("Sign in to see the classes this business offers."))
    return redirect(f"{reverse('portal-login')}?{urlencode({'next': request.get_full_path()})}")


def _page_number(params) -> int:
    value = params.get("page")
    if value is None or value == "":
        return 1
    if not (value.isdigit() and 0 < int(value) < 10**9):
        message = _("“%(value)s” is not a page number.") % {"value": value}
        raise ApplicationError("invalid_page", message, fields={"page": [message]})
    return int(value)


def _paginate(request, qs, params):
    number = _page_number(params)
    paginator = Paginator(qs, PAGE_SIZE)
    try:
        page = paginator.page(number)
    except EmptyPage:
        page = paginator.page(paginator.num_pages or 1)
    portal = portal_context_get(request)["portal"]
    rows = OfferingOutput(
        page.object_list,
        many=True,
        context={"portal": portal, "currency": connection.tenant.currency},
    ).data
    query = params.copy()
    query.pop("page", None)
    return page, rows, query.urlencode()


def _filter_choices(portal) -> dict:
    rows = filter_choices_get(show_levels=portal.show_levels)
    return {
        "kinds": [(k, label) for k, label in Offering.Kind.choices if k in portal.shown_kinds()],
        "programs": rows.programs,
        "locations": rows.locations,
        "levels": rows.levels,
        "instructors": rows.instructors,
        "terms": rows.terms,
        "days": WEEKDAY_CODES,
        "times_of_day": [
            ("morning", _("Morning (before noon)")),
            ("afternoon", _("Afternoon (noon to 5 pm)")),
            ("evening", _("Evening (after 5 pm)")),
        ],
        "genders": [
            ("female", _("Girls / women")),
            ("male", _("Boys / men")),
        ],
    }


def class_search(request):
    denied = _catalog_visible(request)
    if denied:
        return denied
    portal = portal_context_get(request)["portal"]
    params = request.GET
    context = {
        "nav": "classes",
        "params": params,
        "selected": {name: params.getlist(name) for name in ("kind", "day", "time_of_day")},
        "filtered": any(v for k, v in params.items() if k not in ("q", "page")),
        "choices": _filter_choices(portal),
        # The filters the business shows, in its order (Settings > Portal and class list).
        "filter_order": portal.search_filter_list,
    }
    try:
        filters = parse_offering_filters(params)
        qs = offering_search(filters=filters, visible_kinds=portal.shown_kinds())
        page, rows, query = _paginate(request, qs, params)
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc), offerings=[])
        return render(request, "portal_web/classes.html", context, status=exc.status)
    context.update(page=page, offerings=rows, query=query)
    if portal_context_get(request)["layout"]["class_list_layout"] == "calendar":
        context["week"] = _week(rows)
    return render(request, "portal_web/classes.html", context)


def _week(rows) -> list[tuple[str, list]]:
    """The page's offerings by the weekday they meet on, earliest first (the calendar layout);
    an offering meeting on several days appears on each. Days without classes are left out."""
    week = []
    for code in WEEKDAY_CODES:
        day = [row for row in rows if code in (row.get("schedule") or {}).get("days", [])]
        if day:
            week.append((code, sorted(day, key=lambda r: str(r["schedule"].get("start_time")))))
    return week


def class_finder(request):
    """ "Find the right class": one of the family's students, or an age or a birth date with
    gender and level (the API's /offerings/match, plus a birth date for visitors so the age is
    taken on each offering's start date)."""
    denied = _catalog_visible(request)
    if denied:
        return denied
    ctx = portal_context_get(request)
    portal, family = ctx["portal"], ctx.get("family")
    params = request.GET
    students = list(students_active(family)) if family else []
    context = {
        "nav": "classes",
        "params": params,
        "students": students,
        "levels": list(level_list()) if portal.show_levels else [],
        "searched": False,
    }
    asked = any(params.get(name) for name in ("student", "age", "born"))
    if not asked:
        return render(request, "portal_web/class_finder.html", context)
    try:
        match = parse_offering_match(params, family=family, allow_birthdate=True)
        qs = offering_match(
            born=match.born,
            age=match.age,
            gender=match.gender,
            level=match.level,
            visible_kinds=portal.shown_kinds(),
        )
        page, rows, query = _paginate(request, qs, params)
    except ApplicationError as exc:
        context.update(error=exc, errors=field_errors(exc))
        return render(request, "portal_web/class_finder.html", context, status=exc.status)
    context.update(searched=True, page=page, offerings=rows, query=query)
    return render(request, "portal_web/class_finder.html", context)


def offering_detail(request, offering_id: int):
    denied = _catalog_visible(request)
    if denied:
        return denied
    ctx = portal_context_get(request)
    portal, family = ctx["portal"], ctx.get("family")
    offering = offering_get(offering_id=offering_id, visible_kinds=portal.shown_kinds())
    if offering is None:
        return error_page(
            request,
            ApplicationError("offering_not_found", _("We could not find that class."), status=404),
            back_url=reverse("portal-classes"),
            back_label=_("Back to the classes"),
        )
    data = OfferingDetailOutput(
        offering,
        context={
            "portal": portal,
            "currency": connection.tenant.currency,
            "camp_choices": camp_choices(offering, portal),
        },
    ).data
    students = list(students_active(family)) if family else []
    # Who may take it, and why not, before the family tries (the cart checks again).
    checked = [(st, student_ineligibility(st, offering)) for st in students]
    picker = [
        {"student": st, "why_not": why_not}
        for st, why_not in sorted(checked, key=lambda row: (bool(row[1]), row[0].first_name))
    ]
    return render(
        request,
        "portal_web/offering.html",
        {
            "nav": "classes",
            "o": data,
            "students": students,
            "picker": picker,
            "any_eligible": any(not row["why_not"] for row in picker),
            "priority_open": portal.priority_window_open(),
            # Aware datetimes: the template shows them in the business's zone (the request's).
            "registration_opens_at": _upcoming(offering.registration_opens_at),
            "registration_closes_at": _upcoming(offering.registration_closes_at),
        },
    )


def _upcoming(moment):
    return moment if moment is not None and moment > timezone.now() else None
