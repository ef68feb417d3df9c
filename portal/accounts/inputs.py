"""Input schemas of a guardian's own account and the family's emergency contacts: the API's
request bodies and the web portal's forms validate with them, so both refuse the same things
with the same field messages; the rules are ``portal.accounts.services``'."""

from __future__ import annotations

from rest_framework import serializers


class AccountInput(serializers.Serializer):
    """A guardian's own name and phone (``guardian_self_update``)."""

    first_name = serializers.CharField(max_length=100, allow_blank=True)
    last_name = serializers.CharField(max_length=100, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class PasswordChangeInput(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class ContactInput(serializers.Serializer):
    name = serializers.CharField(max_length=300, allow_blank=True)
    phone = serializers.CharField(max_length=60, allow_blank=True)
    relationship = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )


class EmailChangeInput(serializers.Serializer):
    new_email = serializers.CharField(max_length=254)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, help_text="The guardian's current password."
    )


class EmailConfirmInput(serializers.Serializer):
    token = serializers.CharField(
        max_length=1000, help_text="The token of the link emailed to the new address."
    )
