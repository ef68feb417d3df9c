from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.throttling import ScopedRateThrottle
from portal.enrollment.models import Order
from portal.orders import payments as order_payments
from portal.orders import selectors as order_selectors
from portal.store import purchases, services
from portal.store.inputs import (
    GiftCertificateListInput,
    PunchPassBuyInput,
    PunchPassRedeemInput,
    VisitorGiftPurchaseInput,
)
from portal.store.models import GiftCertificate, PunchPass, PunchPassProduct

from .base import FamilyApi, PortalApi
from .billing import PaymentOutput
from .enrollment import OfferingRef, OrderOutput, StudentRef


class GiftCertificateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    status = serializers.CharField()
    initial_amount = serializers.IntegerField()
    balance = serializers.IntegerField()
    currency = serializers.CharField()
    recipient_name = serializers.CharField()
    recipient_email = serializers.CharField()
    order_id = serializers.IntegerField(allow_null=True)


class GiftCertificateListApi(FamilyApi):
    Input = GiftCertificateListInput

    @extend_schema(
        operation_id="gift_certificates_list", responses=GiftCertificateOutput(many=True)
    )
    def get(self, request):
        bought = GiftCertificate.objects.filter(purchaser=request.guardian.family)
        return Response(GiftCertificateOutput(bought, many=True).data)

    @extend_schema(
        operation_id="gift_certificates_buy",
        request=Input,
        responses={201: OrderOutput},
        description="Buy a gift certificate: returns an order to pay (`POST /orders/<id>/pay`); "
        "the code is emailed to the recipient once it is paid. Errors: "
        "`gift_certificates_disabled` (403), `gift_amount_invalid`, `recipient_name_required`, "
        "`email_invalid`.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        order = purchases.gift_certificate_buy(
            family=request.guardian.family, **data.validated_data
        )
        order = order_selectors.order_get(request.guardian.family, order.pk)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class GiftCertificateBalanceApi(FamilyApi):
    @extend_schema(
        operation_id="gift_certificates_balance",
        parameters=[OpenApiParameter("code", str, required=True)],
        responses=inline_serializer(
            "GiftBalance",
            {"balance": serializers.IntegerField(), "currency": serializers.CharField()},
        ),
        description="Errors: `gift_certificate_invalid` (400), `too_many_attempts` (429 after five "
        "wrong codes in 15 minutes).",
    )
    def get(self, request):
        services.gift_certificates_enabled_check()
        certificate = services.gift_certificate_lookup(
            family=request.guardian.family, code=request.query_params.get("code", "")
        )
        return Response({"balance": certificate.balance, "currency": certificate.currency})


# --- punch passes ----------------------------------------------------------------------------

PUNCH_REDEEM_ERRORS = (
    "Errors: `punch_passes_disabled` (403), `punch_pass_not_found` / `offering_not_found` / "
    "`student_not_found` (404), `student_required` (400), `not_a_meeting` (400), "
    "`punch_pass_not_active`, `punch_pass_expired`, `punch_pass_used_up`, "
    "`punch_pass_not_eligible` (wrong kind, program or student), `offering_not_available`, "
    "`already_enrolled`, `already_in_cart`, `offering_full`, `student_inactive`, `too_young`, "
    "`too_old`, `gender_restricted`, `level_required`, `level_mismatch` (409), `busy` (503)."
)


class PunchProgramRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PunchProductRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PunchPassProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    visits = serializers.IntegerField()
    price = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.SerializerMethodField()
    valid_days = serializers.IntegerField(help_text="Days the pass lasts once paid for.")
    scope = serializers.ChoiceField(choices=PunchPassProduct.Scope.choices)
    kind = serializers.CharField(help_text="The kind of offering a visit can be used for.")
    program = PunchProgramRef(allow_null=True, help_text="Null: offerings of any program.")

    def get_currency(self, product) -> str:
        return connection.tenant.currency


class PunchRedemptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    punch_pass_id = serializers.IntegerField()
    offering = OfferingRef()
    student = StudentRef()
    meeting_date = serializers.DateField()
    enrollment_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class PunchPassOutput(serializers.Serializer):
    id = serializers.IntegerField()
    product = PunchProductRef(help_text="The product bought.")
    status = serializers.ChoiceField(choices=PunchPass.Status.choices)
    student = StudentRef(allow_null=True, help_text="Null: any student of the family.")
    visits_total = serializers.IntegerField()
    visits_left = serializers.IntegerField()
    expires_on = serializers.DateField(allow_null=True, help_text="Set once it is paid for.")
    expired = serializers.SerializerMethodField()
    kind = serializers.CharField(source="product.kind")
    program = PunchProgramRef(source="product.program", allow_null=True)
    order_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    redemptions = PunchRedemptionOutput(many=True, source="redemptions.all")

    def get_expired(self, punch) -> bool:
        return punch.is_expired()


class PunchPassProductListApi(PortalApi):
    @extend_schema(
        operation_id="punch_pass_products_list",
        responses=PunchPassProductOutput(many=True),
        description="Punch passes for sale. Errors: `punch_passes_disabled` (403).",
    )
    def get(self, request):
        products = services.punch_pass_product_list()
        return Response(PunchPassProductOutput(products, many=True).data)


class PunchPassListApi(FamilyApi):
    Input = PunchPassBuyInput

    @extend_schema(
        operation_id="punch_passes_list",
        responses=PunchPassOutput(many=True),
        description="The family's punch passes with the visits left, expiry and visits used.",
    )
    def get(self, request):
        passes = services.punch_pass_list(family=request.guardian.family)
        return Response(PunchPassOutput(passes, many=True).data)

    @extend_schema(
        operation_id="punch_passes_buy",
        request=Input,
        responses={201: OrderOutput},
        description="Buy a punch pass: returns an order to pay (`POST /orders/<id>/pay`); the "
        "pass is usable once it is paid (a free pass at once). Errors: `punch_passes_disabled` "
        "(403), `punch_pass_product_not_found` (404), `student_required` (400), "
        "`student_not_found` (404).",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        order = purchases.punch_pass_buy(
            family=request.guardian.family, product_id=v["product"], student_id=v.get("student")
        )
        order = order_selectors.order_get(request.guardian.family, order.pk)
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class PunchPassRedeemApi(FamilyApi):
    Input = PunchPassRedeemInput

    @extend_schema(
        operation_id="punch_passes_redeem",
        request=Input,
        responses={201: PunchRedemptionOutput},
        description="Use one visit: enrolls the student in that one meeting of the offering. "
        + PUNCH_REDEEM_ERRORS,
    )
    def post(self, request, pass_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        redemption = services.punch_pass_redeem(
            family=request.guardian.family,
            pass_id=pass_id,
            offering_id=v["offering"],
            meeting_date=v["meeting_date"],
            student_id=v.get("student"),
        )
        return Response(PunchRedemptionOutput(redemption).data, status=status.HTTP_201_CREATED)


class VisitorGiftPurchaseApi(PortalApi):
    """Buy a gift certificate without an account (when the business allows it)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "portal-auth"

    Input = VisitorGiftPurchaseInput

    @extend_schema(
        operation_id="gift_certificates_buy_as_visitor",
        request=Input,
        responses={
            201: inline_serializer(
                "VisitorGiftPurchase",
                {
                    "order": OrderOutput(),
                    "payment": PaymentOutput(),
                    "status_token": serializers.CharField(help_text="For the status endpoint."),
                },
            )
        },
        description="Returns the order and the Payment Element's client secret; the code is "
        "emailed to the recipient once Stripe says the payment succeeded. Errors: "
        "`visitor_purchase_disabled` / `gift_certificates_disabled` (403), `gift_amount_invalid`, "
        "`buyer_name_required`, `recipient_name_required`, `email_invalid`, "
        "`payments_not_configured` (409).",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        order, payment = purchases.gift_certificate_buy_as_visitor(**data.validated_data)
        order = order_selectors.order_get(order.family, order.pk)
        return Response(
            {
                "order": OrderOutput(order).data,
                "payment": PaymentOutput(payment).data,
                "status_token": services.visitor_token(order),
            },
            status=status.HTTP_201_CREATED,
        )


class VisitorGiftStatusApi(PortalApi):
    @extend_schema(
        operation_id="gift_certificates_visitor_status",
        parameters=[OpenApiParameter("token", str, required=True)],
        responses=inline_serializer("VisitorGiftStatus", {"order_status": serializers.CharField()}),
        description="Whether a visitor's gift certificate order is paid. `invalid_token` (404).",
    )
    def get(self, request):
        order = services.visitor_order(token=request.query_params.get("token", ""))
        if order.status == Order.Status.AWAITING_PAYMENT:
            order_payments.order_refresh(order=order)
            order.refresh_from_db()
        return Response({"order_status": order.status})
