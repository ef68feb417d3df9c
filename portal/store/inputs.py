"""Input schemas of the store's operations: what a gift certificate or punch pass purchase and
a visit accept. Every delivery (the API's request bodies, the web portal's forms) validates with
these, so a page refuses exactly what the API refuses, with the same field messages; the rules
behind the values (amounts offered, who may buy) are ``portal.store.services``'."""

from __future__ import annotations

from rest_framework import serializers


class GiftCertificateListInput(serializers.Serializer):
    """A family buys a gift certificate (named after the API's list view, which takes it)."""

    amount = serializers.IntegerField(min_value=1, help_text="Minor units.")
    recipient_name = serializers.CharField(max_length=300, allow_blank=True)
    recipient_email = serializers.CharField(max_length=254)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class VisitorGiftPurchaseInput(serializers.Serializer):
    """A visitor buys a gift certificate without an account."""

    buyer_name = serializers.CharField(max_length=300, allow_blank=True)
    buyer_email = serializers.CharField(max_length=254)
    amount = serializers.IntegerField(min_value=1, help_text="Minor units.")
    recipient_name = serializers.CharField(max_length=300, allow_blank=True)
    recipient_email = serializers.CharField(max_length=254)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PunchPassBuyInput(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    student = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="For one-student passes."
    )


class PunchPassRedeemInput(serializers.Serializer):
    offering = serializers.IntegerField(min_value=1)
    meeting_date = serializers.DateField()
    student = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="Who is coming (required for family passes).",
    )
