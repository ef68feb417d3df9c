"""Input schema of a family's request (absence, makeup, transfer, drop): the API's request body
and the web portal's forms validate with it, so both refuse the same things with the same field
messages; the rules are ``portal.requests.services``'."""

from __future__ import annotations

from rest_framework import serializers

from .models import Request


class RequestInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=Request.Type.values)
    enrollment = serializers.IntegerField(required=False, min_value=1)
    meeting_date = serializers.DateField(required=False)
    offering = serializers.IntegerField(required=False, min_value=1)
    makeup_token = serializers.IntegerField(required=False, min_value=1)
    effective_date = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    NEEDS = {
        "absence": ("enrollment", "meeting_date"),
        "makeup": ("makeup_token", "offering", "meeting_date"),
        "transfer": ("enrollment", "offering"),
        "drop": ("enrollment", "effective_date"),
    }

    def validate(self, attrs):
        missing = [f for f in self.NEEDS[attrs["type"]] if f not in attrs]
        if missing:
            raise serializers.ValidationError({f: ["This field is required."] for f in missing})
        return attrs
