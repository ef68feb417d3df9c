from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from kernel.api.throttling import ScopedRateThrottle
from kernel.users import services as user_services
from kernel.users.models import ApiToken
from kernel.users.services import api_token_revoke
from portal.accounts import services
from portal.accounts.services import PolicyConsent

from ..permissions import mobile_app_disabled_error
from .base import PortalApi, client_ip


class ConsentInput(serializers.Serializer):
    policy = serializers.IntegerField()
    version = serializers.IntegerField()
    signature = serializers.CharField(
        max_length=150, allow_blank=True, help_text="The guardian's typed name."
    )
    student = serializers.IntegerField(required=False, allow_null=True)


def consents_from(data) -> list[PolicyConsent]:
    return [
        PolicyConsent(c["policy"], c["version"], c["signature"], c.get("student")) for c in data
    ]


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()


class SignupApi(PortalApi):
    no_store = True  # the answer is a bearer token
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "portal-auth"

    class Input(serializers.Serializer):
        first_name = serializers.CharField(max_length=200, allow_blank=True)
        last_name = serializers.CharField(max_length=200, allow_blank=True)
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=200, trim_whitespace=False)
        phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
        referral_source = serializers.CharField(
            max_length=100, required=False, allow_blank=True, default=""
        )
        policies = ConsentInput(many=True, required=False, default=list)
        device = serializers.CharField(max_length=100, required=False, default="default")
        answers = serializers.DictField(
            child=serializers.CharField(max_length=1000, allow_blank=True),
            required=False,
            default=dict,
            help_text="Answers to the business's signup questions (``signup_questions`` in "
            "/api/v1/portal), by question id: yes/no questions take ``yes`` or ``no``.",
        )

    @extend_schema(
        operation_id="auth_signup",
        request=Input,
        responses={201: TokenOutput},
        examples=[
            OpenApiExample(
                "Signup",
                request_only=True,
                value={
                    "first_name": "Ana",
                    "last_name": "Lopez",
                    "email": "ana@example.com",
                    "password": "tumbling-mats-2026",
                    "phone": "555-0100",
                    "policies": [{"policy": 1, "version": 1, "signature": "Ana Lopez"}],
                },
            ),
            OpenApiExample(
                "Signed up", response_only=True, status_codes=["201"], value={"token": "q1w2e3..."}
            ),
            OpenApiExample(
                "Email taken",
                response_only=True,
                status_codes=["409"],
                value={
                    "code": "email_taken",
                    "message": "An account with this email already exists. Sign in or reset "
                    "your password.",
                    "fields": {"email": ["An account with this email already exists."]},
                },
            ),
        ],
        description="Create a family account with its primary guardian and sign in (a token for "
        "apps). Errors: `signup_disabled` (403), `email_taken` (409), `email_invalid`, "
        "`password_too_weak`, `password_too_common`, `policies_not_accepted`, "
        "`policy_version_changed` (409), `signature_required`, `referral_source_required`, "
        "`referral_source_invalid`, `first_name_required`, `last_name_required`, "
        "`signup_answer_required`, `signup_answer_invalid` (field `question_<id>`), "
        "`mobile_app_disabled` (403, the business has turned its app off).",
    )
    def post(self, request):
        if not self.portal.mobile_app_enabled:
            raise mobile_app_disabled_error(self.tenant)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        _, user = services.family_signup(
            first_name=v["first_name"],
            last_name=v["last_name"],
            email=v["email"],
            password=v["password"],
            phone=v["phone"],
            referral_source=v["referral_source"],
            consents=consents_from(v["policies"]),
            ip=client_ip(request),
            answers=v["answers"],
        )
        token = services.family_token_issue(
            email=user.email, password=v["password"], device=v["device"], request=request
        )
        return Response({"token": token}, status=status.HTTP_201_CREATED)


class TokenApi(PortalApi):
    no_store = True  # the answer is a bearer token
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "portal-auth"

    class Input(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=200, trim_whitespace=False)
        device = serializers.CharField(
            max_length=100,
            required=False,
            default="default",
            help_text="One token per device: a new one replaces that device's old token.",
        )

    @extend_schema(
        operation_id="auth_token",
        request=Input,
        responses=TokenOutput,
        examples=[
            OpenApiExample(
                "Sign in",
                request_only=True,
                value={
                    "email": "ana@example.com",
                    "password": "tumbling-mats-2026",
                    "device": "ana-iphone",
                },
            ),
            OpenApiExample(
                "Suspended family",
                response_only=True,
                status_codes=["403"],
                value={
                    "code": "family_suspended",
                    "message": "There is an issue with your account. Please contact Acme "
                    "Gymnastics at office@acme.example.",
                    "fields": {},
                },
            ),
        ],
        description="Exchange email and password for a bearer token (`Authorization: Bearer "
        "<token>`). Errors: `invalid_credentials` (401), `family_suspended` (403), "
        "`login_locked` (429, with `Retry-After`: too many wrong passwords from this address), "
        "`mobile_app_disabled` (403, the business has turned its app off: families use the "
        "web portal).",
    )
    def post(self, request):
        if not self.portal.mobile_app_enabled:
            raise mobile_app_disabled_error(self.tenant)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        token = services.family_token_issue(
            email=v["email"], password=v["password"], device=v["device"], request=request
        )
        return Response({"token": token})


class LogoutApi(PortalApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        request=None,
        responses={204: None},
        description="Revoke the token this request was made with (or end the session).",
    )
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            api_token_revoke(token=request.auth)
        else:
            from django.contrib.auth import logout

            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetApi(PortalApi):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "portal-auth"

    class Input(serializers.Serializer):
        email = serializers.CharField(max_length=254)

    @extend_schema(
        operation_id="auth_password_reset",
        request=Input,
        responses={
            202: inline_serializer("PasswordResetAccepted", {"message": serializers.CharField()})
        },
        description="Email a reset link if an account has this address. The answer is the same "
        "either way.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response(
            {"message": "If an account uses this address, we have emailed it a reset link."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmApi(PortalApi):
    class Input(serializers.Serializer):
        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=100)
        password = serializers.CharField(max_length=200, trim_whitespace=False)

    @extend_schema(
        operation_id="auth_password_reset_confirm",
        request=Input,
        responses={204: None},
        description="Errors: `reset_link_invalid`, `password_reused`, `password_too_weak`, "
        "`password_too_common`.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignedInDeviceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    device = serializers.CharField(source="name", help_text="The name the app signed in with.")
    created_at = serializers.DateTimeField(help_text="When it signed in.")
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Unless used before then (each use extends it)."
    )
    current = serializers.BooleanField(help_text="The token this request was made with.")


def _device_rows(request, tokens) -> list[dict]:
    current = request.auth.pk if isinstance(request.auth, ApiToken) else None
    return [
        {
            "id": t.pk,
            "name": t.name,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "expires_at": t.expires_at(),
            "current": t.pk == current,
        }
        for t in tokens
    ]


class SignedInDeviceListApi(PortalApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_devices_list",
        responses=SignedInDeviceOutput(many=True),
        description="The apps and devices signed in to your account (one bearer token each), "
        "most recently used first. A token unused for `API_TOKEN_TTL_DAYS` expires; a new "
        "password signs every device out.",
    )
    def get(self, request):
        tokens = user_services.api_token_list(user=request.user)
        return Response(SignedInDeviceOutput(_device_rows(request, tokens), many=True).data)


class SignedInDeviceRevokeApi(PortalApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_devices_revoke",
        request=None,
        responses={204: None},
        description="Sign one of your devices out (its token stops working at once). Errors: "
        "`signed_in_device_not_found` (404: not one of yours, or already signed out).",
    )
    def delete(self, request, device_id: int):
        user_services.api_token_revoke_for(user=request.user, token_id=device_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
