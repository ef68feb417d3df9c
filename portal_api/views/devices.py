from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from portal.push import services
from portal.push.models import PushDevice

from .base import FamilyApi


class DeviceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform = serializers.ChoiceField(choices=PushDevice.Platform.choices)
    app_id = serializers.CharField()
    device_name = serializers.CharField()
    locale = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()


class DeviceListApi(FamilyApi):
    class Input(serializers.Serializer):
        token = serializers.CharField(max_length=200, help_text="ExponentPushToken[...]")
        platform = serializers.CharField(max_length=20, help_text="ios, android or web.")
        app_id = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default="",
            help_text="The app's bundle id (a branded app's, or the shared app's).",
        )  # fmt: skip
        device_name = serializers.CharField(
            max_length=100, required=False, allow_blank=True, default=""
        )
        locale = serializers.CharField(
            max_length=10, required=False, default="en",
            help_text="Language of the notifications: en or es.",
        )  # fmt: skip

    @extend_schema(
        operation_id="devices_list",
        responses=DeviceOutput(many=True),
        description="The devices that get your push notifications.",
    )
    def get(self, request):
        devices = services.device_list(guardian=request.guardian)
        return Response(DeviceOutput(devices, many=True).data)

    @extend_schema(
        operation_id="devices_register",
        request=Input,
        responses={201: DeviceOutput},
        description="Register this app's Expo push token for waitlist offers, cart-expiry "
        "warnings, request decisions, payment failures and announcements. Registering a known "
        "token again refreshes it (and moves it to you). Errors: `push_token_invalid`, "
        "`platform_invalid`.",
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.device_register(guardian=request.guardian, **data.validated_data)
        return Response(DeviceOutput(device).data, status=status.HTTP_201_CREATED)


class DeviceDetailApi(FamilyApi):
    @extend_schema(
        operation_id="devices_remove",
        responses={204: None},
        description="Stop pushing to this device (the app does it when you sign out). "
        "`device_not_found` (404).",
    )
    def delete(self, request, device_id: int):
        services.device_remove(guardian=request.guardian, device_id=device_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
