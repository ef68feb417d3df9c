from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from portal.enrollment import selectors as enrollment_selectors
from portal.store import services
from portal.store.models import GiftCertificate

from .base import FamilyApi
from .enrollment import OrderOutput


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
    class Input(serializers.Serializer):
        amount = serializers.IntegerField(min_value=1, help_text="Minor units.")
        recipient_name = serializers.CharField(max_length=300, allow_blank=True)
        recipient_email = serializers.CharField(max_length=254)
        message = serializers.CharField(
            max_length=500, required=False, allow_blank=True, default=""
        )

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
        order = services.gift_certificate_buy(family=request.guardian.family, **data.validated_data)
        order = enrollment_selectors.order_list(request.guardian.family).get(pk=order.pk)
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
        services._enabled()
        certificate = services.gift_certificate_lookup(
            family=request.guardian.family, code=request.query_params.get("code", "")
        )
        return Response({"balance": certificate.balance, "currency": certificate.currency})
