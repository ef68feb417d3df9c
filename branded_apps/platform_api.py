"""Platform admins request and follow a business's app builds from the platform host
(/api/platform/v1/tenants/<slug>/app/...)."""

from __future__ import annotations

from django_tenants.utils import tenant_context
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from kernel.errors import ApplicationError
from tenants.api import PlatformApi
from tenants.models import Tenant

from . import preflight, services
from .models import AppBuild
from .serializers import BuildDetailOutput, BuildOutput, PreflightOutput


def _tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(schema_name=slug).first()
    if tenant is None or tenant.status in (Tenant.Status.PROVISIONING, Tenant.Status.OFFBOARDED):
        raise ApplicationError("tenant_not_found", "No such business.", status=404)
    return tenant


class PlatformAppPreflightApi(PlatformApi):
    @extend_schema(operation_id="platform_app_preflight", responses=PreflightOutput)
    def get(self, request, slug: str):
        with tenant_context(_tenant(slug)):
            return Response(preflight.preflight_run())


class PlatformAppBuildListApi(PlatformApi):
    @extend_schema(operation_id="platform_app_builds", responses=BuildOutput(many=True))
    def get(self, request, slug: str):
        with tenant_context(_tenant(slug)):
            return Response(BuildOutput(AppBuild.objects.all()[:50], many=True).data)

    @extend_schema(
        operation_id="platform_app_build_request",
        request=None,
        responses={202: BuildOutput},
        description="Queue a build of the business's app, as staff can on its own host.",
    )
    def post(self, request, slug: str):
        with tenant_context(_tenant(slug)):
            build = services.build_request(requested_by=f"platform:{request.user.email}")
            return Response(BuildOutput(build).data, status=status.HTTP_202_ACCEPTED)


class PlatformAppBuildApi(PlatformApi):
    @extend_schema(operation_id="platform_app_build", responses=BuildDetailOutput)
    def get(self, request, slug: str, number: int):
        with tenant_context(_tenant(slug)):
            build = AppBuild.objects.filter(number=number).first()
            if build is None:
                raise ApplicationError("build_not_found", "No such build.", status=404)
            return Response(BuildDetailOutput(build).data)
