"""Staff bios, photos and availability: one set of services for the console and the staff
API; photos checked for what they are and re-encoded without their EXIF data, stored under the
business's prefix; bad input refused with a stable code and nothing changed."""

from __future__ import annotations

import io
from datetime import time

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from kernel.errors import ApplicationError
from portal.catalog.models import AvailabilitySlot, StaffProfile
from portal.privacy.models import AuditEntry
from portal.staff.profiles import (
    staff_availability_add,
    staff_availability_remove,
    staff_availability_set,
    staff_photo_remove,
    staff_photo_upload,
    staff_profile_save,
)
from tests.factories import LocationFactory, StaffFactory

pytestmark = pytest.mark.django_db


def image(width: int = 300, height: int = 300, fmt: str = "JPEG", exif: bool = False) -> bytes:
    buffer = io.BytesIO()
    picture = Image.new("RGB", (width, height), (20, 80, 160))
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude
        picture.save(buffer, fmt, exif=data)
    else:
        picture.save(buffer, fmt)
    return buffer.getvalue()


def test_save_adds_and_changes_and_audits(in_tenant_a):
    added = staff_profile_save(values={"display_name": "Coach Lee", "bio": "Loves bars."})
    assert added.is_active and added.bio == "Loves bars."
    changed = staff_profile_save(
        staff_id=added.pk, values={"title": "Head coach", "is_active": False}
    )
    assert (changed.title, changed.is_active, changed.bio) == ("Head coach", False, "Loves bars.")
    assert AuditEntry.objects.filter(action="staff_profile_save").count() == 2
    with pytest.raises(ApplicationError) as refused:
        staff_profile_save(staff_id=added.pk, values={"display_name": ""})
    assert refused.value.code == "invalid_input" and "display_name" in refused.value.fields
    assert StaffProfile.objects.get().display_name == "Coach Lee"
    with pytest.raises(ApplicationError) as missing:
        staff_profile_save(staff_id=999999, values={"bio": "x"})
    assert (missing.value.code, missing.value.status) == ("staff_profile_not_found", 404)


def test_a_photo_is_re_encoded_without_its_exif_under_the_business_prefix(in_tenant_a):
    coach = StaffFactory(display_name="Coach Lee")
    raw = image(2000, 1500, exif=True)
    assert b"SecretCam" in raw
    saved = staff_photo_upload(staff_id=coach.pk, name="lee.jpg", data=raw)
    assert saved.photo.name.startswith(f"{in_tenant_a.schema_name}/staff/{coach.pk}-")
    stored = default_storage.open(saved.photo.name).read()
    assert b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert kept.format == "JPEG" and max(kept.size) == 800
        assert not kept.getexif()
    assert AuditEntry.objects.filter(action="staff_photo_upload").count() == 1
    removed = staff_photo_remove(staff_id=coach.pk)
    assert removed.photo.name == ""
    assert AuditEntry.objects.filter(action="staff_photo_remove").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("x.png", b"", "invalid_input"),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "image_type_unsupported"),
        ("x.jpg", b"not an image at all", "image_type_unsupported"),
        ("x.png", image(fmt="JPEG"), "image_type_mismatch"),
        ("x.jpg", image(40, 40), "image_size_invalid"),
        ("x.gif", image(fmt="GIF"), "image_type_unsupported"),
        ("x.jpg", b"\xff" * (5 * 1024 * 1024 + 1), "image_too_large"),
    ],
)
def test_bad_photos_are_refused_and_change_nothing(in_tenant_a, name, data, code):
    coach = StaffFactory()
    with pytest.raises(ApplicationError) as refused:
        staff_photo_upload(staff_id=coach.pk, name=name, data=data)
    assert refused.value.code == code and "photo" in refused.value.fields
    coach.refresh_from_db()
    assert coach.photo.name == ""


def test_a_decompression_bomb_is_refused_before_decoding(in_tenant_a):
    coach = StaffFactory()
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, "PNG")  # small file, 25 million pixels
    with pytest.raises(ApplicationError) as refused:
        staff_photo_upload(staff_id=coach.pk, name="bomb.png", data=buffer.getvalue())
    assert refused.value.code == "image_size_invalid"


def test_photo_of_nobody_is_404(in_tenant_a):
    with pytest.raises(ApplicationError) as refused:
        staff_photo_upload(staff_id=999999, name="x.jpg", data=image())
    assert refused.value.code == "staff_profile_not_found"


def test_availability_set_add_remove(in_tenant_a):
    coach = StaffFactory()
    gym = LocationFactory(name="North gym")
    slot = {
        "weekday": 1,
        "start_time": time(16),
        "end_time": time(18),
        "location": gym.pk,
        "note": "Privates",
    }
    staff_availability_set(
        staff_id=coach.pk, slots=[slot, {**slot, "weekday": 3, "location": None}]
    )
    assert [(s.weekday, s.location_id) for s in coach.availability.all()] == [
        (1, gym.pk),
        (3, None),
    ]
    added = staff_availability_add(staff_id=coach.pk, slot={**slot, "weekday": 5})
    assert coach.availability.count() == 3
    staff_availability_remove(staff_id=coach.pk, slot_id=added.pk)
    assert coach.availability.count() == 2
    with pytest.raises(ApplicationError) as other:
        staff_availability_remove(staff_id=coach.pk, slot_id=999999)
    assert (other.value.code, other.value.status) == ("availability_slot_not_found", 404)
    for bad, field in (
        ({**slot, "end_time": time(15)}, "slots.1.end_time"),
        ({**slot, "location": 999999}, "slots.1.location"),
    ):
        with pytest.raises(ApplicationError) as refused:
            staff_availability_set(staff_id=coach.pk, slots=[slot, bad])
        assert refused.value.code == "invalid_input" and field in refused.value.fields
    assert coach.availability.count() == 2  # nothing changed by the refusals
    with pytest.raises(ApplicationError) as refused:
        staff_availability_add(staff_id=coach.pk, slot={**slot, "end_time": time(9)})
    assert "end_time" in refused.value.fields
    assert AvailabilitySlot.objects.count() == 2
