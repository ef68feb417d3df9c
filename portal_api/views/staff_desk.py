"""Staff API for the front desk: enroll a student (with an override that needs a reason),
drop and transfer an enrollment, see a class's waitlist, offer a seat by hand and reorder the
list. Every route checks ``manage_enrollments``; amounts are decimal strings in the business's
currency."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from portal.enrollment import selectors as enrollment_selectors
from portal.enrollment import services as enrollment_services
from portal.orders.desk import PAYMENT_CHOICES, desk_enroll
from portal.requests import staff as request_staff

from ..serializers import IdNameOutput
from .base import PortalApi
from .staff_families import MoneyField

MANAGE = staff_permission("manage_enrollments")


class DeskEnrollInput(serializers.Serializer):
    student_id = serializers.IntegerField(min_value=1)
    offering_id = serializers.IntegerField(min_value=1)
    payment = serializers.ChoiceField(
        choices=list(PAYMENT_CHOICES),
        default="owed",
        help_text="owed (the family pays later), cash, cheque, or card (a saved card).",
    )
    reference = serializers.CharField(
        required=False, allow_blank=True, max_length=100, default="", help_text="Cheque number."
    )
    saved_method_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        default="",
        help_text="Sets aside the rules that refuse (eligibility, capacity, registration "
        "window); recorded with who and when.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class DeskEnrollmentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="enrollment.pk")
    status = serializers.CharField(source="enrollment.status")
    start_date = serializers.DateField(source="enrollment.start_date")
    order_id = serializers.IntegerField(source="order.pk")
    amount = MoneyField(help_text="What the enrollment costs (the family's prices).")
    owed = MoneyField(help_text="Still owed on the order.")
    paid_with = serializers.CharField(help_text="owed, cash, cheque, card, credit or free.")
    override_rules = serializers.ListField(child=serializers.CharField(), source="overridden")
    override_reason = serializers.CharField(source="enrollment.override_reason")
    card_error = serializers.CharField(help_text="Why the saved card was not charged, if so.")


class DeskEnrollApi(PortalApi):
    permission_classes = [MANAGE]

    @extend_schema(
        operation_id="staff_family_enroll",
        request=DeskEnrollInput,
        responses={201: DeskEnrollmentOutput},
        description="Enroll a student of the family at the front desk with the family's prices "
        "and rules. A rule that refuses (`too_young`, `offering_full`, `registration_closed`, "
        "...) answers its own code unless `override_reason` is given; `already_enrolled` (409) "
        "and a class not published or ended are never overridden. Payment: cash or cheque "
        "(recorded as an offline payment), a saved card (charged after the seat is taken; a "
        "refusal leaves it owed, see `card_error`), or owed.",
    )
    def post(self, request, family_id: int):
        data = DeskEnrollInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = desk_enroll(family_id=family_id, by=request.user, **data.validated_data)
        return Response(DeskEnrollmentOutput(result).data, status=status.HTTP_201_CREATED)


class DeskDropInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the family drops.")
    effective_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Last day; today if omitted."
    )
    credit_unused = serializers.BooleanField(
        default=False, help_text="Credit the unused tuition, prorated by meetings."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class DeskRequestOutput(serializers.Serializer):
    request_id = serializers.IntegerField(source="pk")
    type = serializers.CharField()
    status = serializers.CharField()
    enrollment_id = serializers.IntegerField()
    effective_date = serializers.DateField(allow_null=True)
    price_difference = MoneyField(
        allow_null=True, help_text="Transfer: owed (positive) or credited (negative)."
    )


class DeskDropApi(PortalApi):
    permission_classes = [MANAGE]

    @extend_schema(
        operation_id="staff_enrollment_drop",
        request=DeskDropInput,
        responses=DeskRequestOutput,
        description="Drop an active enrollment with the family's reason, recorded as an "
        "approved drop request (the drops report lists it). `drop_reason_required` (400), "
        "`enrollment_not_active` (409, e.g. already dropped), `enrollment_not_found` (404).",
    )
    def post(self, request, enrollment_id: int):
        data = DeskDropInput(data=request.data)
        data.is_valid(raise_exception=True)
        req = request_staff.enrollment_desk_drop(
            enrollment_id=enrollment_id, by=request.user, **data.validated_data
        )
        return Response(DeskRequestOutput(req).data)


class DeskTransferInput(serializers.Serializer):
    offering_id = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class DeskTransferApi(PortalApi):
    permission_classes = [MANAGE]

    @extend_schema(
        operation_id="staff_enrollment_transfer",
        request=DeskTransferInput,
        responses=DeskRequestOutput,
        description="Move an active enrollment to another class now, with the prorated "
        "difference owed or credited as for a family's transfer. `offering_full` (409), "
        "`enrollment_not_active` (409), `same_offering` (400), `offering_not_found` (404).",
    )
    def post(self, request, enrollment_id: int):
        data = DeskTransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        req = request_staff.enrollment_desk_transfer(
            enrollment_id=enrollment_id, by=request.user, **data.validated_data
        )
        return Response(DeskRequestOutput(req).data)


class StaffWaitlistEntryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    position = serializers.IntegerField()
    status = serializers.CharField()
    student = serializers.SerializerMethodField()
    family = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    offered_at = serializers.DateTimeField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()

    @extend_schema_field(IdNameOutput)
    def get_student(self, entry) -> dict:
        return {"id": entry.student_id, "name": str(entry.student)}

    @extend_schema_field(IdNameOutput)
    def get_family(self, entry) -> dict:
        return {"id": entry.family_id, "name": entry.family.name}


class OfferingWaitlistApi(PortalApi):
    permission_classes = [MANAGE]

    @extend_schema(
        operation_id="staff_offering_waitlist",
        responses=StaffWaitlistEntryOutput(many=True),
        description="The class's live waitlist in order (position 1 is next). "
        "`offering_not_found` (404).",
    )
    def get(self, request, offering_id: int):
        entries = enrollment_selectors.waitlist_for_offering(offering_id=offering_id)
        return Response(StaffWaitlistEntryOutput(entries, many=True).data)


class WaitlistOfferInput(serializers.Serializer):
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        default="",
        help_text="Needed when the class has no free seat (an offer above capacity).",
    )


class WaitlistOfferApi(PortalApi):
    permission_classes = [MANAGE]

    @extend_schema(
        operation_id="staff_waitlist_offer",
        request=WaitlistOfferInput,
        responses=StaffWaitlistEntryOutput,
        description="Offer this waiting student a seat now (the usual offer: hold, window, "
        "email). `waitlist_not_waiting` (409), `offering_full` (409) without a reason, "
        "`waitlist_entry_not_found` (404).",
    )
    def post(self, request, entry_id: int):
        data = WaitlistOfferInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = enrollment_services.waitlist_staff_offer(
            entry_id=entry_id, by=request.user, **data.validated_data
        )
        return Response(
            StaffWaitlistEntryOutput(enrollment_selectors.waitlist_entry_view(entry)).data
        )


class WaitlistMoveInput(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, max_value=10000)


class WaitlistMoveApi(PortalApi):
    permission_classes = [MANAGE]

    @extend_schema(
        operation_id="staff_waitlist_move",
        request=WaitlistMoveInput,
        responses=StaffWaitlistEntryOutput(many=True),
        description="Move the entry to `position` (1 = next in line); answers the list in its "
        "new order. `not_on_waitlist` (409), `waitlist_entry_not_found` (404).",
    )
    def post(self, request, entry_id: int):
        data = WaitlistMoveInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = enrollment_services.waitlist_staff_move(
            entry_id=entry_id, position=data.validated_data["position"], by=request.user
        )
        entries = enrollment_selectors.waitlist_for_offering(offering_id=entry.offering_id)
        return Response(StaffWaitlistEntryOutput(entries, many=True).data)
