from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from .models import CURRENCIES, LOCALES, Tenant


class TenantCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="The business's name.")
    slug = serializers.CharField(
        max_length=200,
        help_text="DNS label and schema name: a-z, 0-9 and '-', starting with a letter, at "
        "most 40 characters, not reserved.",
    )
    # Shapes only; tenants.services validates the values, each rule with its own error code.
    owner_email = serializers.CharField(max_length=254, help_text="Receives the set-password link.")
    contact_email = serializers.CharField(
        max_length=254, required=False, help_text="Shown to families; defaults to owner_email."
    )
    timezone = serializers.CharField(default="America/New_York", max_length=64)
    currency = serializers.CharField(
        default="USD", max_length=3, help_text=f"One of {', '.join(c for c, _ in CURRENCIES)}."
    )
    locale = serializers.CharField(
        default="en", max_length=10, help_text=f"One of {', '.join(c for c, _ in LOCALES)}."
    )
    plan = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="The code of the subscription plan (e.g. starter); none chosen yet if left out.",
    )


class TenantOutput(serializers.ModelSerializer):
    slug = serializers.CharField(source="schema_name")
    portal_url = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()
    domains = serializers.SerializerMethodField()
    plan = serializers.SerializerMethodField(help_text="The plan's code; null: none chosen.")

    class Meta:
        model = Tenant
        fields = [
            "slug",
            "name",
            "status",
            "timezone",
            "currency",
            "locale",
            "contact_email",
            "owner_email",
            "created_at",
            "provisioned_at",
            "status_changed_at",
            "provisioning_error",
            "launched_at",
            "listed_in_directory",
            "plan",
            "portal_url",
            "status_url",
            "domains",
        ]

    def get_portal_url(self, tenant: Tenant) -> str:
        return tenant.url()

    def get_plan(self, tenant: Tenant) -> str | None:
        return tenant.plan.code if tenant.plan else None

    def get_status_url(self, tenant: Tenant) -> str:
        return reverse("platform-tenant-detail", kwargs={"slug": tenant.schema_name})

    def get_domains(self, tenant: Tenant) -> list[str]:
        return sorted(d.domain for d in tenant.domains.all())


class DirectoryEntryOutput(serializers.ModelSerializer):
    slug = serializers.CharField(source="schema_name")
    portal_url = serializers.SerializerMethodField()
    api_base_url = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["slug", "name", "portal_url", "api_base_url", "logo_url"]

    def get_portal_url(self, tenant: Tenant) -> str:
        return tenant.url()

    def get_api_base_url(self, tenant: Tenant) -> str:
        return tenant.url("/api/v1/")


class TokenInput(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False)
    device = serializers.CharField(required=False, default="default", max_length=100)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
