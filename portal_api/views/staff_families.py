"""Staff API for families and their money: search, one family's account, charges, credits,
offline payments, refunds, and resending an invitation or a receipt.

Amounts go in and out as decimal strings in the business's currency (``"12.50"``), never as
minor units typed by staff; each route names the staff permission it needs."""

from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from portal.accounts.photos import (
    student_photo_absolute_url,
    student_photo_remove,
    student_photo_upload,
)
from portal.billing import staff as money
from portal.billing.models import StaffPosting
from portal.billing.money import amount_format, amount_parse
from portal.families import selectors, services

from .base import PortalApi
from .family import PHOTO_ERRORS, photo_upload_read


def _currency() -> str:
    return connection.tenant.currency


class MoneyField(serializers.CharField):
    """Minor units out as a decimal string in the business's currency ("12.50")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", "In the business's currency, e.g. 12.50.")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return amount_format(value or 0, currency=_currency())


class AmountInput(serializers.CharField):
    """A positive decimal in the business's currency; parsed by portal.billing.money."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", "In the business's currency, e.g. 12.50 (not cents).")
        super().__init__(**kwargs)


def parse_amount(value: str) -> int:
    return amount_parse(value, currency=_currency())


# --- output -------------------------------------------------------------------------------


class GuardianBrief(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    is_primary = serializers.BooleanField()


class StudentBrief(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class FamilySearchOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    status = serializers.CharField()
    is_guest = serializers.BooleanField()
    balance = MoneyField(help_text="Owed (positive) or credit (negative).")
    guardians = GuardianBrief(many=True, source="guardians.all")
    students = StudentBrief(many=True, source="students.all")


class FamilySearchApi(PortalApi):
    permission_classes = [staff_permission("view_families")]

    @extend_schema(
        operation_id="staff_families_search",
        parameters=[OpenApiParameter("q", str, required=True)],
        responses=FamilySearchOutput(many=True),
        description="Families whose name, guardian (name, email, phone digits) or student "
        "matches every word of `q` (2 to 100 characters); at most 50, by name. "
        "`invalid_search` (400).",
    )
    def get(self, request):
        found = selectors.family_search(query=request.query_params.get("q", ""))
        return Response(FamilySearchOutput(found, many=True).data)


class StaffGuardianOutput(serializers.Serializer):
    id = serializers.IntegerField(source="guardian.pk")
    first_name = serializers.CharField(source="guardian.first_name")
    last_name = serializers.CharField(source="guardian.last_name")
    email = serializers.EmailField(source="guardian.email")
    phone = serializers.CharField(source="guardian.phone")
    relationship = serializers.CharField(source="guardian.relationship")
    is_primary = serializers.BooleanField(source="guardian.is_primary")
    has_login = serializers.BooleanField()
    password_set = serializers.BooleanField(help_text="False: the invitation was never used.")


class StaffStudentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    level = serializers.CharField(source="level.name", allow_null=True, default=None)
    is_active = serializers.BooleanField()
    photo_url = serializers.SerializerMethodField(
        help_text="A signed link to the student's photo, valid for 15 minutes; null when none."
    )

    def get_photo_url(self, student) -> str | None:
        return student_photo_absolute_url(student)


class StaffEnrollmentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    student_id = serializers.IntegerField()
    student = serializers.CharField()
    offering_id = serializers.IntegerField()
    offering = serializers.CharField(source="offering.name")
    program = serializers.CharField(source="offering.program.name")
    status = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)


class StaffWaitlistOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    student = serializers.CharField()
    offering_id = serializers.IntegerField()
    offering = serializers.CharField(source="offering.name")
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class StaffRequestOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    type = serializers.CharField()
    status = serializers.CharField()
    student = serializers.CharField()
    reason = serializers.CharField()
    staff_note = serializers.CharField()
    created_at = serializers.DateTimeField()


class LedgerEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = MoneyField(help_text="+ owed, - paid or credited.")
    balance = MoneyField(help_text="Running balance after this entry.")
    order_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    has_receipt = serializers.SerializerMethodField()

    def get_has_receipt(self, entry) -> bool:
        return entry["kind"] == "payment" and entry["amount"] < 0


class StaffLedgerOutput(serializers.Serializer):
    entries = LedgerEntryOutput(many=True)
    balance = MoneyField()
    credit = MoneyField()
    past_due = MoneyField()
    currency = serializers.CharField()


class CardOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)
    is_default = serializers.BooleanField()


class StaffPaymentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="payment.pk")
    order_id = serializers.IntegerField(source="payment.order_id")
    amount = MoneyField(source="payment.amount")
    amount_refunded = MoneyField(source="payment.amount_refunded")
    refundable = MoneyField(help_text="What may still be refunded.")
    status = serializers.CharField(source="payment.status")
    off_session = serializers.BooleanField(source="payment.off_session")
    disputed = serializers.BooleanField(source="payment.disputed")
    created_at = serializers.DateTimeField(source="payment.created_at")


class PostingOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    method = serializers.CharField()
    amount = MoneyField()
    description = serializers.CharField()
    reference = serializers.CharField()
    note = serializers.CharField()
    ledger_entry_id = serializers.IntegerField()
    posted_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_posted_by(self, posting) -> str:
        from kernel.users.models import User

        user = User.objects.filter(pk=posting.posted_by_id).first()
        return user.email if user else ""


class AutopayOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    family_id = serializers.IntegerField()
    family = serializers.CharField(source="family.name")
    period = serializers.DateField(allow_null=True)
    amount = MoneyField()
    order_id = serializers.IntegerField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()


class StaffFamilyOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    status = serializers.CharField()
    is_guest = serializers.BooleanField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    staff_notes = serializers.CharField()
    created_at = serializers.DateTimeField()


class StaffSignupAnswerOutput(serializers.Serializer):
    question_id = serializers.IntegerField(allow_null=True, help_text="Null once removed.")
    question = serializers.CharField(source="question_label")
    value = serializers.CharField()


class FamilyDetailOutput(serializers.Serializer):
    family = StaffFamilyOutput()
    signup_answers = StaffSignupAnswerOutput(many=True)
    guardians = StaffGuardianOutput(many=True)
    students = StaffStudentOutput(many=True)
    enrollments = StaffEnrollmentOutput(many=True)
    waitlist = StaffWaitlistOutput(many=True)
    requests = StaffRequestOutput(many=True)
    ledger = StaffLedgerOutput()
    payment_methods = CardOutput(many=True)
    payments = StaffPaymentOutput(many=True)
    postings = PostingOutput(many=True)
    autopay = AutopayOutput(many=True)


class FamilyDetailApi(PortalApi):
    permission_classes = [staff_permission("view_families")]

    @extend_schema(
        operation_id="staff_family_detail",
        responses=FamilyDetailOutput,
        description="One family's whole account: guardians (and whether each chose a password), "
        "students (no medical notes), enrollments, waitlist, requests, the ledger with its "
        "balance, saved cards, card payments with what is left to refund, staff postings and "
        "autopay charges. `family_not_found` (404).",
    )
    def get(self, request, family_id: int):
        return Response(FamilyDetailOutput(selectors.family_overview(family_id=family_id)).data)


# --- money actions ------------------------------------------------------------------------


class PostingResult(PostingOutput):
    balance = serializers.SerializerMethodField(help_text="The family's balance after it.")

    def get_balance(self, posting) -> str:
        from portal.billing.services import ledger_balance

        return amount_format(ledger_balance(posting.family), currency=_currency())


class ChargeInput(serializers.Serializer):
    amount = AmountInput()
    description = serializers.CharField(max_length=255)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    idempotency_key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="Send the same key again (a retry) and the posting is made once.",
    )


class CreditInput(ChargeInput):
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=255, default=""
    )


class OfflinePaymentInput(CreditInput):
    method = serializers.ChoiceField(choices=StaffPosting.Method.choices)
    reference = serializers.CharField(
        required=False, allow_blank=True, max_length=100, default="", help_text="Cheque number…"
    )


POSTING_ERRORS = (
    "`invalid_amount` (400: not a positive decimal like 12.50), `invalid_input` (400), "
    "`family_not_found` (404), `idempotency_key_reused` (409)."
)


class FamilyChargeApi(PortalApi):
    permission_classes = [staff_permission("take_payment")]

    @extend_schema(
        operation_id="staff_family_charge",
        request=ChargeInput,
        responses={201: PostingResult},
        description="Post a charge on the family's account (a fee, a lost item…). "
        + POSTING_ERRORS,
    )
    def post(self, request, family_id: int):
        data = ChargeInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        posting = money.ledger_charge_post(
            family_id=family_id,
            amount=parse_amount(v["amount"]),
            description=v["description"],
            note=v["note"],
            by=request.user,
            idempotency_key=v["idempotency_key"],
        )
        return Response(PostingResult(posting).data, status=status.HTTP_201_CREATED)


class FamilyCreditApi(PortalApi):
    permission_classes = [staff_permission("post_credit")]

    @extend_schema(
        operation_id="staff_family_credit",
        request=CreditInput,
        responses={201: PostingResult},
        description="Give the family account credit; their next checkout spends it. "
        + POSTING_ERRORS,
    )
    def post(self, request, family_id: int):
        data = CreditInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        posting = money.ledger_credit_post(
            family_id=family_id,
            amount=parse_amount(v["amount"]),
            description=v["description"],
            note=v["note"],
            by=request.user,
            idempotency_key=v["idempotency_key"],
        )
        return Response(PostingResult(posting).data, status=status.HTTP_201_CREATED)


class FamilyOfflinePaymentApi(PortalApi):
    permission_classes = [staff_permission("take_payment")]

    @extend_schema(
        operation_id="staff_family_offline_payment",
        request=OfflinePaymentInput,
        responses={201: PostingResult},
        description="Record money taken at the desk (cash, cheque, other) with its reference; "
        "it lowers the balance like a card payment. " + POSTING_ERRORS,
    )
    def post(self, request, family_id: int):
        data = OfflinePaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        posting = money.offline_payment_record(
            family_id=family_id,
            amount=parse_amount(v["amount"]),
            method=v["method"],
            reference=v["reference"],
            note=v["note"],
            description=v["description"],
            by=request.user,
            idempotency_key=v["idempotency_key"],
        )
        return Response(PostingResult(posting).data, status=status.HTTP_201_CREATED)


class FamilyRefundInput(serializers.Serializer):
    amount = AmountInput(required=False, help_text="e.g. 12.50; omit to refund what is left.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class RefundOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    amount = MoneyField()
    amount_refunded = MoneyField()
    refundable = serializers.SerializerMethodField()
    status = serializers.CharField()

    def get_refundable(self, payment) -> str:
        return amount_format(money.payment_refundable(payment), currency=_currency())


class FamilyPaymentRefundApi(PortalApi):
    permission_classes = [staff_permission("refund_payment")]

    @extend_schema(
        operation_id="staff_family_payment_refund",
        request=FamilyRefundInput,
        responses=RefundOutput,
        description="Refund a card payment of this family, whole or in part, on the business's "
        "Stripe account. Never above what was paid and not already refunded: "
        "`refund_too_large` (400), `payment_not_refundable` (409), `payment_not_found` (404), "
        "`invalid_amount` (400), `payment_provider_error` (502).",
    )
    def post(self, request, family_id: int, payment_id: int):
        data = FamilyRefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data.get("amount")
        payment = money.staff_payment_refund(
            family_id=family_id,
            payment_id=payment_id,
            amount=None if raw is None else parse_amount(raw),
            reason=data.validated_data["reason"],
            by=request.user,
        )
        return Response(RefundOutput(payment).data)


class ResentOutput(serializers.Serializer):
    sent = serializers.BooleanField()


class ReceiptResendApi(PortalApi):
    permission_classes = [staff_permission("resend_emails")]

    @extend_schema(
        operation_id="staff_family_receipt_resend",
        request=None,
        responses={202: ResentOutput},
        description="Email the family the receipt of one payment on its ledger again (sent once "
        "the request commits). `ledger_entry_not_found` (404), `not_a_payment` (409).",
    )
    def post(self, request, family_id: int, entry_id: int):
        money.receipt_resend(family_id=family_id, entry_id=entry_id, by=request.user)
        return Response({"sent": True}, status=status.HTTP_202_ACCEPTED)


class InviteResendApi(PortalApi):
    permission_classes = [staff_permission("resend_emails")]

    @extend_schema(
        operation_id="staff_family_invite_resend",
        request=None,
        responses={202: ResentOutput},
        description="Email a guardian a fresh link to choose their password. "
        "`guardian_not_found` (404), `guardian_has_no_login` (409).",
    )
    def post(self, request, family_id: int, guardian_id: int):
        services.guardian_invite_resend(
            family_id=family_id, guardian_id=guardian_id, by=request.user
        )
        return Response({"sent": True}, status=status.HTTP_202_ACCEPTED)


class StudentPhotoStaffApi(PortalApi):
    """A student's photo from the staff side (owner, manager, front desk: coaches see photos
    on their rosters but do not change them)."""

    permission_classes = [staff_permission("manage_student_photos")]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="staff_family_student_photo_upload",
        request={
            "multipart/form-data": inline_serializer(
                "StaffStudentPhoto", {"photo": serializers.FileField()}
            )
        },
        responses=StaffStudentOutput,
        description="Add or replace a student's photo (as the family's own upload). "
        + PHOTO_ERRORS,
    )
    def post(self, request, family_id: int, student_id: int):
        name, data = photo_upload_read(request)
        student = student_photo_upload(
            family_id=family_id, student_id=student_id, name=name, data=data
        )
        return Response(StaffStudentOutput(student).data)

    @extend_schema(
        operation_id="staff_family_student_photo_remove",
        responses=StaffStudentOutput,
        description="Remove a student's photo (the file is deleted). `student_not_found` (404).",
    )
    def delete(self, request, family_id: int, student_id: int):
        student = student_photo_remove(family_id=family_id, student_id=student_id)
        return Response(StaffStudentOutput(student).data)
