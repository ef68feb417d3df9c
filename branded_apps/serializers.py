from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from .models import AppBuild, AppListing, BrandedApp


class AppOutput(serializers.ModelSerializer):
    build_needed = serializers.SerializerMethodField()

    class Meta:
        model = BrandedApp
        fields = [
            "display_name",
            "ios_bundle_id",
            "android_package",
            "scheme",
            "version",
            "primary_locale",
            "support_url",
            "marketing_url",
            "privacy_url",
            "identifiers_locked",
            "updated_at",
            "build_needed",
        ]

    @extend_schema_field(
        inline_serializer(
            "BuildNeeded",
            {
                "needed": serializers.BooleanField(),
                "reasons": serializers.ListField(
                    child=serializers.CharField(),
                    help_text="The binary fields that changed since the last ready build, or "
                    "`no_build_yet`.",
                ),
                "last_ready_build": serializers.IntegerField(allow_null=True),
            },
        )
    )
    def get_build_needed(self, app) -> dict:
        return self.context["build_needed"]


class ListingOutput(serializers.ModelSerializer):
    class Meta:
        model = AppListing
        fields = [
            "locale",
            "name",
            "subtitle",
            "keywords",
            "promotional_text",
            "description",
            "play_short_description",
            "play_full_description",
            "release_notes",
        ]


class BuildOutput(serializers.ModelSerializer):
    version = serializers.SerializerMethodField()
    retryable = serializers.BooleanField(read_only=True)

    class Meta:
        model = AppBuild
        fields = [
            "number",
            "status",
            "progress",
            "step",
            "failure_code",
            "failure_reason",
            "retryable",
            "attempts",
            "version",
            "theme_version",
            "bundle_sha256",
            "bundle_bytes",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
        ]

    def get_version(self, build) -> str:
        return build.inputs["app"]["version"]


class BuildDetailOutput(BuildOutput):
    download = serializers.SerializerMethodField()
    manifest = serializers.JSONField()

    class Meta(BuildOutput.Meta):
        fields = [*BuildOutput.Meta.fields, "download", "manifest"]

    @extend_schema_field(
        inline_serializer(
            "BuildDownload",
            {"url": serializers.CharField(), "expires_at": serializers.DateTimeField()},
            allow_null=True,
        )
    )
    def get_download(self, build) -> dict | None:
        from .services import build_download_url

        if build.status != AppBuild.Status.READY:
            return None
        link = build_download_url(build)
        expires_at = timezone.localtime(link["expires_at"])
        return {"url": link["url"], "expires_at": expires_at.isoformat()}


class PreflightProblem(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()
    blocking = serializers.BooleanField()


class PreflightOutput(serializers.Serializer):
    ready = serializers.BooleanField()
    blocking = PreflightProblem(many=True)
    warnings = PreflightProblem(many=True)
