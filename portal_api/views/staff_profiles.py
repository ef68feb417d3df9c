"""Staff API for the staff page's content (``/api/v1/staff/profiles``): who appears, bios,
photos and private-lesson times; the console's page over the API, with the same input schemas
(portal.staff.inputs) and services (portal.staff.profiles). Families read the result through
``/api/v1/staff``, under the business's visibility switches."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from kernel.api.permissions import staff_permission
from kernel.errors import ApplicationError
from kernel.storage import media_absolute_url
from portal.catalog.models import WEEKDAY_CODES
from portal.catalog.outputs import StaffAvailabilityOutput
from portal.config.inputs import input_validate
from portal.staff.inputs import StaffAvailabilityInput, StaffProfileInput
from portal.staff.profiles import (
    MAX_PHOTO_BYTES,
    staff_availability_set,
    staff_photo_remove,
    staff_photo_upload,
    staff_profile_save,
)
from portal.staff.selectors import staff_profile_get, staff_profile_list

from .base import PortalApi


class StaffSlotOutput(StaffAvailabilityOutput):
    id = serializers.IntegerField()
    location_id = serializers.IntegerField(allow_null=True)


class StaffProfileOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    title = serializers.CharField()
    bio = serializers.CharField()
    is_active = serializers.BooleanField(help_text="Shown on the staff page.")
    sort_order = serializers.IntegerField()
    photo_url = serializers.SerializerMethodField()
    availability = serializers.SerializerMethodField()

    def get_photo_url(self, profile) -> str | None:
        return media_absolute_url(profile.photo.name) if profile.photo.name else None

    @extend_schema_field(StaffSlotOutput(many=True))
    def get_availability(self, profile) -> list[dict]:
        return [
            {
                "id": slot.pk,
                "day": WEEKDAY_CODES[slot.weekday],
                "start_time": slot.start_time.strftime("%H:%M"),
                "end_time": slot.end_time.strftime("%H:%M"),
                "location": slot.location.name if slot.location else None,
                "location_id": slot.location_id,
                "note": slot.note,
            }
            for slot in profile.availability.all()
        ]


def _answer(staff_id: int) -> dict:
    profile = staff_profile_get(staff_id=staff_id)
    if profile is None:
        raise ApplicationError("staff_profile_not_found", "No such staff member.", status=404)
    return StaffProfileOutput(profile).data


class StaffProfileListApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(
        operation_id="staff_profiles",
        responses=StaffProfileOutput(many=True),
        description="Everyone on the staff page, shown or not, with bios, photos and times "
        "(whatever the visitors' visibility switches).",
    )
    def get(self, request):
        return Response(StaffProfileOutput(staff_profile_list(), many=True).data)

    @extend_schema(
        operation_id="staff_profiles_create",
        request=StaffProfileInput,
        responses={201: StaffProfileOutput},
        description="Add someone to the staff page. Errors: `invalid_input`.",
    )
    def post(self, request):
        profile = staff_profile_save(values=input_validate(StaffProfileInput, request.data))
        return Response(_answer(profile.pk), status=status.HTTP_201_CREATED)


class StaffProfileApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(operation_id="staff_profiles_retrieve", responses=StaffProfileOutput)
    def get(self, request, staff_id: int):
        return Response(_answer(staff_id))

    @extend_schema(
        operation_id="staff_profiles_update",
        request=StaffProfileInput(partial=True),
        responses=StaffProfileOutput,
        description="Change some fields; the others stay. Errors: `invalid_input`, "
        "`staff_profile_not_found` (404).",
    )
    def patch(self, request, staff_id: int):
        values = input_validate(StaffProfileInput, request.data, partial=True)
        staff_profile_save(staff_id=staff_id, values=values)
        return Response(_answer(staff_id))


class StaffProfileAvailabilityApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]

    @extend_schema(
        operation_id="staff_profiles_availability_set",
        request=StaffAvailabilityInput,
        responses=StaffProfileOutput,
        description="Replace the private-lesson times (times in the business's zone). Errors: "
        "`invalid_input` (`fields` like `slots.0.end_time`), `staff_profile_not_found` (404).",
    )
    def put(self, request, staff_id: int):
        values = input_validate(StaffAvailabilityInput, request.data)
        staff_availability_set(staff_id=staff_id, slots=values["slots"])
        return Response(_answer(staff_id))


class StaffProfilePhotoApi(PortalApi):
    permission_classes = [staff_permission("manage_settings")]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="staff_profiles_photo_upload",
        request={
            "multipart/form-data": inline_serializer(
                "StaffPhoto", {"photo": serializers.FileField()}
            )
        },
        responses=StaffProfileOutput,
        description="Upload the photo (PNG, JPEG or WebP; no SVG; at most 5 MB; at least 64 "
        "pixels a side). It is re-encoded without its EXIF data. Errors: `invalid_input`, "
        "`image_too_large`, `image_type_unsupported`, `image_type_mismatch`, "
        "`image_size_invalid`, `staff_profile_not_found` (404).",
    )
    def post(self, request, staff_id: int):
        upload = request.FILES.get("photo")
        if upload is None:
            raise ApplicationError(
                "invalid_input",
                "Send the image as the “photo” field.",
                fields={"photo": ["Required."]},
            )
        if upload.size > MAX_PHOTO_BYTES:
            raise ApplicationError(
                "image_too_large",
                "Images may be at most 5 MB.",
                fields={"photo": ["Images may be at most 5 MB."]},
            )
        staff_photo_upload(staff_id=staff_id, name=upload.name, data=upload.read())
        return Response(_answer(staff_id))

    @extend_schema(
        operation_id="staff_profiles_photo_remove",
        responses={200: StaffProfileOutput},
        description="Take the photo off the staff page. Errors: `staff_profile_not_found` (404).",
    )
    def delete(self, request, staff_id: int):
        staff_photo_remove(staff_id=staff_id)
        return Response(_answer(staff_id))
