from __future__ import annotations

from functools import partial

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone, translation
from django_tenants.utils import tenant_context
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from kernel import after_response
from kernel.api.pagination import Pagination
from kernel.errors import ApplicationError
from portal.catalog.availability import availability_by_ids, availability_for
from portal.catalog.filters import bad, parse_offering_filters, parse_offering_match
from portal.catalog.models import WEEKDAY_CODES
from portal.catalog.outputs import OfferingDetailOutput, OfferingOutput, StaffOutput, availability
from portal.catalog.search_cache import page_get, page_put
from portal.catalog.selectors import (
    TIMES_OF_DAY,
    offering_filter_options,
    offering_get,
    offering_match,
    offering_search,
    staff_list,
)
from portal.config.models import SEARCH_FILTERS
from portal.enrollment.selectors import camp_choices

from .base import CatalogApi, PortalApi

SEARCH_PARAMETERS = [
    OpenApiParameter(
        "kind", str, description="class, camp or event (comma-separated for several)."
    ),
    OpenApiParameter("program", str, description="Program id(s)."),
    OpenApiParameter("location", str, description="Location id(s)."),
    OpenApiParameter(
        "level", str, description="Level id(s); offerings open to every level match too."
    ),
    OpenApiParameter("instructor", str, description="Instructor (staff profile) id(s)."),
    OpenApiParameter("term", str, description="Term id(s)."),
    OpenApiParameter(
        "day", str, description="mon, tue, wed, thu, fri, sat, sun (comma-separated)."
    ),
    OpenApiParameter(
        "time_of_day", str, description="morning (<12:00), afternoon (12-17), evening."
    ),
    OpenApiParameter("age", int, description="Student age in years, 0-120."),
    OpenApiParameter("gender", str, description="female, male, nonbinary or unspecified."),
    OpenApiParameter("has_openings", bool, description="true: only offerings with a free seat."),
    OpenApiParameter("q", str, description="Free text in name, description, program, location."),
    OpenApiParameter("from", str, description="Runs on or after this date (YYYY-MM-DD)."),
    OpenApiParameter("to", str, description="Runs on or before this date (YYYY-MM-DD)."),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="At most 200."),
]
SEARCH_ERRORS = (
    "Errors: `invalid_filter` (400, names the parameter), `invalid_page` (400), "
    "`login_required` (401, when the business hides the list from visitors), "
    "`server_busy` (429 with `Retry-After`, only while the server is over its latency target and "
    "this business over its fair share; docs/rush.md), "
    "`portal_disabled` (503). Availability comes from a cache a few seconds old at most; "
    "checkout re-checks every seat."
)


class OfferingListApi(CatalogApi):
    pagination_class = Pagination  # documents the paginated answer

    @extend_schema(
        operation_id="offerings_search",
        parameters=SEARCH_PARAMETERS,
        responses=OfferingOutput(many=True),
        examples=[
            OpenApiExample(
                "Bad filter",
                response_only=True,
                status_codes=["400"],
                value={
                    "code": "invalid_filter",
                    "message": "Age must be between 0 and 120.",
                    "fields": {"age": ["Age must be between 0 and 120."]},
                },
            ),
        ],
        description="Search the classes, camps and events a family can join, with "
        "availability. " + SEARCH_ERRORS,
    )
    def get(self, request):
        filters = parse_offering_filters(request.query_params)
        # Pages filtered on openings depend on seat counts: never cached.
        cached, slot = (None, None) if filters.has_openings is not None else page_get(request)
        if cached is not None:
            seats = cached.seats if cached.seats is not None else availability_by_ids(cached.ids)
            if cached.refresh:
                after_response.defer(partial(self._refresh, request, filters, slot, **_scope()))
        else:
            cached, page = self._build(request, filters, slot)
            seats = availability_for(page)
        # The page's bytes as built (or kept), today's availability spliced in.
        current = {oid: availability(None, self.portal, s) for oid, s in seats.items()}
        return HttpResponse(cached.render(current), content_type="application/json")

    def _build(self, request, filters, slot):
        """The page of results (availability slots included), stored at ``slot``; and the
        page's offerings."""
        qs = offering_search(filters=filters, visible_kinds=self.portal.shown_kinds())
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        context = {"portal": self.portal, "currency": self.tenant.currency}
        data = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": OfferingOutput(page, many=True, context=context).data,
        }
        return page_put(slot, data), page

    def _refresh(self, request, filters, slot, *, tenant, zone, language) -> None:
        """Build a kept page again once the search that read it near its end has answered
        (``search_cache.REFRESH_WITHIN_SECONDS``), in that search's business, time zone and
        language. A page number past the end now (offerings gone without a catalog change)
        is left to expire."""
        with tenant_context(tenant), timezone.override(zone), translation.override(language):
            try:
                self._build(request, filters, slot)
            except NotFound:
                return


def _scope() -> dict:
    """What a page is built in besides the request: the business, its time zone, the
    language."""
    return {
        "tenant": connection.tenant,
        "zone": timezone.get_current_timezone(),
        "language": translation.get_language(),
    }


class FilterOptionOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The value to pass to the search parameter.")
    name = serializers.CharField()


class FilterIdOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FilterLevelOutput(FilterIdOutput):
    position = serializers.IntegerField()
    program_id = serializers.IntegerField(allow_null=True)


class FilterInstructorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class OfferingFiltersOutput(serializers.Serializer):
    kinds = FilterOptionOutput(many=True)
    programs = FilterIdOutput(many=True)
    locations = FilterIdOutput(many=True)
    levels = FilterLevelOutput(many=True, help_text="Empty when the business hides levels.")
    instructors = FilterInstructorOutput(many=True)
    terms = FilterIdOutput(many=True)
    days = serializers.ListField(child=serializers.CharField())
    times_of_day = serializers.ListField(child=serializers.CharField())
    genders = serializers.ListField(child=serializers.CharField())
    order = serializers.ListField(
        child=serializers.ChoiceField(choices=list(SEARCH_FILTERS)),
        help_text="The filters the business shows families, in its order (``dates`` is the "
        "from/to pair); a filter not listed is hidden.",
    )


class OfferingFiltersApi(CatalogApi):
    @extend_schema(
        operation_id="offerings_filters",
        responses=OfferingFiltersOutput,
        description="The values this business's class search can be filtered by (the apps' "
        "filter sheet). `login_required` (401, when the business hides the list from "
        "visitors), `invalid_filter` (400, any query parameter).",
    )
    def get(self, request):
        if request.query_params:
            name = sorted(request.query_params)[0]
            raise bad(name, f"Unknown parameter “{name}”.")
        options = offering_filter_options(
            visible_kinds=self.portal.shown_kinds(), show_levels=self.portal.show_levels
        )
        options.update(
            days=list(WEEKDAY_CODES),
            times_of_day=list(TIMES_OF_DAY),
            genders=["female", "male"],
            order=self.portal.search_filter_list,
        )
        return Response(OfferingFiltersOutput(options).data)


class OfferingDetailApi(CatalogApi):
    @extend_schema(
        operation_id="offerings_retrieve",
        responses=OfferingDetailOutput,
        description="One offering with its meeting dates and instructors; a camp booked by the "
        "day or week lists the days or weeks a family may choose (`camp_choices`, each with its "
        "price and seats left). `offering_not_found` (404).",
    )
    def get(self, request, offering_id: int):
        offering = offering_get(offering_id=offering_id, visible_kinds=self.portal.shown_kinds())
        if offering is None:
            raise ApplicationError(
                "offering_not_found", "We could not find that class.", status=404
            )
        context = {
            "portal": self.portal,
            "currency": self.tenant.currency,
            "availability": availability_for([offering]),
            "camp_choices": camp_choices(offering, self.portal),
        }
        return Response(OfferingDetailOutput(offering, context=context).data)


class OfferingMatchApi(CatalogApi):
    pagination_class = Pagination  # documents the paginated answer

    """ "Find the right class"."""

    @extend_schema(
        operation_id="offerings_match",
        parameters=[
            OpenApiParameter("student", int, description="One of your students (signed in)."),
            OpenApiParameter("age", int, description="Or: an age in years, 0-120."),
            OpenApiParameter(
                "gender", str, description="With age: female, male, nonbinary, unspecified."
            ),
            OpenApiParameter("level", int, description="With age: the student's level id."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=OfferingOutput(many=True),
        description="Upcoming offerings a student may join by age on the start date, gender and "
        "level. Give `student`, or `age` (and optionally `gender`, `level`). " + SEARCH_ERRORS,
    )
    def get(self, request):
        match = parse_offering_match(request.query_params, family=self.family_of_requester())
        qs = offering_match(
            born=match.born,
            age=match.age,
            gender=match.gender,
            level=match.level,
            visible_kinds=self.portal.shown_kinds(),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        context = {
            "portal": self.portal,
            "currency": self.tenant.currency,
            "availability": availability_for(page),
        }
        return paginator.get_paginated_response(
            OfferingOutput(page, many=True, context=context).data
        )


class StaffListApi(PortalApi):
    @extend_schema(operation_id="staff_list", responses=StaffOutput(many=True))
    def get(self, request):
        return Response(StaffOutput(staff_list(), many=True, context={"portal": self.portal}).data)
