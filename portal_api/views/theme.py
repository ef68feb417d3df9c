from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from theming import emitters, services
from theming.models import BINARY_FIELDS, COLOUR_ROLES, RUNTIME_FIELDS, Brand, ThemeVersion

from .base import PortalApi


def theme_reference(version: ThemeVersion | None) -> dict | None:
    """What clients need to load the current theme (used by GET /api/v1/portal)."""
    if version is None:
        return None
    tenant = connection.tenant
    return {
        "version": version.number,
        "css_url": tenant.url(f"/theme.css?v={version.number}"),
        "tokens_url": tenant.url("/api/v1/theme/tokens.json"),
        "app_config_url": tenant.url("/api/v1/theme/app-config.json"),
        "logo_url": version.snapshot.get("logo_url") or None,
    }


def _published() -> ThemeVersion:
    version = services.theme_current()
    if version is None:
        raise ApplicationError(
            "theme_not_published", "This business has no published theme.", status=404
        )
    return version


class ThemeTokensApi(PortalApi):
    @extend_schema(
        operation_id="theme_tokens",
        responses={200: serializers.DictField()},
        description="The published theme as a Design Tokens Community Group (2025.10) "
        "document. ETag: the tokens' hash.",
    )
    def get(self, request):
        version = _published()
        etag = f'"{version.etag}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(
            version.tokens, headers={"ETag": etag, "Cache-Control": "public, max-age=60"}
        )


class ThemeAppConfigApi(PortalApi):
    @extend_schema(
        operation_id="theme_app_config",
        responses={200: serializers.DictField()},
        description="An Expo app-config fragment (6-digit hex colours) from the published theme.",
    )
    def get(self, request):
        version = _published()
        return Response(emitters.app_config(version.tokens, version.number))


class BrandOutput(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = [
            *COLOUR_ROLES,
            *(f"dark_{r}" for r in COLOUR_ROLES),
            "font",
            "header_style",
            "class_list_layout",
            "corner_radius",
            "density",
            "logo",
            "favicon",
            "app_icon",
            "updated_at",
        ]


class StaffThemeDraftApi(PortalApi):
    permission_classes = [staff_permission("edit_theme")]

    @extend_schema(operation_id="staff_theme_draft", responses=BrandOutput)
    def get(self, request):
        return Response(BrandOutput(services.brand_get()).data)

    @extend_schema(
        operation_id="staff_theme_draft_update",
        request=serializers.DictField(),
        responses=BrandOutput,
        description="Change draft fields (colours as #rrggbb, font, layout choices, corner_radius "
        "0-24). Errors name the field: `invalid_colour`, `font_not_offered`, `invalid_choice`, "
        "`radius_out_of_range`, `dark_scheme_incomplete`, `unknown_field`.",
    )
    def patch(self, request):
        if not isinstance(request.data, dict):
            raise ApplicationError("invalid_input", "Send an object of brand fields.")
        brand = services.brand_update(**request.data)
        return Response(BrandOutput(brand).data)


class StaffThemeImageApi(PortalApi):
    permission_classes = [staff_permission("edit_theme")]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="staff_theme_image_upload",
        request={
            "multipart/form-data": inline_serializer(
                "BrandImage", {"file": serializers.FileField()}
            )
        },
        responses=BrandOutput,
        description="Upload the logo, favicon or app_icon (PNG, JPEG or WebP; no SVG; at most "
        "5 MB; the app icon a 1024x1024 PNG). Errors: `image_too_large`, "
        "`image_type_unsupported`, `image_type_mismatch`, `image_size_invalid`.",
    )
    def post(self, request, field: str):
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError(
                "invalid_input",
                "Send the image as the “file” field.",
                fields={"file": ["Required."]},
            )
        if upload.size > services.MAX_IMAGE_BYTES:
            raise ApplicationError(
                "image_too_large",
                "Images may be at most 5 MB.",
                fields={field: ["Images may be at most 5 MB."]},
            )
        brand = services.brand_image_upload(field=field, name=upload.name, data=upload.read())
        return Response(BrandOutput(brand).data)

    @extend_schema(
        operation_id="staff_theme_image_remove",
        responses={200: BrandOutput},
        description="Take the logo, favicon or app_icon off the draft (published versions keep "
        "theirs until the next publish). `unknown_field` (400) for another name.",
    )
    def delete(self, request, field: str):
        return Response(BrandOutput(services.brand_image_remove(field=field)).data)


class ContrastFailureOutput(serializers.Serializer):
    pair = serializers.CharField()
    field = serializers.CharField(help_text="The draft colour the suggested fix changes.")
    foreground = serializers.CharField()
    background = serializers.CharField()
    ratio = serializers.FloatField()
    required = serializers.FloatField()  # type: ignore[assignment]  # a field, not Field.required
    suggestion = serializers.CharField()


class ContrastOutput(serializers.Serializer):
    passes = serializers.BooleanField()
    failures = ContrastFailureOutput(many=True)


class StaffThemeContrastApi(PortalApi):
    permission_classes = [staff_permission("edit_theme")]

    @extend_schema(
        operation_id="staff_theme_contrast",
        responses=ContrastOutput,
        description="The draft's WCAG 2.2 AA check: each failing pair, its ratio, what it needs "
        "and the nearest colour that passes.",
    )
    def get(self, request):
        failures = services.brand_contrast_check()
        return Response({"passes": not failures, "failures": failures})


class ContrastFixOutput(serializers.Serializer):
    draft = BrandOutput()
    contrast = ContrastOutput()


class StaffThemeContrastFixApi(PortalApi):
    permission_classes = [staff_permission("edit_theme")]

    class Input(serializers.Serializer):
        fields = serializers.ListField(  # type: ignore[assignment]  # the field named "fields"
            child=serializers.CharField(max_length=32),
            required=False,
            max_length=20,
            help_text='Only fix these colours (e.g. ["text"]); all failing ones by default.',
        )

    @extend_schema(
        operation_id="staff_theme_contrast_fix",
        request=Input,
        responses=ContrastFixOutput,
        description="Apply the suggested colours to the draft in one edit. `unknown_field` "
        "(400) for a name that is not a colour a fix changes.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        brand = services.brand_contrast_fix(fields=data.validated_data.get("fields"))
        failures = services.brand_contrast_check()
        return Response(
            {
                "draft": BrandOutput(brand).data,
                "contrast": {"passes": not failures, "failures": failures},
            }
        )


class VersionOutput(serializers.ModelSerializer):
    runtime_changes = serializers.SerializerMethodField()
    binary_changes = serializers.SerializerMethodField()

    class Meta:
        model = ThemeVersion
        fields = [
            "number",
            "published_at",
            "published_by",
            "changed_fields",
            "needs_app_build",
            "runtime_changes",
            "binary_changes",
            "rolled_back_to",
            "etag",
        ]

    def get_runtime_changes(self, version) -> list[str]:
        return [f for f in version.changed_fields if f in RUNTIME_FIELDS]

    def get_binary_changes(self, version) -> list[str]:
        return [f for f in version.changed_fields if f in BINARY_FIELDS]


class StaffThemePublishApi(PortalApi):
    permission_classes = [staff_permission("publish_theme")]

    @extend_schema(
        operation_id="staff_theme_publish",
        request=None,
        responses={201: VersionOutput},
        description="Publish the draft as the next version. `contrast_failed` (400) lists each "
        "failing pair with its ratio and a suggested colour. The answer says which changes "
        "reach the apps at once and which need a new branded-app build.",
    )
    def post(self, request):
        version = services.theme_publish(published_by=request.user.email)
        return Response(VersionOutput(version).data, status=status.HTTP_201_CREATED)


class StaffThemeVersionsApi(PortalApi):
    permission_classes = [staff_permission("edit_theme")]

    @extend_schema(operation_id="staff_theme_versions", responses=VersionOutput(many=True))
    def get(self, request):
        return Response(VersionOutput(ThemeVersion.objects.all(), many=True).data)


class StaffThemeRollbackApi(PortalApi):
    permission_classes = [staff_permission("publish_theme")]

    @extend_schema(
        operation_id="staff_theme_rollback",
        request=None,
        responses={201: VersionOutput},
        description="Publish again what version `number` published, as the next version; the "
        "draft becomes it too. `theme_version_not_found` (404) for a number this business never "
        "published.",
    )
    def post(self, request, number: int):
        version = services.theme_rollback(number=number, published_by=request.user.email)
        return Response(VersionOutput(version).data, status=status.HTTP_201_CREATED)
