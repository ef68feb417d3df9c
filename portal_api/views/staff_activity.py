"""Staff API for the online activity inbox: the items (filtered), and marking one processed or
not. ``view_families`` on both (staff who see families process what they did online)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.pagination import Pagination
from kernel.api.permissions import staff_permission
from kernel.api.query import query_choice
from kernel.errors import ApplicationError
from portal.activity import selectors, services
from portal.activity.models import ActivityItem

from ..serializers import IdNameOutput
from .base import PortalApi

SEE = staff_permission("view_families")


class ActivityTrailOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    actor_email = serializers.CharField()
    action = serializers.CharField(help_text="activity_processed or activity_unprocessed.")


class ActivityItemOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=ActivityItem.Kind.choices)
    family = serializers.SerializerMethodField()
    summary = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    processed_by = serializers.SerializerMethodField()
    trail = serializers.SerializerMethodField()

    @extend_schema_field(IdNameOutput)
    def get_family(self, item) -> dict:
        return {"id": item.family_id, "name": item.family.name}

    def get_processed_by(self, item) -> str | None:
        return item.processed_by.email if item.processed_by_id and item.processed_by else None

    @extend_schema_field(ActivityTrailOutput(many=True))
    def get_trail(self, item) -> list:
        trails = self.context.get("trails")
        entries = trails[item.pk] if trails is not None else selectors.activity_trail(item)
        return list(ActivityTrailOutput(entries, many=True).data)


def _family(value) -> int | None:
    if value in (None, ""):
        return None
    if not str(value).isdigit():
        raise ApplicationError(
            "invalid_filter", "family is a family id.", fields={"family": ["A family id."]}
        )
    return int(value)


class ActivityListApi(PortalApi):
    permission_classes = [SEE]
    pagination_class = Pagination

    @extend_schema(
        operation_id="staff_activity_list",
        parameters=[
            OpenApiParameter("status", str, enum=list(selectors.STATUSES)),
            OpenApiParameter("kind", str, enum=list(ActivityItem.Kind.values)),
            OpenApiParameter("family", int),
            OpenApiParameter("since", str, description="YYYY-MM-DD, the business's day"),
            OpenApiParameter("until", str, description="YYYY-MM-DD, inclusive"),
        ],
        responses=ActivityItemOutput(many=True),
        description="What families did online, newest first (default: not yet processed), "
        "each with who processed it and its trail. Bad filters: `invalid_filter` (400).",
    )
    def get(self, request):
        q = request.query_params
        items = selectors.activity_list(
            kind=query_choice(q, "kind", ActivityItem.Kind.values),
            status=query_choice(q, "status", selectors.STATUSES, "unprocessed"),
            family_id=_family(q.get("family")),
            since=q.get("since", "")[:10],
            until=q.get("until", "")[:10],
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(items, request, view=self)
        trails = selectors.activity_trails(page)
        return paginator.get_paginated_response(
            ActivityItemOutput(page, many=True, context={"trails": trails}).data
        )


class ActivityMarkInput(serializers.Serializer):
    processed = serializers.BooleanField()


class ActivityMarkApi(PortalApi):
    permission_classes = [SEE]

    @extend_schema(
        operation_id="staff_activity_mark",
        request=ActivityMarkInput,
        responses=ActivityItemOutput,
        description="Mark an item processed (`true`) or not (`false`); audited with who and "
        "when. `activity_not_found` (404).",
    )
    def post(self, request, item_id: int):
        data = ActivityMarkInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.activity_mark(
            item_id=item_id, processed=data.validated_data["processed"], by=request.user
        )
        return Response(ActivityItemOutput(item).data)
