from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.api.query import query_choice
from portal.billing import services
from portal.billing.selectors import ledger_get, statement_range
from portal.orders import payments as order_payments

from .base import FamilyApi, PortalApi


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    client_secret = serializers.CharField(help_text="For Stripe's Payment Element.")
    failure_message = serializers.CharField(help_text="Why the card was declined, if it was.")
    stripe_account = serializers.SerializerMethodField(
        help_text="Pass to Stripe.js as stripeAccount."
    )

    def get_stripe_account(self, payment) -> str:
        return connection.tenant.stripe_account_id


class OrderPayInput(serializers.Serializer):
    payment_method = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="One of your saved cards (GET /payment-methods) to charge now, instead of the "
        "Payment Element.",
    )


class OrderPayApi(FamilyApi):
    @extend_schema(
        operation_id="orders_pay",
        request=OrderPayInput,
        responses={201: PaymentOutput},
        description="Start paying an order: returns the client secret for Stripe's Payment Element "
        "(card data goes to Stripe, never to us). The order is paid when Stripe says so. A second "
        "call while a payment is open returns the same one. Errors: `order_not_found` (404), "
        "`order_already_paid`, `order_not_payable`, `payments_not_configured` (409), "
        "`payment_provider_error` (502); with `payment_method` (a saved card charged at once): "
        "`payment_method_not_found` (404), `card_declined` (402).",
    )
    def post(self, request, order_id: int):
        data = OrderPayInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = order_payments.order_pay(
            family=request.guardian.family,
            order_id=order_id,
            saved_method_id=data.validated_data.get("payment_method"),
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class BalancePayApi(FamilyApi):
    @extend_schema(
        operation_id="balance_pay",
        request=OrderPayInput,
        responses={201: PaymentOutput},
        description="Pay the account's whole open balance in one step: an order for what the "
        "ledger says you owe (`order_id` in the answer), paid like any order (Payment Element, or "
        "a saved card charged at once). Paying it settles your open invoices. Errors: "
        "`nothing_owed` (409), and those of `POST /orders/{id}/pay`.",
    )
    def post(self, request):
        data = OrderPayInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = order_payments.balance_pay(
            family=request.guardian.family,
            saved_method_id=data.validated_data.get("payment_method"),
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class LedgerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.IntegerField(help_text="Minor units; + owed, - paid or credited.")
    currency = serializers.CharField()
    order_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    balance = serializers.IntegerField(help_text="Running balance after this entry.")


class UnpaidOrderOutput(serializers.Serializer):
    order_id = serializers.IntegerField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount_due = serializers.IntegerField(help_text="Minor units.")
    expires_at = serializers.DateTimeField(allow_null=True)


class LedgerApi(FamilyApi):
    @extend_schema(
        operation_id="ledger",
        parameters=[OpenApiParameter("period", str, enum=["30d", "all"])],
        responses=inline_serializer(
            "Ledger",
            {
                "entries": LedgerOutput(many=True),
                "balance": serializers.IntegerField(),
                "unpaid_orders": UnpaidOrderOutput(many=True),
                "owed": serializers.IntegerField(
                    help_text="Everything owed: the positive balance plus the unpaid orders."
                ),
                "credit": serializers.IntegerField(),
                "past_due": serializers.IntegerField(
                    help_text="Owed on charges older than the business's grace period."
                ),
                "currency": serializers.CharField(),
            },
        ),
        description="The family's charges, payments, discounts, refunds and credits with a running "
        "balance (positive: owed) and what of it is past due; `unpaid_orders` are checkouts and "
        "purchases still waiting for payment (not in the ledger yet), and `owed` adds them to "
        "the balance. `period=30d` (default) or `all`. "
        "Pay the balance with `POST /balance/pay`.",
    )
    def get(self, request):
        ledger = ledger_get(
            family=request.guardian.family,
            period=query_choice(request.query_params, "period", ["30d", "all"], "30d"),
        )
        return Response(
            {
                **ledger,
                "entries": LedgerOutput(ledger["entries"], many=True).data,
                "unpaid_orders": UnpaidOrderOutput(ledger["unpaid_orders"], many=True).data,
            }
        )


class StaffRefundApi(PortalApi):
    permission_classes = [staff_permission("refund_payment")]

    class Input(serializers.Serializer):
        amount = serializers.CharField(
            required=False,
            max_length=30,
            help_text="In the business's currency, e.g. 12.50 (not cents); omit to refund "
            "what is left.",
        )
        reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(
        operation_id="staff_payments_refund",
        request=Input,
        responses=PaymentOutput,
        description="Refund all or part of a payment; the amount is typed in the currency like "
        "every staff amount (`invalid_amount`, 400, for cents or anything else). Prefer "
        "`POST /api/v1/staff/families/{family_id}/payments/{payment_id}/refund`. "
        "`refund_too_large` (400), `payment_not_refundable` (409), `payment_not_found` (404).",
    )
    def post(self, request, payment_id: int):
        from portal.billing.money import amount_parse

        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        typed = data.validated_data.get("amount")
        amount = (
            amount_parse(typed, currency=connection.tenant.currency)
            if typed not in (None, "")
            else None
        )
        payment = services.payment_refund(
            payment_id=payment_id, amount=amount, reason=data.validated_data["reason"]
        )
        return Response(PaymentOutput(payment).data)


class StripeAccountOutput(serializers.Serializer):
    state = serializers.ChoiceField(choices=["not_connected", "pending", "enabled"])
    account_id = serializers.CharField(allow_null=True)
    charges_enabled = serializers.BooleanField()
    details_submitted = serializers.BooleanField()
    requirements_due = serializers.ListField(child=serializers.CharField())
    demo = serializers.BooleanField(help_text="A demo account (the local Stripe stand-in).")
    demo_mode = serializers.BooleanField(
        help_text="The platform runs against the local Stripe stand-in (no Connect)."
    )
    platform_configured = serializers.BooleanField()
    checked_at = serializers.DateTimeField(allow_null=True)


def _onboarding_urls(tenant) -> dict:
    return {
        "refresh_url": tenant.url("/console/settings/payments/resume"),
        "return_url": tenant.url("/console/settings/payments/return"),
    }


class StaffStripeOnboardingApi(PortalApi):
    permission_classes = [staff_permission("manage_payments_onboarding")]

    @extend_schema(
        operation_id="staff_stripe_onboarding",
        request=None,
        responses=inline_serializer("OnboardingLink", {"url": serializers.URLField()}),
        description="Connect this business's Stripe account (created once): Stripe's single-use "
        "onboarding link, which returns to the console's payments page. "
        "`stripe_connect_unavailable` (409) against the local Stripe stand-in.",
    )
    def post(self, request):
        from portal.billing.connect import connect_onboarding_link

        tenant = connection.tenant
        return Response({"url": connect_onboarding_link(tenant=tenant, **_onboarding_urls(tenant))})


class StaffStripeAccountApi(PortalApi):
    permission_classes = [staff_permission("manage_payments_onboarding")]

    @extend_schema(
        operation_id="staff_stripe_account",
        responses=StripeAccountOutput,
        description="Where the business's Stripe onboarding stands; online payments are taken "
        "only in the `enabled` state.",
    )
    def get(self, request):
        from portal.billing.connect import connect_status

        return Response(StripeAccountOutput(connect_status(tenant=connection.tenant)).data)


class StaffStripeAccountRefreshApi(PortalApi):
    permission_classes = [staff_permission("manage_payments_onboarding")]

    @extend_schema(
        operation_id="staff_stripe_account_refresh",
        request=None,
        responses=StripeAccountOutput,
        description="Fetch the account's state from Stripe now (as the account.updated webhook "
        "does).",
    )
    def post(self, request):
        from portal.billing.connect import connect_refresh, connect_status

        tenant = connect_refresh(tenant=connection.tenant)
        return Response(StripeAccountOutput(connect_status(tenant=tenant)).data)


class PaymentMethodOutput(serializers.Serializer):
    id = serializers.IntegerField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)
    is_default = serializers.BooleanField()


class PaymentMethodListApi(FamilyApi):
    @extend_schema(operation_id="payment_methods_list", responses=PaymentMethodOutput(many=True))
    def get(self, request):
        from portal.billing.models import SavedPaymentMethod

        services.payment_methods_refresh(family=request.guardian.family)
        methods = SavedPaymentMethod.objects.filter(
            family=request.guardian.family, removed_at__isnull=True
        )
        return Response(PaymentMethodOutput(methods, many=True).data)


class PaymentMethodSetupApi(FamilyApi):
    @extend_schema(
        operation_id="payment_methods_setup",
        request=None,
        responses={
            201: inline_serializer(
                "SetupIntentSecret",
                {
                    "client_secret": serializers.CharField(),
                    "stripe_account": serializers.CharField(),
                },
            )
        },
        description="Start saving a card with Stripe's Payment Element (SetupIntent, off-session "
        "use). Primary guardian only. Errors: `payment_methods_disabled`, `primary_guardian_only` "
        "(403), `payments_not_configured` (409).",
    )
    def post(self, request):
        secret = services.payment_method_setup(guardian=request.guardian)
        return Response(
            {"client_secret": secret, "stripe_account": connection.tenant.stripe_account_id},
            status=status.HTTP_201_CREATED,
        )


class PaymentMethodDetailApi(FamilyApi):
    @extend_schema(
        operation_id="payment_methods_remove",
        responses={204: None},
        description="Errors: `payment_method_required` (409), `payment_method_not_found`.",
    )
    def delete(self, request, method_id: int):
        services.payment_method_remove(guardian=request.guardian, method_id=method_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PaymentMethodDefaultApi(FamilyApi):
    @extend_schema(
        operation_id="payment_methods_set_default", request=None, responses=PaymentMethodOutput
    )
    def post(self, request, method_id: int):
        method = services.payment_method_set_default(guardian=request.guardian, method_id=method_id)
        return Response(PaymentMethodOutput(method).data)


class StatementApi(FamilyApi):
    @extend_schema(
        operation_id="ledger_statement",
        parameters=[
            OpenApiParameter("from", str, required=True, description="YYYY-MM-DD"),
            OpenApiParameter("to", str, required=True, description="YYYY-MM-DD"),
        ],
        responses={(200, "application/pdf"): bytes},
        description="The family's statement for a date range as a PDF. `invalid_filter` (400).",
    )
    def get(self, request):
        from django.http import HttpResponse

        from portal.billing.statements import statement_pdf

        start, end = statement_range(
            request.query_params.get("from"), request.query_params.get("to")
        )
        bounds = {"from": start, "to": end}
        pdf = statement_pdf(
            family=request.guardian.family,
            tenant=connection.tenant,
            start=bounds["from"],
            end=bounds["to"],
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{bounds["from"]}-{bounds["to"]}.pdf"'
        )
        return response
