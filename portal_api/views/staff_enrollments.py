"""Staff API for enrollments waiting for the business's approval: list, approve, deny."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.pagination import Pagination
from kernel.api.permissions import staff_permission
from portal.enrollment import services
from portal.enrollment.models import Enrollment
from portal.staff import selectors

from ..serializers import IdNameOutput
from .base import PortalApi


class PendingEnrollmentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    student = serializers.SerializerMethodField()
    offering = serializers.SerializerMethodField()
    family = serializers.SerializerMethodField()
    start_date = serializers.DateField()
    order_id = serializers.IntegerField(allow_null=True)
    paid = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(IdNameOutput)
    def get_student(self, enrollment) -> dict:
        return {"id": enrollment.student_id, "name": str(enrollment.student)}

    @extend_schema_field(IdNameOutput)
    def get_offering(self, enrollment) -> dict:
        return {"id": enrollment.offering_id, "name": enrollment.offering.name}

    @extend_schema_field(IdNameOutput)
    def get_family(self, enrollment) -> dict:
        return {"id": enrollment.family_id, "name": enrollment.family.name}

    def get_paid(self, enrollment) -> int:
        return services.enrollment_paid_amount(enrollment)


class StaffEnrollmentPendingListApi(PortalApi):
    permission_classes = [staff_permission("manage_enrollments")]
    pagination_class = Pagination

    @extend_schema(
        operation_id="staff_enrollments_pending",
        responses=PendingEnrollmentOutput(many=True),
        description="Enrollments waiting for approval, oldest first. `paid` is what the family "
        "paid for the seat, in minor units.",
    )
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.enrollments_pending(), request, view=self)
        return paginator.get_paginated_response(PendingEnrollmentOutput(page, many=True).data)


class DecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    returned = serializers.IntegerField(help_text="Minor units given back (deny).")
    returned_as = serializers.CharField(help_text="refund, credit or none.")


def _decided(enrollment: Enrollment, amount: int = 0, how: str = "none") -> dict:
    return {"id": enrollment.pk, "status": enrollment.status, "returned": amount,
            "returned_as": how}  # fmt: skip


class StaffEnrollmentApproveApi(PortalApi):
    permission_classes = [staff_permission("manage_enrollments")]

    class Input(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    @extend_schema(
        operation_id="staff_enrollment_approve",
        request=Input,
        responses=DecisionOutput,
        description="Approve a pending enrollment; the family is told. `enrollment_not_pending` "
        "(409) once decided, `offering_full` (409) when it needs a seat and none is left, "
        "`enrollment_not_found` (404).",
    )
    def post(self, request, enrollment_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = services.enrollment_approve(
            enrollment_id=enrollment_id, note=data.validated_data["note"]
        )
        return Response(_decided(enrollment))


class StaffEnrollmentDenyApi(PortalApi):
    permission_classes = [staff_permission("manage_enrollments")]

    class Input(serializers.Serializer):
        settle_as = serializers.ChoiceField(choices=["credit", "refund"], default="credit")
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    @extend_schema(
        operation_id="staff_enrollment_deny",
        request=Input,
        responses=DecisionOutput,
        description="Deny a pending enrollment: the seat is freed and what was paid for it goes "
        "back as account credit or a refund to the card (a refund Stripe refuses becomes "
        "credit); the family is told. `enrollment_not_pending` (409), `enrollment_not_found` "
        "(404).",
    )
    def post(self, request, enrollment_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.enrollment_deny(
            enrollment_id=enrollment_id,
            settle_as=data.validated_data["settle_as"],
            note=data.validated_data["note"],
        )
        return Response(_decided(result["enrollment"], result["amount"], result["returned_as"]))
