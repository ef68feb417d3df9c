"""Staff API for the portal settings (``/api/v1/staff/settings``): the same fields, groups and
rules as the console's settings pages (portal.config.settings_schema), written through the same
service. Amounts in minor units of the business's currency, times in its zone with the offset."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from portal.config.models import PortalSettings
from portal.config.selectors import portal_settings_get
from portal.config.services import portal_settings_change, settings_fields_check
from portal.config.settings_schema import EDITABLE_FIELDS, GROUPS, PAGES

from .base import PortalApi


class StaffSettingsSerializer(serializers.ModelSerializer):
    """Every setting staff may change, typed from the model (choices, bounds, help text)."""

    class Meta:
        model = PortalSettings
        fields = EDITABLE_FIELDS


class StaffSettingsApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(
        operation_id="staff_settings",
        responses=inline_serializer(
            "StaffSettingsAnswer",
            {
                "settings": StaffSettingsSerializer(),
                "pages": inline_serializer(
                    "StaffSettingsPage",
                    {
                        "key": serializers.CharField(),
                        "group": serializers.ChoiceField(choices=list(GROUPS)),
                        "title": serializers.CharField(),
                        "fields": serializers.ListField(child=serializers.CharField()),
                        "preview_path": serializers.CharField(),
                    },
                    many=True,
                ),
                "currency": serializers.CharField(),
                "timezone": serializers.CharField(),
            },
        ),
        description="The business's portal settings and how the console groups them. Amounts "
        "(gift_certificate_*) in minor units; times in the business's zone.",
    )
    def get(self, request):
        return Response(self._answer(portal_settings_get()))

    @extend_schema(
        operation_id="staff_settings_update",
        request=StaffSettingsSerializer(partial=True),
        responses=StaffSettingsSerializer,
        description="Change some settings; the others stay. Validated as on the console's pages: "
        "`invalid_input` (400, `fields` says which and why; nothing changes), `unknown_field` "
        "(400, a name that is not a setting staff can change, e.g. the platform's "
        "class_search_rate_limit).",
    )
    def patch(self, request):
        if not isinstance(request.data, dict):
            raise ApplicationError("invalid_input", "Send an object of settings.")
        settings_fields_check(names=list(request.data))
        data = StaffSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = portal_settings_change(changes=dict(data.validated_data))
        return Response(StaffSettingsSerializer(row).data)

    def _answer(self, row: PortalSettings) -> dict:
        return {
            "settings": StaffSettingsSerializer(row).data,
            "pages": [
                {
                    "key": page.key,
                    "group": page.group,
                    "title": str(page.title),
                    "fields": list(page.fields),
                    "preview_path": page.preview_path,
                }
                for page in PAGES
            ],
            "currency": self.tenant.currency,
            "timezone": self.tenant.timezone,
        }
