"""Platform admin API on the root host. These URLs exist only in the public URL map, so no
tenant host can reach them, and only public-schema staff users (platform admins) pass."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import connection
from django_tenants.utils import get_public_schema_name
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.api.pagination import Pagination
from kernel.api.throttling import ScopedRateThrottle
from kernel.errors import ApplicationError
from kernel.login_guard import raise_if_locked
from kernel.users.services import api_token_issue

from . import selectors, services
from .serializers import (
    DirectoryEntryOutput,
    TenantCreateInput,
    TenantOutput,
    TokenInput,
    TokenOutput,
)


class IsPlatformAdmin(permissions.BasePermission):
    message = "Only platform admins may use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user is not None
            and user.is_authenticated
            and user.is_staff
            and connection.schema_name == get_public_schema_name()
        )


class PlatformApi(APIView):
    permission_classes = [IsPlatformAdmin]


class PlatformTokenApi(APIView):
    no_store = True  # the answer is a bearer token
    """Exchange a platform admin's email and password for a bearer token."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "platform-token"

    @extend_schema(request=TokenInput, responses={200: TokenOutput}, operation_id="platform_token")
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request, username=data.validated_data["email"], password=data.validated_data["password"]
        )
        if user is None:
            raise_if_locked(request)  # login_locked (429) after too many failures
        if user is None or not user.is_staff:
            raise ApplicationError(
                "invalid_credentials", "The email or password is not correct.", status=401
            )
        _, raw = api_token_issue(user=user, name=data.validated_data["device"])
        return Response({"token": raw})


class TenantCollectionApi(PlatformApi):
    pagination_class = Pagination  # documents the paginated answer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=["provisioning", "active", "suspended", "offboarded"]
            ),
            OpenApiParameter("q", str, description="Part of the name or slug."),
        ],
        responses={200: TenantOutput(many=True)},
        operation_id="platform_tenants_list",
    )
    def get(self, request):
        status_filter = request.query_params.get("status")
        if status_filter is not None and status_filter not in {
            "provisioning",
            "active",
            "suspended",
            "offboarded",
        }:
            raise ApplicationError(
                "invalid_filter",
                f"Unknown status “{status_filter}”.",
                fields={"status": ["Use provisioning, active, suspended or offboarded."]},
            )
        qs = selectors.tenant_list(status=status_filter, q=request.query_params.get("q") or None)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(TenantOutput(page, many=True).data)

    @extend_schema(
        request=TenantCreateInput,
        responses={202: TenantOutput},
        operation_id="platform_tenants_create",
        description="Validates the business, reserves the slug and provisions it in the "
        "background. Poll `status_url` until `status` is `active`. Errors: `slug_required`, "
        "`slug_too_long`, `slug_invalid_characters`, `slug_must_start_with_letter`, "
        "`slug_ends_with_hyphen`, `slug_double_hyphen`, `slug_reserved`, `slug_taken` (409), "
        "`name_required`, `owner_email_invalid`, `contact_email_invalid`, `timezone_invalid`, "
        "`currency_unsupported`, `locale_unsupported`, `plan_unknown`, `invalid_input`. The "
        "business is created unlaunched: it is public and listed once launched from the "
        "platform console.",
    )
    def post(self, request):
        data = TenantCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        tenant = services.tenant_onboard(
            name=v["name"],
            slug=v["slug"],
            owner_email=v["owner_email"],
            contact_email=v.get("contact_email"),
            timezone_name=v["timezone"],
            currency=v["currency"],
            locale=v["locale"],
            plan=v.get("plan") or None,
        )
        body = TenantOutput(tenant).data
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]}
        )


class TenantDetailApi(PlatformApi):
    @extend_schema(responses={200: TenantOutput}, operation_id="platform_tenants_retrieve")
    def get(self, request, slug: str):
        return Response(TenantOutput(selectors.tenant_get(slug=slug)).data)


class TenantSuspendApi(PlatformApi):
    @extend_schema(
        request=None, responses={200: TenantOutput}, operation_id="platform_tenants_suspend"
    )
    def post(self, request, slug: str):
        return Response(TenantOutput(services.tenant_suspend(slug=slug)).data)


class TenantReactivateApi(PlatformApi):
    @extend_schema(
        request=None, responses={200: TenantOutput}, operation_id="platform_tenants_reactivate"
    )
    def post(self, request, slug: str):
        return Response(TenantOutput(services.tenant_reactivate(slug=slug)).data)


class DirectoryApi(APIView):
    """Businesses for the shared mobile app's "find your school" screen. Public."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    pagination_class = Pagination  # documents the paginated answer

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Part of the business name or slug.")],
        responses={200: DirectoryEntryOutput(many=True)},
        operation_id="platform_directory",
    )
    def get(self, request):
        q = (request.query_params.get("q") or "").strip()
        if len(q) > 100:
            raise ApplicationError(
                "query_too_long", "The search text may be at most 100 characters."
            )
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.directory_list(q=q or None), request, view=self
        )
        return paginator.get_paginated_response(DirectoryEntryOutput(page, many=True).data)
