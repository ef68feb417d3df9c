"""Input schemas of the content settings staff edit (announcements): the staff API's request
bodies and the console's forms validate with them, so both refuse the same things with the same
field messages; the rules beyond one field are ``portal.config.announcements``'."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from kernel.api.exception_handler import _fields
from kernel.errors import ApplicationError

from .models import Announcement


def _in_this_era(value):
    """An announcement's start or end between the years 2000 and 2100: a time in 1634 is a
    typing error, and before 1900 the business's zone has offsets in seconds (local mean time),
    which an answer's ISO 8601 time cannot carry."""
    if value is not None and not 2000 <= value.year <= 2100:
        raise serializers.ValidationError("Enter a time between the years 2000 and 2100.")
    return value


class AnnouncementInput(serializers.Serializer):
    title = serializers.CharField(max_length=150)
    body = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    kind = serializers.ChoiceField(choices=Announcement.Kind.choices, default="banner")
    severity = serializers.ChoiceField(choices=Announcement.Severity.choices, default="info")
    audience = serializers.ChoiceField(choices=Announcement.Audience.choices, default="everyone")
    programs = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=100,
        help_text="Program ids, for the “programs” audience.",
    )
    link_url = serializers.URLField(max_length=200, allow_blank=True, required=False, default="")
    starts_at = serializers.DateTimeField(
        allow_null=True,
        required=False,
        default=None,
        validators=[_in_this_era],
        help_text="Without an offset: the business's time zone. Null: from now on.",
    )
    ends_at = serializers.DateTimeField(
        allow_null=True,
        required=False,
        default=None,
        validators=[_in_this_era],
        help_text="Without an offset: the business's time zone. Null: until removed.",
    )
    is_published = serializers.BooleanField(default=True)
    sort_order = serializers.IntegerField(min_value=0, max_value=9999, default=0)
    email_audience = serializers.BooleanField(
        default=False,
        help_text="Also email it to its audience: one email per family, never twice.",
    )


def input_validate(serializer_class, data, **kwargs) -> dict[str, Any]:
    """The serializer's validated data, or ``invalid_input`` naming each field's problems."""
    serializer = serializer_class(data=data, **kwargs)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    fields = _fields(serializer.errors)
    first = next(iter(fields.values()), ["Invalid input."])
    raise ApplicationError("invalid_input", first[0] if first else "Invalid input.", fields=fields)


class WebsiteEmbedInput(serializers.Serializer):
    """The website widget's options (portal_web.embed): which classes and how they look."""

    program = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    location = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    kind = serializers.ChoiceField(
        choices=["class", "camp", "event"], required=False, allow_blank=True, default=""
    )
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    lang = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        allow_blank=True,
        default="",
        help_text="Empty: the visitor's browser, else the business's language.",
    )
    # Named like the widget's data-style; an input key, not DRF's Field.style option.
    style = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["built-in", "none"],
        default="built-in",
        help_text="“none”: no built-in styles, the website's own CSS applies.",
    )
