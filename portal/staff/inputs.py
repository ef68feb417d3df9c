"""Input schemas of the staff page's content (bios, availability): the staff API's request
bodies and the console's forms validate with them, so both refuse the same things with the
same field messages; the rules beyond one field are ``portal.staff.profiles``'."""

from __future__ import annotations

from rest_framework import serializers

from portal.catalog.models import WEEKDAY_CODES


class StaffProfileInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    bio = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    is_active = serializers.BooleanField(
        default=True, help_text="Shown on the staff page (and as an instructor families can pick)."
    )
    sort_order = serializers.IntegerField(min_value=0, max_value=9999, default=0)


class AvailabilitySlotInput(serializers.Serializer):
    day = serializers.ChoiceField(choices=WEEKDAY_CODES)
    start_time = serializers.TimeField(help_text="HH:MM in the business's time zone.")
    end_time = serializers.TimeField(help_text="HH:MM in the business's time zone.")
    location = serializers.IntegerField(min_value=1, allow_null=True, required=False, default=None)
    note = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")

    def validate(self, attrs):
        attrs["weekday"] = WEEKDAY_CODES.index(attrs.pop("day"))
        return attrs


class StaffAvailabilityInput(serializers.Serializer):
    slots = AvailabilitySlotInput(many=True, help_text="At most 50.")

    def validate_slots(self, value):
        if len(value) > 50:
            raise serializers.ValidationError("List at most 50 times.")
        return value
