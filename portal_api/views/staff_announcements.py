"""Staff API for announcements and alerts (``/api/v1/staff/announcements``): the console's
page over the API, with the same input schema (portal.config.inputs.AnnouncementInput) and
services. Times without an offset are the business's; answers carry its offset."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from portal.config.announcements import (
    announcement_delete,
    announcement_email_queue,
    announcement_save,
)
from portal.config.inputs import AnnouncementInput, input_validate
from portal.config.models import Announcement
from portal.config.selectors import announcement_staff_get, announcement_staff_list

from .base import PortalApi

EmailProgress = inline_serializer(
    "AnnouncementEmailProgress",
    {
        "families": serializers.IntegerField(help_text="Families the email is queued for."),
        "sent": serializers.IntegerField(help_text="Families it has reached."),
    },
)


class StaffAnnouncementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    kind = serializers.ChoiceField(choices=Announcement.Kind.choices)
    severity = serializers.ChoiceField(choices=Announcement.Severity.choices)
    audience = serializers.ChoiceField(choices=Announcement.Audience.choices)
    programs = serializers.SerializerMethodField()
    link_url = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    is_published = serializers.BooleanField()
    sort_order = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    email = serializers.SerializerMethodField()

    def get_programs(self, announcement) -> list[int]:
        return sorted(p.pk for p in announcement.programs.all())

    @extend_schema_field(EmailProgress)
    def get_email(self, announcement) -> dict:
        return {
            "families": getattr(announcement, "emails_queued", 0),
            "sent": getattr(announcement, "emails_sent", 0),
        }


def _answer(announcement_id: int) -> dict:
    row = announcement_staff_get(announcement_id=announcement_id)
    if row is None:
        raise ApplicationError("announcement_not_found", "No such announcement.", status=404)
    return StaffAnnouncementOutput(row).data


class StaffAnnouncementListApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(
        operation_id="staff_announcements",
        responses=StaffAnnouncementOutput(many=True),
        description="Every announcement, published or not, with its email progress.",
    )
    def get(self, request):
        return Response(StaffAnnouncementOutput(announcement_staff_list(), many=True).data)

    @extend_schema(
        operation_id="staff_announcements_create",
        request=AnnouncementInput,
        responses={201: StaffAnnouncementOutput},
        description="Add an announcement (and email it to its audience with "
        "`email_audience`). Errors: `invalid_input` (400, `fields` names each problem; "
        "nothing is saved), `announcement_not_published` (409: emailing an unpublished one).",
    )
    def post(self, request):
        values = input_validate(AnnouncementInput, request.data)
        announcement = announcement_save(
            values=values, email_audience=values.pop("email_audience", False)
        )
        return Response(_answer(announcement.pk), status=status.HTTP_201_CREATED)


class StaffAnnouncementApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(operation_id="staff_announcements_retrieve", responses=StaffAnnouncementOutput)
    def get(self, request, announcement_id: int):
        return Response(_answer(announcement_id))

    @extend_schema(
        operation_id="staff_announcements_update",
        request=AnnouncementInput(partial=True),
        responses=StaffAnnouncementOutput,
        description="Change some fields; the others stay. Errors: `invalid_input`, "
        "`announcement_not_found` (404), `announcement_not_published` (409).",
    )
    def patch(self, request, announcement_id: int):
        values = input_validate(AnnouncementInput, request.data, partial=True)
        announcement_save(
            announcement_id=announcement_id,
            values=values,
            email_audience=values.pop("email_audience", False),
        )
        return Response(_answer(announcement_id))

    @extend_schema(
        operation_id="staff_announcements_remove",
        responses={204: None},
        description="Families stop seeing it at once. Errors: `announcement_not_found` (404).",
    )
    def delete(self, request, announcement_id: int):
        announcement_delete(announcement_id=announcement_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffAnnouncementEmailApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(
        operation_id="staff_announcements_email",
        request=None,
        responses=inline_serializer(
            "AnnouncementEmailQueued",
            {
                "queued": serializers.IntegerField(help_text="Families queued by this call."),
                "families": serializers.IntegerField(),
                "sent": serializers.IntegerField(),
            },
        ),
        description="Email the announcement to every family of its audience not emailed it "
        "yet (one email per family, sent after the answer; calling again emails nobody twice). "
        "Errors: `announcement_not_found` (404), `announcement_not_published` (409).",
    )
    def post(self, request, announcement_id: int):
        return Response(announcement_email_queue(announcement_id=announcement_id))
