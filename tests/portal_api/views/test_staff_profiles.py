"""/api/v1/staff/profiles: the staff page's content over the API (same input schemas, same
services); owner and manager only; bad input a 400 with a stable code that changes nothing;
another business's token means nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from portal.catalog.models import StaffProfile
from tests.factories import LocationFactory, StaffFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, make_actor

pytestmark = pytest.mark.django_db
URL = "/api/v1/staff/profiles"


@pytest.fixture
def manager(in_tenant_a):
    actor = make_actor(in_tenant_a, email="manager@alpha.test", role="manager")
    connection.set_tenant(in_tenant_a)
    return actor


def png(side: int = 200) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (20, 80, 160)).save(buffer, "PNG")
    return SimpleUploadedFile("coach.png", buffer.getvalue(), content_type="image/png")


def test_create_change_photo_and_times(manager):
    created = manager.client().post(URL, {"display_name": "Coach Kim", "bio": "Hi."}, format="json")
    assert created.status_code == 201, created.content
    staff_id = created.json()["id"]
    assert created.json()["is_active"] is True and created.json()["photo_url"] is None
    changed = manager.client().patch(f"{URL}/{staff_id}", {"is_active": False}, format="json")
    assert changed.json()["is_active"] is False and changed.json()["bio"] == "Hi."
    photo = manager.client().post(f"{URL}/{staff_id}/photo", {"photo": png()}, format="multipart")
    assert photo.status_code == 200, photo.content
    assert "/media/" in photo.json()["photo_url"]
    assert manager.client().delete(f"{URL}/{staff_id}/photo").json()["photo_url"] is None
    gym = LocationFactory(name="North gym")
    times = manager.client().put(
        f"{URL}/{staff_id}/availability",
        {"slots": [{"day": "mon", "start_time": "09:00", "end_time": "10:30", "location": gym.pk}]},
        format="json",
    )
    assert times.status_code == 200, times.content
    (slot,) = times.json()["availability"]
    assert (slot["day"], slot["end_time"], slot["location_id"]) == ("mon", "10:30", gym.pk)
    listed = manager.client().get(URL).json()
    assert [p["display_name"] for p in listed] == ["Coach Kim"]


@pytest.mark.parametrize(
    ("method", "suffix", "data", "code", "field"),
    [
        ("post", "", {}, "invalid_input", "display_name"),
        ("post", "", {"display_name": "x" * 101}, "invalid_input", "display_name"),
        ("post", "", {"display_name": "A", "sort_order": -1}, "invalid_input", "sort_order"),
        ("patch", "/{id}", {"is_active": "perhaps"}, "invalid_input", "is_active"),
        (
            "put",
            "/{id}/availability",
            {"slots": [{"day": "xyz", "start_time": "09:00", "end_time": "10:00"}]},
            "invalid_input",
            "slots",
        ),
        (
            "put",
            "/{id}/availability",
            {"slots": [{"day": "mon", "start_time": "09:00", "end_time": "08:00"}]},
            "invalid_input",
            "slots.0.end_time",
        ),
        ("put", "/{id}/availability", {"slots": "all week"}, "invalid_input", "slots"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(manager, method, suffix, data, code, field):
    coach = StaffFactory(display_name="Coach Lee")
    path = URL + suffix.replace("{id}", str(coach.pk))
    response = getattr(manager.client(), method)(path, data, format="json")
    body = assert_error(response, 400, code)
    assert field in body["fields"], body
    coach.refresh_from_db()
    assert coach.display_name == "Coach Lee" and coach.is_active
    assert StaffProfile.objects.count() == 1 and not coach.availability.exists()


def test_bad_photos_and_unknown_ids(manager):
    coach = StaffFactory()
    svg = SimpleUploadedFile("x.svg", b"<svg></svg>", content_type="image/svg+xml")
    assert_error(
        manager.client().post(f"{URL}/{coach.pk}/photo", {"photo": svg}, format="multipart"),
        400,
        "image_type_unsupported",
    )
    assert_error(
        manager.client().post(f"{URL}/{coach.pk}/photo", {}, format="multipart"),
        400,
        "invalid_input",
    )
    assert_error(manager.client().get(f"{URL}/999999"), 404, "staff_profile_not_found")
    assert_error(
        manager.client().patch(f"{URL}/999999", {"bio": "x"}, format="json"),
        404,
        "staff_profile_not_found",
    )
    assert_error(
        manager.client().put(f"{URL}/999999/availability", {"slots": []}, format="json"),
        404,
        "staff_profile_not_found",
    )


def test_roles_and_other_businesses(in_tenant_a, tenant_b):
    coach = StaffFactory(display_name="Alpha coach")
    for role in ("coach", "front_desk"):
        actor = make_actor(in_tenant_a, email=f"{role}@alpha.test", role=role)
        assert_error(actor.client().get(URL), 403, "staff_permission_required")
        assert_error(
            actor.client().patch(f"{URL}/{coach.pk}", {"bio": "x"}, format="json"),
            403,
            "staff_permission_required",
        )
    owner = make_actor(in_tenant_a, email="owner2@alpha.test", role="owner")
    tries = [
        ("get", URL),
        ("patch", f"{URL}/{coach.pk}"),
        ("put", f"{URL}/{coach.pk}/availability"),
        ("delete", f"{URL}/{coach.pk}/photo"),
    ]
    for method, path in tries:
        assert_cross_tenant_denied(
            credentials_client=owner.client(),
            target=tenant_b,
            method=method,
            path=path,
            data={"display_name": "B", "slots": []},
            forbidden_text=["Alpha coach"],
        )
    connection.set_tenant(in_tenant_a)
    assert StaffProfile.objects.get().display_name == "Alpha coach"
