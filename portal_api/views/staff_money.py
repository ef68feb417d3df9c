"""Staff API for the business's money: aged receivables, autopay runs with their failures and
a retry, and payouts and fees as Stripe reports them. Amounts are decimal strings in the
currency ("12.50")."""

from __future__ import annotations

from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.pagination import Pagination
from kernel.api.permissions import staff_permission
from kernel.api.query import query_choice
from kernel.errors import ApplicationError
from portal.billing import stripe_reports
from portal.billing.receivables import receivables_aged
from portal.orders import autopay_runs
from portal.orders.selectors import FAILED_PAYMENT_DAYS, payments_failed_list

from .base import PortalApi
from .staff_families import AutopayOutput, MoneyField


class AgedRow(serializers.Serializer):
    family_id = serializers.IntegerField()
    family_name = serializers.CharField()
    total = MoneyField()
    current = MoneyField(help_text="Not yet due.")
    days_1_30 = MoneyField()
    days_31_60 = MoneyField()
    days_61_90 = MoneyField()
    days_over_90 = MoneyField()
    oldest_charge_on = serializers.DateField(allow_null=True)
    days_overdue = serializers.IntegerField()


class AgedTotals(serializers.Serializer):
    total = MoneyField()
    current = MoneyField()
    days_1_30 = MoneyField()
    days_31_60 = MoneyField()
    days_61_90 = MoneyField()
    days_over_90 = MoneyField()


class ReceivablesOutput(serializers.Serializer):
    as_of = serializers.DateField(help_text="Today in the business's time zone.")
    grace_days = serializers.IntegerField(help_text="Days after posting a charge falls due.")
    currency = serializers.CharField()
    families = AgedRow(many=True)
    totals = AgedTotals()


class ReceivablesApi(PortalApi):
    permission_classes = [staff_permission("view_money")]

    @extend_schema(
        operation_id="staff_receivables",
        responses=ReceivablesOutput,
        description="Who owes what and for how long: each family that owes money, most first, "
        "with what it owes by days past due (current, 1-30, 31-60, 61-90, over 90). Payments "
        "and credits settle the oldest charges first; a charge is due `grace_days` after it was "
        "posted (the portal's past-due setting), days counted in the business's time zone.",
    )
    def get(self, request):
        return Response(ReceivablesOutput(receivables_aged()).data)


class RunStatus(serializers.Serializer):
    count = serializers.IntegerField()
    amount = MoneyField()


class RunOutput(serializers.Serializer):
    period = serializers.DateField(allow_null=True, help_text="Month billed; null: one-off.")
    charges = serializers.IntegerField()
    amount = MoneyField()
    failed = serializers.IntegerField(help_text="Failed or waiting for the family.")
    failed_amount = MoneyField()
    by_status = serializers.DictField(child=RunStatus())


class AutopayRunListApi(PortalApi):
    permission_classes = [staff_permission("view_money")]

    @extend_schema(
        operation_id="staff_autopay_runs",
        responses=RunOutput(many=True),
        description="Autopay runs, newest month first (one-off charges of transfers last, "
        "`period` null), with their charges by status and the failures.",
    )
    def get(self, request):
        return Response(RunOutput(autopay_runs.autopay_runs_list(), many=True).data)


def _period(raw: str | None) -> tuple[date | None, bool]:
    if not raw:
        return None, False
    if raw == "one-off":
        return None, True
    try:
        if len(raw) != 7:
            raise ValueError
        return date.fromisoformat(f"{raw}-01"), False
    except ValueError:
        raise ApplicationError(
            "invalid_filter",
            "Use period=YYYY-MM or period=one-off.",
            fields={"period": ["YYYY-MM or one-off."]},
        ) from None


class AutopayChargeListApi(PortalApi):
    permission_classes = [staff_permission("view_money")]
    pagination_class = Pagination

    @extend_schema(
        operation_id="staff_autopay_charges",
        parameters=[
            OpenApiParameter("period", str, description="YYYY-MM, or one-off"),
            OpenApiParameter("status", str, enum=list(autopay_runs.AutopayCharge.Status.values)),
        ],
        responses=AutopayOutput(many=True),
        description="Autopay charges of one run (or all), optionally of one status: "
        "`status=failed` and `status=needs_action` are the ones to chase. `invalid_filter` (400).",
    )
    def get(self, request):
        period, one_off = _period(request.query_params.get("period"))
        charges = autopay_runs.autopay_charge_list(
            period=period,
            one_off=one_off,
            status=query_choice(
                request.query_params, "status", autopay_runs.AutopayCharge.Status.values
            ),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(charges, request, view=self)
        return paginator.get_paginated_response(AutopayOutput(page, many=True).data)


class AutopayRetryApi(PortalApi):
    permission_classes = [staff_permission("take_payment")]

    @extend_schema(
        operation_id="staff_autopay_retry",
        request=None,
        responses=AutopayOutput,
        description="Charge a failed autopay charge's saved card again now. A paid charge is "
        "answered as it is (nobody is charged twice); `autopay_in_progress` (409) while it is "
        "being collected, `autopay_charge_not_found` (404).",
    )
    def post(self, request, charge_id: int):
        charge = autopay_runs.autopay_retry(charge_id=charge_id, by=request.user)
        return Response(AutopayOutput(charge).data)


class FailedPaymentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="payment.pk")
    created_at = serializers.DateTimeField(source="payment.created_at")
    family_id = serializers.IntegerField(source="family.pk")
    family = serializers.CharField(source="family.name")
    amount = MoneyField(source="payment.amount")
    order_id = serializers.IntegerField(source="order.pk")
    what = serializers.CharField(help_text="The order's lines.")
    autopay = serializers.BooleanField(source="payment.off_session")
    reason = serializers.CharField(help_text="Why the card was refused, as Stripe said.")
    failure_code = serializers.CharField(source="payment.failure_code")
    outcome = serializers.ChoiceField(
        choices=["paid", "retry", "collecting", "lapsed", "family"],
        help_text="What became of the bill since: paid; `retry`: an autopay charge staff may "
        "charge again (`autopay_charge_id`, POST /staff/autopay/charges/{id}/retry); "
        "`collecting`: autopay is on it; `lapsed`: the order expired or was cancelled; "
        "`family`: still owed, the family pays it from their account.",
    )
    autopay_charge_id = serializers.SerializerMethodField()

    def get_autopay_charge_id(self, row) -> int | None:
        charge = row["autopay_charge"]
        return charge.pk if charge is not None else None


class FailedPaymentListApi(PortalApi):
    permission_classes = [staff_permission("view_money")]

    @extend_schema(
        operation_id="staff_payments_failed",
        parameters=[OpenApiParameter("days", int, enum=list(FAILED_PAYMENT_DAYS))],
        responses=FailedPaymentOutput(many=True),
        description="Card payments that failed in the last `days` (default 30, the dashboard's "
        "count), newest first (at most 200), with what became of each. `invalid_filter` (400).",
    )
    def get(self, request):
        rows = payments_failed_list(
            days=query_choice(request.query_params, "days", FAILED_PAYMENT_DAYS, "30")
        )
        return Response(FailedPaymentOutput(rows, many=True).data)


def _limit(request, default: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 4:
        raise ApplicationError("invalid_filter", "limit is 1 to 100.", fields={"limit": ["1-100."]})
    return int(raw)


def _refresh(request) -> bool:
    return query_choice(request.query_params, "refresh", ["1"]) == "1"


class PayoutOutput(serializers.Serializer):
    id = serializers.CharField()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    status = serializers.CharField()
    arrival_date = serializers.DateField(allow_null=True)
    created = serializers.DateTimeField(allow_null=True)
    method = serializers.CharField()
    description = serializers.CharField()
    failure_message = serializers.CharField()

    def get_amount(self, row) -> str:
        from portal.billing.money import amount_format

        return amount_format(row["amount"], currency=row["currency"])


class PayoutListOutput(serializers.Serializer):
    payouts = PayoutOutput(many=True)
    has_more = serializers.BooleanField()


STRIPE_PARAMS = [
    OpenApiParameter("limit", int, description="1 to 100"),
    OpenApiParameter("starting_after", str, description="The last id of the previous page."),
    OpenApiParameter("refresh", str, enum=["1"], description="Read past the 5-minute cache."),
]


class PayoutListApi(PortalApi):
    permission_classes = [staff_permission("view_payouts")]

    @extend_schema(
        operation_id="staff_payouts",
        parameters=STRIPE_PARAMS,
        responses=PayoutListOutput,
        description="The business's payouts to its bank as Stripe reports them (its connected "
        "account), newest first; cached 5 minutes. `payments_not_configured` (409), "
        "`payment_provider_error` (502), `invalid_filter` (400).",
    )
    def get(self, request):
        data = stripe_reports.payouts_list(
            limit=_limit(request, 20),
            starting_after=request.query_params.get("starting_after", ""),
            refresh=_refresh(request),
        )
        return Response(PayoutListOutput(data).data)


class FeeOutput(serializers.Serializer):
    type = serializers.CharField(help_text="stripe_fee, application_fee, tax…")
    amount = serializers.IntegerField(help_text="Minor units, as Stripe reports it.")
    description = serializers.CharField()


class BalanceTransactionOutput(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()
    reporting_category = serializers.CharField()
    amount = serializers.SerializerMethodField()
    fee = serializers.SerializerMethodField()
    net = serializers.SerializerMethodField()
    currency = serializers.CharField()
    created = serializers.DateTimeField(allow_null=True)
    available_on = serializers.DateField(allow_null=True)
    description = serializers.CharField()
    fee_details = FeeOutput(many=True)

    def _money(self, row, key) -> str:
        from portal.billing.money import amount_format

        return amount_format(row[key], currency=row["currency"])

    def get_amount(self, row) -> str:
        return self._money(row, "amount")

    def get_fee(self, row) -> str:
        return self._money(row, "fee")

    def get_net(self, row) -> str:
        return self._money(row, "net")


class BalanceTransactionListOutput(serializers.Serializer):
    transactions = BalanceTransactionOutput(many=True)
    has_more = serializers.BooleanField()
    totals = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Minor units of this page: amount, fee, net, stripe_fee, application_fee.",
    )


class BalanceTransactionListApi(PortalApi):
    permission_classes = [staff_permission("view_payouts")]

    @extend_schema(
        operation_id="staff_balance_transactions",
        parameters=[
            *STRIPE_PARAMS,
            OpenApiParameter("payout", str, description="Only what this payout (po_…) paid."),
        ],
        responses=BalanceTransactionListOutput,
        description="Charges, refunds, fees and payouts on the business's Stripe balance, with "
        "Stripe's and the platform's fees; cached 5 minutes. Errors as `GET /staff/payouts`.",
    )
    def get(self, request):
        data = stripe_reports.balance_transactions_list(
            limit=_limit(request, 50),
            starting_after=request.query_params.get("starting_after", ""),
            payout=request.query_params.get("payout", ""),
            refresh=_refresh(request),
        )
        return Response(BalanceTransactionListOutput(data).data)
