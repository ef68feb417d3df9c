"""The signed-in guardian's own account, for the apps: name and phone, the password, and the
email address (changed only once the new address is confirmed). The same services as the web
portal's /account/ pages (``portal.accounts.services``) and the same input schemas
(``portal.accounts.inputs``)."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.users.models import ApiToken
from portal.accounts import services
from portal.accounts.email_change import (
    EMAIL_CHANGE_LINK_HOURS,
    email_change_confirm,
    email_change_request,
)
from portal.accounts.inputs import (
    AccountInput,
    EmailChangeInput,
    EmailConfirmInput,
    PasswordChangeInput,
)

from .base import FamilyApi, PortalApi


class AccountOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The guardian's id.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    relationship = serializers.CharField()
    is_primary = serializers.BooleanField()
    family_id = serializers.IntegerField()


class AccountApi(FamilyApi):
    class Input(AccountInput):
        """Every field optional: what is left out keeps its value."""

    @extend_schema(operation_id="account_retrieve", responses=AccountOutput)
    def get(self, request):
        return Response(AccountOutput(request.guardian).data)

    @extend_schema(
        operation_id="account_update",
        request=Input,
        responses=AccountOutput,
        description="The signed-in guardian's own name and phone. Every field's problem is "
        "answered at once in `fields`. Errors: `first_name_required`, `last_name_required`, "
        "`phone_invalid`, `invalid_input`.",
    )
    def patch(self, request):
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        guardian = request.guardian
        values = {
            "first_name": guardian.first_name,
            "last_name": guardian.last_name,
            "phone": guardian.phone,
            **data.validated_data,
        }
        guardian = services.guardian_self_update(guardian=guardian, **values)
        return Response(AccountOutput(guardian).data)


class PasswordChangedOutput(serializers.Serializer):
    token = serializers.CharField(
        allow_null=True,
        help_text="A new token for this device (every token, this one included, ends with the "
        "old password); null when the request was signed in with a web session.",
    )


class AccountPasswordApi(FamilyApi):
    no_store = True  # the answer is a bearer token

    @extend_schema(
        operation_id="account_password_change",
        request=PasswordChangeInput,
        responses=PasswordChangedOutput,
        description="Change the password while signed in: the current password first "
        "(`password_incorrect`), then the password rules (`password_too_weak`, "
        "`password_too_common`). Every other device is signed out.",
    )
    def post(self, request):
        data = PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if isinstance(request.auth, ApiToken):
            token = services.password_change_keep_device(
                user=request.user,
                current_password=v["current_password"],
                new_password=v["new_password"],
                device=request.auth.name,
            )
            return Response({"token": token})
        services.password_change(
            user=request.user,
            current_password=v["current_password"],
            new_password=v["new_password"],
        )
        update_session_auth_hash(request._request, request.user)
        return Response({"token": None})


class EmailChangePendingOutput(serializers.Serializer):
    pending_email = serializers.CharField(
        help_text="The address the confirmation link went to; the account keeps its current "
        "address until the link is confirmed."
    )
    link_hours = serializers.IntegerField(help_text="How long the link lasts, in hours.")


class AccountEmailApi(FamilyApi):
    @extend_schema(
        operation_id="account_email_change",
        request=EmailChangeInput,
        responses={202: EmailChangePendingOutput},
        description="Change the signed-in guardian's email address, verified: after the current "
        "password, the new address gets a confirmation link (the same link the web portal "
        "sends, `/account/email/confirm/<token>/`); nothing changes until it is confirmed, then "
        "the old address is told. Errors: `password_incorrect`, `email_invalid`, "
        "`email_unchanged`, `email_taken` (409), `invalid_input`.",
    )
    def post(self, request):
        data = EmailChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        sent_to = email_change_request(guardian=request.guardian, **data.validated_data)
        return Response(
            {"pending_email": sent_to, "link_hours": EMAIL_CHANGE_LINK_HOURS},
            status=status.HTTP_202_ACCEPTED,
        )


class EmailChangedOutput(serializers.Serializer):
    email = serializers.CharField(help_text="The account's address from now on.")


class AccountEmailConfirmApi(PortalApi):
    """No sign-in needed: the signed link is the proof (it was asked for while signed in and
    reached the new mailbox)."""

    @extend_schema(
        operation_id="account_email_confirm",
        request=EmailConfirmInput,
        responses=EmailChangedOutput,
        description="Confirm an email change with the token of the emailed link. Errors: "
        "`email_change_link_invalid` (bad, used, or another business's link), "
        "`email_change_link_expired`, `email_taken` (409: someone took the address meanwhile).",
    )
    def post(self, request):
        data = EmailConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        guardian = email_change_confirm(token=data.validated_data["token"])
        return Response({"email": guardian.email})
