"""Reference shapes the API's views share. The catalog's shapes (offerings, staff) are
``portal.catalog.outputs``; request bodies are the views' Input serializers or the domain's
input schemas (``portal.<app>.inputs``)."""

from __future__ import annotations

from rest_framework import serializers

from portal.catalog.models import WEEKDAY_CODES


class IdNameOutput(serializers.Serializer):
    """A reference by id with a name to show (``StudentRefOutput`` has the first name)."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class StudentRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()


class WeeklyScheduleOutput(serializers.Serializer):
    days = serializers.ListField(child=serializers.ChoiceField(choices=WEEKDAY_CODES))
    start_time = serializers.CharField(help_text="HH:MM in the business's time zone.")
    end_time = serializers.CharField(help_text="HH:MM in the business's time zone.")
