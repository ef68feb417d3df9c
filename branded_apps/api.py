"""Staff API of a business's branded app, on the tenant host (/api/v1/staff/app/...)."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError

from . import preflight, services
from .models import AppBuild, AppListing
from .serializers import (
    AppOutput,
    BuildDetailOutput,
    BuildOutput,
    ListingOutput,
    PreflightOutput,
)


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise ApplicationError("invalid_input", "Send a JSON object.")
    return data


def app_output(app) -> dict:
    return AppOutput(app, context={"build_needed": services.build_needed()}).data


class StaffApi(APIView):
    permission_classes = [staff_permission("manage_app")]


class StaffAppApi(StaffApi):
    @extend_schema(operation_id="staff_app", responses=AppOutput)
    def get(self, request):
        return Response(app_output(services.app_get()))

    @extend_schema(
        operation_id="staff_app_update",
        request=serializers.DictField(),
        responses=AppOutput,
        description="Change the record. Identifiers use one form valid on both stores "
        "(`^[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)+$`) and lock after the first build. Each bad "
        "value is named in `fields`; codes: `app_id_invalid`, `identifiers_locked`, "
        "`text_too_long`, `url_not_https`, `scheme_invalid`, `version_invalid`, "
        "`unknown_field`, `invalid_fields` (several).",
    )
    def patch(self, request):
        app = services.app_update(**_object(request.data))
        return Response(app_output(app))


class StaffAppListingListApi(StaffApi):
    @extend_schema(operation_id="staff_app_listings", responses=ListingOutput(many=True))
    def get(self, request):
        app = services.app_get()
        return Response(ListingOutput(AppListing.objects.filter(app=app), many=True).data)


class StaffAppListingApi(StaffApi):
    def _get(self, locale: str) -> AppListing:
        listing = AppListing.objects.filter(app=services.app_get(), locale=locale).first()
        if listing is None:
            raise ApplicationError("listing_not_found", "No listing in that locale.", status=404)
        return listing

    @extend_schema(operation_id="staff_app_listing", responses=ListingOutput)
    def get(self, request, locale: str):
        return Response(ListingOutput(self._get(locale)).data)

    @extend_schema(
        operation_id="staff_app_listing_save",
        request=serializers.DictField(),
        responses=ListingOutput,
        description="Create or change the store text of one locale (fastlane metadata). "
        "Limits: name and subtitle 30, keywords 100 bytes (each keyword over 2 characters), "
        "promotional text 170, description 4000 plain text, Google Play short description 80 "
        "and full description 4000.",
    )
    def put(self, request, locale: str):
        listing = services.listing_upsert(locale=locale, **_object(request.data))
        return Response(ListingOutput(listing).data)

    @extend_schema(operation_id="staff_app_listing_delete", responses={204: None})
    def delete(self, request, locale: str):
        services.listing_delete(locale=locale)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffAppPreflightApi(StaffApi):
    @extend_schema(
        operation_id="staff_app_preflight",
        responses=PreflightOutput,
        description="Every blocking problem and warning a build would meet: identifiers, store "
        "text limits, icon size and alpha, privacy URL, theme contrast, portal readiness.",
    )
    def get(self, request):
        return Response(preflight.preflight_run())


class StaffAppBuildListApi(StaffApi):
    permission_classes = [staff_permission("manage_app", post="queue_app_build")]

    @extend_schema(operation_id="staff_app_builds", responses=BuildOutput(many=True))
    def get(self, request):
        return Response(BuildOutput(AppBuild.objects.all()[:50], many=True).data)

    @extend_schema(
        operation_id="staff_app_build_request",
        request=None,
        responses={202: BuildOutput},
        description="Queue a build (after the pre-flight check). Follow `status` and `progress` "
        "at the build's URL. Refusals: `preflight_failed` (400, each problem in `fields`), "
        "`build_in_progress` (409), `tenant_not_active` (409).",
    )
    def post(self, request):
        build = services.build_request(requested_by=request.user.email)
        return Response(
            BuildOutput(build).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/staff/app/builds/{build.number}"},
        )


def _build(number: int) -> AppBuild:
    build = AppBuild.objects.filter(number=number).first()
    if build is None:
        raise ApplicationError("build_not_found", "No such build.", status=404)
    return build


class StaffAppBuildApi(StaffApi):
    @extend_schema(
        operation_id="staff_app_build",
        responses=BuildDetailOutput,
        description="Status and progress; when ready, a download URL that expires (presigned "
        "by the object store) and the bundle's manifest.",
    )
    def get(self, request, number: int):
        return Response(BuildDetailOutput(_build(number)).data)


class StaffAppBuildRetryApi(StaffApi):
    permission_classes = [staff_permission("queue_app_build")]

    @extend_schema(
        operation_id="staff_app_build_retry",
        request=None,
        responses={202: BuildOutput},
        description="Queue a failed (or stalled) build again from its frozen inputs: the "
        "bundle's bytes are the same. `build_not_retryable` (409) otherwise.",
    )
    def post(self, request, number: int):
        build = services.build_retry(number=number)
        return Response(BuildOutput(build).data, status=status.HTTP_202_ACCEPTED)


class AppBuildDownloadApi(APIView):
    """The bundle behind a signed, expiring link (local storage; S3 links go to the bucket)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="staff_app_build_download",
        parameters=[OpenApiParameter("token", str, required=True)],
        responses={(200, "application/zip"): bytes},
    )
    def get(self, request, number: int):
        token = request.query_params.get("token", "")
        build, handle, filename = services.build_download_open(number=number, token=token)
        response = FileResponse(
            handle, as_attachment=True, filename=filename, content_type="application/zip"
        )
        response["X-Content-SHA256"] = build.bundle_sha256
        return response
