"""Staff bios, photos and availability (the public staff page, ``/staff/`` and
``/api/v1/staff``): which staff appear, their bio and photo, and when they teach private
lessons. Staff edit them in the console (/console/settings/staff/) and the staff API
(``/api/v1/staff/profiles``); both validate with ``portal.staff.inputs`` and write here.

Photos are checked for what they really are (Pillow), re-encoded (which drops EXIF, GPS
included) and stored under the business's prefix (``<schema>/staff/...``, served at /media/ on
its host like the brand's images) before any row is locked: storage may be S3, and no network
call is made while a row lock is held."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction

from kernel.errors import ApplicationError
from portal.catalog.models import AvailabilitySlot, Location, StaffProfile
from portal.photos import MAX_PHOTO_BYTES as MAX_PHOTO_BYTES  # the deliveries check it first
from portal.photos import photo_checked

PROFILE_FIELDS = ("display_name", "title", "bio", "is_active", "sort_order")


def _not_found() -> ApplicationError:
    return ApplicationError("staff_profile_not_found", "No such staff member.", status=404)


def _invalid(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError("invalid_input", next(iter(fields.values()))[0], fields=fields)


def _locked(staff_id: int) -> StaffProfile:
    profile = StaffProfile.objects.select_for_update().filter(pk=staff_id).first()
    if profile is None:
        raise _not_found()
    return profile


def staff_profile_save(*, staff_id: int | None = None, values: dict[str, Any]) -> StaffProfile:
    """Add a staff member to the staff page (``staff_id`` None) or change one: name, title,
    bio, shown or not, position. Refused with ``invalid_input`` or ``staff_profile_not_found``;
    nothing changes then."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        profile = StaffProfile() if staff_id is None else _locked(staff_id)
        for name in PROFILE_FIELDS:
            if name in values:
                setattr(profile, name, values[name])
        try:
            profile.full_clean(exclude=["photo", "user"])
        except ValidationError as exc:
            raise _invalid({k: list(v) for k, v in exc.message_dict.items()}) from None
        profile.save()
        audit_record(
            action="staff_profile_save",
            obj=profile,
            fields={name: getattr(profile, name) for name in PROFILE_FIELDS},
        )
    return profile


def staff_photo_upload(*, staff_id: int, name: str, data: bytes) -> StaffProfile:
    """Check, re-encode and store a staff member's photo, then point the profile at it. The
    previous file stays in storage (a page cached a moment ago may still show it)."""
    from portal.privacy.audit import audit_record

    if not StaffProfile.objects.filter(pk=staff_id).exists():
        raise _not_found()
    encoded, extension = photo_checked(name, data)
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    path = default_storage.save(
        f"{connection.schema_name}/staff/{staff_id}-{digest}.{extension}", io.BytesIO(encoded)
    )
    with transaction.atomic():
        profile = _locked(staff_id)
        profile.photo.name = path
        profile.save(update_fields=["photo"])
        audit_record(action="staff_photo_upload", obj=profile, fields={"photo": path})
    return profile


def staff_photo_remove(*, staff_id: int) -> StaffProfile:
    """Take the photo off the staff page (the file stays in storage)."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        profile = _locked(staff_id)
        old = profile.photo.name or ""
        profile.photo.name = ""
        profile.save(update_fields=["photo"])
        audit_record(action="staff_photo_remove", obj=profile, fields={"photo": old})
    return profile


def _slot(profile: StaffProfile, values: dict[str, Any], prefix: str) -> AvailabilitySlot:
    location = None
    if values.get("location") is not None:
        location = Location.objects.filter(pk=values["location"]).first()
        if location is None:
            raise _invalid({f"{prefix}location": ["Choose a location of this business."]})
    if values["end_time"] <= values["start_time"]:
        raise _invalid({f"{prefix}end_time": ["The time must end after it starts."]})
    return AvailabilitySlot(
        staff=profile,
        weekday=values["weekday"],
        start_time=values["start_time"],
        end_time=values["end_time"],
        location=location,
        note=values.get("note", ""),
    )


def staff_availability_set(*, staff_id: int, slots: list[dict[str, Any]]) -> StaffProfile:
    """Replace a staff member's private-lesson times with ``slots`` (validated input:
    ``weekday`` 0-6, ``start_time``, ``end_time``, ``location`` id or None, ``note``)."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        profile = _locked(staff_id)
        rows = [_slot(profile, values, f"slots.{i}.") for i, values in enumerate(slots)]
        profile.availability.all().delete()
        AvailabilitySlot.objects.bulk_create(rows)
        audit_record(
            action="staff_availability_set",
            obj=profile,
            fields={"slots": [str(row) for row in rows]},
        )
    return profile


def staff_availability_add(*, staff_id: int, slot: dict[str, Any]) -> AvailabilitySlot:
    """Add one private-lesson time (the console's “Add a time”)."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        profile = _locked(staff_id)
        row = _slot(profile, slot, "")
        row.save()
        audit_record(action="staff_availability_add", obj=profile, fields={"slot": str(row)})
    return row


def staff_availability_remove(*, staff_id: int, slot_id: int) -> None:
    """Remove one private-lesson time; ``availability_slot_not_found`` for another's."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        profile = _locked(staff_id)
        row = profile.availability.filter(pk=slot_id).first()
        if row is None:
            raise ApplicationError(
                "availability_slot_not_found", "No such time for this staff member.", status=404
            )
        audit_record(action="staff_availability_remove", obj=profile, fields={"slot": str(row)})
        row.delete()
