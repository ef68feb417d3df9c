from __future__ import annotations

from django.db import connection
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
from kernel.api.query import query_choice
from kernel.errors import ApplicationError
from portal.billing.money import amount_format
from portal.requests import selectors, services
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


class RequestForStaffOutput(RequestOutput):
    """A request as staff read it: the family's, with the class and who decided it."""

    family = IdNameOutput(help_text="The family who asked.")
    offering = serializers.SerializerMethodField(
        help_text="The class of the enrollment the request is about (null for a makeup)."
    )
    price_difference_amount = serializers.SerializerMethodField(
        help_text="Transfer: the prorated difference in the business's currency (e.g. "
        '"12.50"; positive: the family owes it, negative: credited). Null otherwise.'
    )
    currency = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField(help_text="The staff member's email.")

    @extend_schema_field(IdNameOutput(allow_null=True))
    def get_offering(self, req) -> dict | None:
        if req.enrollment_id is None:
            return None
        offering = req.enrollment.offering
        return {"id": offering.pk, "name": offering.name}

    def get_price_difference_amount(self, req) -> str | None:
        if req.price_difference is None:
            return None
        return amount_format(req.price_difference, currency=connection.tenant.currency)

    def get_currency(self, req) -> str:
        return connection.tenant.currency

    def get_decided_by(self, req) -> str | None:
        return req.decided_by.email if req.decided_by_id and req.decided_by else None


STAFF_FILTERS = [
    OpenApiParameter(
        "status",
        str,
        enum=list(selectors.STAFF_STATUSES),
        description="Default `all` (every status); `pending` lists what waits, oldest first.",
    ),
    OpenApiParameter("type", str, enum=list(Request.Type.values)),
    OpenApiParameter(
        "offering", int, description="A class: the request's own or the one it goes to."
    ),
    # Strings, not dates: an empty value (a console form's blank field) means no limit.
    OpenApiParameter(
        "since", str, description="YYYY-MM-DD: asked on or after (business's day); empty: none."
    ),
    OpenApiParameter("until", str, description="YYYY-MM-DD: asked on or before; empty: none."),
]


class StaffRequestListApi(PortalApi):
    permission_classes = [staff_permission("view_requests")]
    pagination_class = Pagination  # documents the paginated answer

    @extend_schema(
        operation_id="staff_requests_list",
        parameters=STAFF_FILTERS,
        responses=RequestForStaffOutput(many=True),
        description="Families' requests, filtered like the console's requests page. "
        "`invalid_filter` (400) for an unknown status or type, a bad class id or date, or an "
        "end before the start.",
    )
    def get(self, request):
        params = request.query_params
        requests = selectors.staff_request_list(
            status=query_choice(params, "status", selectors.STAFF_STATUSES, "all"),
            type=query_choice(params, "type", Request.Type.values),
            offering=params.get("offering") or "",
            since=params.get("since") or "",
            until=params.get("until") or "",
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(requests, request, view=self)
        return paginator.get_paginated_response(RequestForStaffOutput(page, many=True).data)


class StaffRequestApi(PortalApi):
    permission_classes = [staff_permission("view_requests")]

    @extend_schema(
        operation_id="staff_requests_get",
        responses=RequestForStaffOutput,
        description="One request. `request_not_found` (404), also for another business's.",
    )
    def get(self, request, request_id: int):
        req = selectors.staff_request_get(request_id=request_id)
        return Response(RequestForStaffOutput(req).data)


class StaffRequestDecideApi(PortalApi):
    permission_classes = [staff_permission("decide_request")]

    class Input(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approve", "deny"])
        note = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=2000,
            default="",
            help_text="Sent to the family with the decision; required to deny (the reason).",
        )

    @extend_schema(
        operation_id="staff_requests_decide",
        request=Input,
        responses=RequestForStaffOutput,
        description="Approve or deny a pending request with a note the family is emailed (the "
        "service the console and the admin use). `deny_reason_required` (400) to deny without "
        "a note; `request_not_pending` (409) when it was decided or cancelled meanwhile, "
        "saying by whom; `offering_full` (409, transfer); `request_not_found` (404). Every "
        "refusal changes nothing.",
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
        return Response(RequestForStaffOutput(selectors.staff_request_get(request_id=req.pk)).data)
