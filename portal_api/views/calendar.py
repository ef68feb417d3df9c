"""The family's private calendar feed URL: see it, (re)generate it, revoke it."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from portal.accounts.models import CalendarFeed
from portal.accounts.services import calendar_feed_regenerate, calendar_feed_revoke

from .base import FamilyApi

FeedOutput = inline_serializer(
    "CalendarFeed",
    {
        "enabled": serializers.BooleanField(),
        "url": serializers.URLField(allow_null=True, help_text="iCalendar (text/calendar)."),
        "webcal_url": serializers.CharField(
            allow_null=True, help_text="The same feed as a webcal:// link for calendar apps."
        ),
        "created_at": serializers.DateTimeField(allow_null=True),
    },
)


def _feed_output(request, feed: CalendarFeed | None) -> dict:
    if feed is None:
        return {"enabled": False, "url": None, "webcal_url": None, "created_at": None}
    url = request.build_absolute_uri(reverse("portal-calendar-feed", kwargs={"token": feed.token}))
    return {
        "enabled": True,
        "url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1],
        "created_at": feed.created_at,
    }


class CalendarFeedApi(FamilyApi):
    @extend_schema(
        operation_id="calendar_feed_get",
        responses=FeedOutput,
        description="The family's private iCalendar feed of its students' meetings, if it is on.",
    )
    def get(self, request):
        feed = CalendarFeed.objects.filter(family=request.guardian.family).first()
        return Response(_feed_output(request, feed))

    @extend_schema(
        operation_id="calendar_feed_regenerate",
        request=None,
        responses={201: FeedOutput},
        description="Turn the feed on, or replace its secret URL: the previous URL answers 404 "
        "from now on.",
    )
    def post(self, request):
        feed = calendar_feed_regenerate(family=request.guardian.family)
        return Response(_feed_output(request, feed), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="calendar_feed_revoke",
        responses={204: None},
        description="Turn the feed off: its URL answers 404.",
    )
    def delete(self, request):
        calendar_feed_revoke(family=request.guardian.family)
        return Response(status=status.HTTP_204_NO_CONTENT)
