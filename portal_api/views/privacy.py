"""A family's data rights over the API: export its data, ask for its deletion."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.errors import ApplicationError
from portal.privacy import services

from .base import FamilyApi


def _rows():
    return serializers.ListField(child=serializers.DictField())


class FamilyExportOutput(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    family = serializers.DictField()
    guardians = _rows()
    logins = _rows()
    students = _rows()
    emergency_contacts = _rows()
    policy_acceptances = _rows()
    enrollments = _rows()
    waitlist_entries = _rows()
    cart_holds = _rows()
    orders = _rows()
    order_lines = _rows()
    payments = _rows()
    ledger = _rows()
    saved_payment_methods = _rows()
    requests = _rows()
    makeup_tokens = _rows()
    punch_passes = _rows()
    gift_certificates_bought = _rows()
    deletion_requests = _rows()


class FamilyExportApi(FamilyApi):
    @extend_schema(
        operation_id="family_export",
        responses=FamilyExportOutput,
        description="Everything the business holds about your family (guardians, logins, "
        "students, emergency contacts, policy acceptances, enrollments, orders, payments, "
        "ledger, requests, passes), as JSON. The download is recorded in the audit log.",
    )
    def get(self, request):
        data = services.family_export(family=request.guardian.family)
        response = Response(FamilyExportOutput(data).data)
        response["Content-Disposition"] = 'attachment; filename="family-export.json"'
        response["Cache-Control"] = "no-store"
        return response


class FamilyDeletionRequestApi(FamilyApi):
    class Input(serializers.Serializer):
        confirm = serializers.BooleanField(
            help_text="Must be true: you understand your account will be closed."
        )
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        operation_id="family_deletion_request",
        request=Input,
        responses={
            202: inline_serializer(
                "DeletionRequestAccepted",
                {
                    "id": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "requested_at": serializers.DateTimeField(),
                    "message": serializers.CharField(),
                },
            )
        },
        description="Ask the business to delete your family's personal data (primary guardian "
        "only). Staff complete it: names, contact details, medical notes and logins are "
        "anonymised; payment and ledger records are kept as the law requires. Errors: "
        "`confirmation_required`, `primary_guardian_only` (403), `deletion_already_requested` "
        "(409).",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["confirm"]:
            message = _("Confirm that you want your family's data deleted.")
            raise ApplicationError("confirmation_required", message, fields={"confirm": [message]})
        deletion = services.family_deletion_request(
            guardian=request.guardian, reason=data.validated_data.get("reason", "")
        )
        return Response(
            {
                "id": deletion.pk,
                "status": deletion.status,
                "requested_at": deletion.requested_at,
                "message": _(
                    "Your request is recorded. The business will delete your data and close "
                    "your account."
                ),
            },
            status=status.HTTP_202_ACCEPTED,
        )
