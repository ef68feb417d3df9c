from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.pagination import Pagination
from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from portal.requests import services
from portal.requests.inputs import RequestInput
from portal.requests.models import MakeupToken, Request

from ..serializers import IdNameOutput, StudentRefOutput
from .base import FamilyApi, PortalApi

REQUEST_ERRORS = (
    "Errors by type: absence — `not_a_meeting`, `absence_too_late`, `absence_already_reported`, "
    "`absences_disabled`; makeup — `makeup_token_not_found`, `makeup_token_used`, "
    "`makeup_token_expired`, `makeup_not_eligible`, `makeup_class_full`, `makeups_disabled`; "
    "transfer — `offering_not_found`, `same_offering`, `transfer_limit`, "
    "`transfer_next_level_only`, `offering_full`, `transfers_disabled` and eligibility errors; "
    "drop — `drop_too_soon`, `drop_reason_required`, `drop_already_requested`, "
    "`drops_disabled`; all — `enrollment_not_found` (404), `enrollment_not_active`."
)


class RequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    status = serializers.CharField()
    student = serializers.SerializerMethodField()
    enrollment_id = serializers.IntegerField(allow_null=True)
    meeting_date = serializers.DateField(allow_null=True)
    target_offering = serializers.SerializerMethodField()
    effective_date = serializers.DateField(allow_null=True)
    price_difference = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    staff_note = serializers.CharField()
    makeup_token_issued = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(StudentRefOutput)
    def get_student(self, req) -> dict:
        return {"id": req.student_id, "first_name": req.student.first_name}

    @extend_schema_field(IdNameOutput(allow_null=True))
    def get_target_offering(self, req) -> dict | None:
        if req.target_offering is None:
            return None
        return {"id": req.target_offering_id, "name": req.target_offering.name}

    def get_makeup_token_issued(self, req) -> int | None:
        return req.issued_token_id


def _requests(family):
    return Request.objects.filter(family=family).select_related("student", "target_offering")


class RequestListApi(FamilyApi):
    @extend_schema(operation_id="requests_list", responses=RequestOutput(many=True))
    def get(self, request):
        return Response(RequestOutput(_requests(request.guardian.family), many=True).data)

    @extend_schema(
        operation_id="requests_create",
        request=RequestInput,
        responses={201: RequestOutput},
        description="Absence (`enrollment`, `meeting_date`), makeup (`makeup_token`, `offering`, "
        "`meeting_date`), transfer (`enrollment`, `offering`; preview the price first) or drop "
        "(`enrollment`, `effective_date`, `reason`). " + REQUEST_ERRORS,
    )
    def post(self, request):
        data = RequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        family = request.guardian.family
        kind = v["type"]
        if kind == "absence":
            req = services.absence_request(
                family=family,
                enrollment_id=v["enrollment"],
                meeting_date=v["meeting_date"],
                reason=v["reason"],
            )
        elif kind == "makeup":
            req = services.makeup_request(
                family=family,
                token_id=v["makeup_token"],
                offering_id=v["offering"],
                meeting_date=v["meeting_date"],
            )
        elif kind == "transfer":
            req = services.transfer_request(
                family=family,
                enrollment_id=v["enrollment"],
                offering_id=v["offering"],
                reason=v["reason"],
            )
        else:
            req = services.drop_request(
                family=family,
                enrollment_id=v["enrollment"],
                effective_date=v["effective_date"],
                reason=v["reason"],
            )
        req = _requests(family).get(pk=req.pk)
        return Response(RequestOutput(req).data, status=status.HTTP_201_CREATED)


class RequestCancelApi(FamilyApi):
    @extend_schema(
        operation_id="requests_cancel",
        request=None,
        responses=RequestOutput,
        description="Cancel a pending request. `request_not_pending` (409).",
    )
    def post(self, request, request_id: int):
        req = services.request_cancel(family=request.guardian.family, request_id=request_id)
        return Response(RequestOutput(_requests(request.guardian.family).get(pk=req.pk)).data)


class TransferPreviewApi(FamilyApi):
    @extend_schema(
        operation_id="requests_transfer_preview",
        parameters=[
            OpenApiParameter("enrollment", int, required=True),
            OpenApiParameter("offering", int, required=True),
        ],
        description="Prorated price difference of a transfer, before submitting it: `credit` for "
        "the meetings left in the current class, `charge` for those left in the new one.",
        responses=inline_serializer(
            "TransferPreview",
            {
                "from": serializers.CharField(),
                "to": serializers.CharField(),
                "credit": serializers.IntegerField(),
                "charge": serializers.IntegerField(),
                "difference": serializers.IntegerField(),
                "currency": serializers.CharField(),
            },
        ),
    )
    def get(self, request):
        params = {}
        for name in ("enrollment", "offering"):
            raw = (request.query_params.get(name) or "").strip()
            if not raw.isdigit():
                raise ApplicationError(
                    "invalid_input", f"Give the {name} id.", fields={name: ["Required."]}
                )
            params[name] = int(raw)
        preview = services.transfer_preview(
            family=request.guardian.family,
            enrollment_id=params["enrollment"],
            offering_id=params["offering"],
        )
        return Response(
            {
                "from": preview["enrollment"].offering.name,
                "to": preview["target"].name,
                "credit": preview["credit"],
                "charge": preview["charge"],
                "difference": preview["difference"],
                "currency": preview["currency"],
            }
        )


class MakeupTokenListApi(FamilyApi):
    @extend_schema(
        operation_id="makeup_tokens_list",
        responses=inline_serializer(
            "MakeupToken",
            {
                "id": serializers.IntegerField(),
                "student": StudentRefOutput(),
                "program": serializers.CharField(),
                "kind": serializers.CharField(),
                "status": serializers.CharField(),
                "expires_on": serializers.DateField(),
            },
            many=True,
        ),
    )
    def get(self, request):
        tokens = MakeupToken.objects.filter(family=request.guardian.family).select_related(
            "student", "program"
        )
        return Response(
            [
                {
                    "id": t.pk,
                    "student": {"id": t.student_id, "first_name": t.student.first_name},
                    "program": t.program.name,
                    "kind": t.kind,
                    "status": t.status,
                    "expires_on": t.expires_on.isoformat(),
                }
                for t in tokens
            ]
        )


class StaffRequestListApi(PortalApi):
    permission_classes = [staff_permission("view_requests")]
    pagination_class = Pagination  # documents the paginated answer

    @extend_schema(
        operation_id="staff_requests_list",
        parameters=[OpenApiParameter("status", str), OpenApiParameter("type", str)],
        responses=RequestOutput(many=True),
    )
    def get(self, request):
        qs = Request.objects.select_related("student", "target_offering").order_by(
            "created_at", "pk"
        )
        for name, choices in (("status", Request.Status.values), ("type", Request.Type.values)):
            value = request.query_params.get(name)
            if value:
                if value not in choices:
                    raise ApplicationError(
                        "invalid_filter",
                        f"Unknown {name} “{value}”.",
                        fields={name: [f"Use one of: {', '.join(choices)}."]},
                    )
                qs = qs.filter(**{name: value})
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RequestOutput(page, many=True).data)


class StaffRequestDecideApi(PortalApi):
    permission_classes = [staff_permission("decide_request")]

    class Input(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approve", "deny"])
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    @extend_schema(
        operation_id="staff_requests_decide",
        request=Input,
        responses=RequestOutput,
        description="Approve or deny a pending request with a note the family sees. "
        "`request_not_pending` (409), `offering_full` (409, transfer).",
    )
    def post(self, request, request_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        req = services.request_decide(
            request_id=request_id,
            approve=data.validated_data["decision"] == "approve",
            note=data.validated_data["note"],
            by=request.user,
        )
        req = Request.objects.select_related("student", "target_offering").get(pk=req.pk)
        return Response(RequestOutput(req).data)
