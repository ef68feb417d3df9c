"""Staff manage their portal's custom domains (tenant host): add, verify by DNS TXT record,
make primary, remove. The rules live in tenants.domains."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from tenants import domains as domain_services
from tenants.models import Domain

from .base import PortalApi


class DomainOutput(serializers.ModelSerializer):
    verified = serializers.BooleanField(source="is_verified")
    verification = serializers.SerializerMethodField()

    class Meta:
        model = Domain
        fields = [
            "id",
            "domain",
            "is_custom",
            "is_primary",
            "verified",
            "verified_at",
            "verification",
            "last_checked_at",
            "last_check_error",
            "created_at",
        ]

    @extend_schema_field(
        inline_serializer(
            "DomainVerification",
            {
                "type": serializers.ChoiceField(choices=["TXT"]),
                "name": serializers.CharField(),
                "value": serializers.CharField(),
            },
            allow_null=True,
        )
    )
    def get_verification(self, domain: Domain) -> dict | None:
        """The DNS record to add (custom domains not yet verified)."""
        if not domain.is_custom or domain.verified_at is not None:
            return None
        return {
            "type": "TXT",
            "name": domain_services.record_name(domain.domain),
            "value": domain_services.record_value(domain.verification_token),
        }


class DomainInput(serializers.Serializer):
    domain = serializers.CharField(max_length=300, help_text="e.g. portal.example.com")


_ERRORS = (
    "Errors: `domain_invalid`, `domain_platform_reserved`, `domain_already_added` (409), "
    "`domain_taken` (409), `domain_limit_reached` (409)."
)


class StaffDomainListApi(PortalApi):
    permission_classes = [staff_permission("manage_domains")]

    @extend_schema(operation_id="staff_domains_list", responses=DomainOutput(many=True))
    def get(self, request):
        domains = domain_services.domain_list(tenant=self.tenant)
        return Response(DomainOutput(domains, many=True).data)

    @extend_schema(
        operation_id="staff_domains_add",
        request=DomainInput,
        responses={201: DomainOutput},
        description="Claims a domain: it routes once verified. Add the TXT record in "
        f"`verification`, then POST `.../verify`. {_ERRORS}",
    )
    def post(self, request):
        data = DomainInput(data=request.data)
        data.is_valid(raise_exception=True)
        domain = domain_services.domain_add(
            tenant=self.tenant, domain=data.validated_data["domain"]
        )
        return Response(DomainOutput(domain).data, status=status.HTTP_201_CREATED)


class StaffDomainDetailApi(PortalApi):
    permission_classes = [staff_permission("manage_domains")]

    @extend_schema(operation_id="staff_domains_retrieve", responses=DomainOutput)
    def get(self, request, domain_id: int):
        domain = domain_services.domain_get(tenant=self.tenant, domain_id=domain_id)
        return Response(DomainOutput(domain).data)

    @extend_schema(
        operation_id="staff_domains_remove",
        responses={204: None},
        description="Errors: `domain_not_found` (404), `domain_protected` (409: the platform "
        "address). Removing the primary domain makes the platform address primary again.",
    )
    def delete(self, request, domain_id: int):
        domain = domain_services.domain_get(tenant=self.tenant, domain_id=domain_id)
        domain_services.domain_remove(domain=domain)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffDomainVerifyApi(PortalApi):
    permission_classes = [staff_permission("manage_domains")]

    @extend_schema(
        operation_id="staff_domains_verify",
        request=None,
        responses=DomainOutput,
        description="Looks up the TXT record now. Errors: `domain_verification_record_missing`, "
        "`domain_verification_mismatch`, `domain_verification_unavailable` (503).",
    )
    def post(self, request, domain_id: int):
        domain = domain_services.domain_get(tenant=self.tenant, domain_id=domain_id)
        return Response(DomainOutput(domain_services.domain_verify(domain=domain)).data)


class StaffDomainPrimaryApi(PortalApi):
    permission_classes = [staff_permission("manage_domains")]

    @extend_schema(
        operation_id="staff_domains_make_primary",
        request=None,
        responses=DomainOutput,
        description="Links (emails, API URLs, the theme) use the primary domain. Errors: "
        "`domain_not_verified` (409).",
    )
    def post(self, request, domain_id: int):
        domain = domain_services.domain_get(tenant=self.tenant, domain_id=domain_id)
        return Response(DomainOutput(domain_services.domain_make_primary(domain=domain)).data)
