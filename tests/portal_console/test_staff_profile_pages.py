"""/console/settings/staff/: owners and managers choose who appears on the public staff page,
edit bios, upload and remove photos and list private-lesson times; /staff/ and /api/v1/staff
show it under the business's visibility switches; other roles and other businesses get
nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image

from kernel.users.models import User
from portal.catalog.models import StaffProfile
from portal.config.services import portal_settings_update
from tests.factories import LocationFactory, StaffFactory
from tests.helpers import client_for, host_of, make_actor

pytestmark = pytest.mark.django_db
URL = "/console/settings/staff/"


def signed_in(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def owner_client(in_tenant_a):
    return signed_in(in_tenant_a, User.objects.get(email=in_tenant_a.owner_email))


def jpeg(side: int = 300) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile("coach.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_the_owner_edits_a_bio_and_families_see_it(in_tenant_a, owner_client):
    coach = StaffFactory(display_name="Coach Lee", bio="Old bio.")
    page = owner_client.get(URL).content.decode()
    assert "Coach Lee" in page and "Old bio." in page
    saved = owner_client.post(
        f"{URL}{coach.pk}",
        {
            "display_name": "Coach Lee",
            "title": "Head coach",
            "bio": "Ten years on beam.",
            "sort_order": "1",
            "is_active": "on",
        },
    )
    assert saved.status_code == 302
    visitor = Client(HTTP_HOST=host_of(in_tenant_a))
    public = visitor.get("/staff/").content.decode()
    assert "Ten years on beam." in public and "Head coach" in public
    api = client_for(in_tenant_a).get("/api/v1/staff").json()
    assert [(s["display_name"], s["bio"]) for s in api] == [("Coach Lee", "Ten years on beam.")]
    # Hidden: gone from the page and the API, still in the console.
    owner_client.post(f"{URL}{coach.pk}", {"display_name": "Coach Lee", "bio": "x"})
    assert "Coach Lee" not in visitor.get("/staff/").content.decode()
    assert client_for(in_tenant_a).get("/api/v1/staff").json() == []
    assert "Coach Lee" in owner_client.get(URL).content.decode()


def test_add_someone(in_tenant_a, owner_client):
    added = owner_client.post(
        URL, {"display_name": "Coach Kim", "bio": "New here.", "is_active": "on"}
    )
    assert added.status_code == 302
    assert StaffProfile.objects.get().display_name == "Coach Kim"
    refused = owner_client.post(URL, {"display_name": "", "is_active": "on"})
    assert refused.status_code == 400 and "This field may not be blank." in refused.content.decode()
    assert StaffProfile.objects.count() == 1


def test_photo_upload_and_remove(in_tenant_a, owner_client):
    coach = StaffFactory(display_name="Coach Lee")
    uploaded = owner_client.post(f"{URL}{coach.pk}/photo", {"photo": jpeg()})
    assert uploaded.status_code == 302
    coach.refresh_from_db()
    path = f"/media/{coach.photo.name}"
    public = Client(HTTP_HOST=host_of(in_tenant_a)).get("/staff/").content.decode()
    assert f'src="{path}"' in public and 'alt="Photo of Coach Lee"' in public
    served = Client(HTTP_HOST=host_of(in_tenant_a)).get(path)
    assert served.status_code == 200
    api = client_for(in_tenant_a).get("/api/v1/staff").json()
    assert api[0]["photo_url"].endswith(path)
    # Bios hidden by the business: no photo either.
    portal_settings_update(staff_bios_visible=False)
    hidden = Client(HTTP_HOST=host_of(in_tenant_a)).get("/staff/").content.decode()
    assert path not in hidden
    assert client_for(in_tenant_a).get("/api/v1/staff").json()[0]["photo_url"] is None
    portal_settings_update(staff_bios_visible=True)
    removed = owner_client.post(f"{URL}{coach.pk}/photo", {"action": "remove"})
    assert removed.status_code == 302
    coach.refresh_from_db()
    assert coach.photo.name == ""


def test_bad_photo_is_refused(in_tenant_a, owner_client):
    coach = StaffFactory()
    svg = SimpleUploadedFile("x.svg", b"<svg></svg>", content_type="image/svg+xml")
    refused = owner_client.post(f"{URL}{coach.pk}/photo", {"photo": svg})
    assert refused.status_code == 400
    assert "SVG images are not accepted" in refused.content.decode()
    nothing = owner_client.post(f"{URL}{coach.pk}/photo", {})
    assert nothing.status_code == 400 and "Choose a photo to upload." in nothing.content.decode()
    missing = owner_client.post(f"{URL}999999/photo", {"photo": jpeg()})
    assert missing.status_code == 404 and "No such staff member." in missing.content.decode()
    coach.refresh_from_db()
    assert coach.photo.name == ""


def test_availability_add_remove_and_visibility(in_tenant_a, owner_client):
    coach = StaffFactory(display_name="Coach Lee")
    gym = LocationFactory(name="North gym")
    added = owner_client.post(
        f"{URL}{coach.pk}/availability",
        {
            "action": "add",
            "day": "tue",
            "start_time": "16:00",
            "end_time": "18:00",
            "location": str(gym.pk),
            "note": "Privates",
        },
    )
    assert added.status_code == 302
    slot = coach.availability.get()
    assert (slot.weekday, slot.location_id, slot.note) == (1, gym.pk, "Privates")
    visitor = Client(HTTP_HOST=host_of(in_tenant_a))
    assert "North gym" not in visitor.get("/staff/").content.decode()  # hidden by default
    portal_settings_update(staff_availability_visible=True)
    assert "North gym" in visitor.get("/staff/").content.decode()
    api = client_for(in_tenant_a).get("/api/v1/staff").json()[0]["availability"]
    assert api == [
        {
            "day": "tue",
            "start_time": "16:00",
            "end_time": "18:00",
            "location": "North gym",
            "note": "Privates",
        }
    ]
    for bad, message in (
        ({"day": "someday"}, "is not a valid choice."),
        ({"end_time": "15:00"}, "The time must end after it starts."),
        ({"start_time": "late"}, "Time has wrong format."),
        ({"location": "999999"}, "Choose a location of this business."),
    ):
        form = {"action": "add", "day": "wed", "start_time": "16:00", "end_time": "18:00", **bad}
        response = owner_client.post(f"{URL}{coach.pk}/availability", form)
        assert response.status_code == 400 and message in response.content.decode(), bad
    assert coach.availability.count() == 1
    gone = owner_client.post(
        f"{URL}{coach.pk}/availability", {"action": "remove", "slot": str(slot.pk)}
    )
    assert gone.status_code == 302 and not coach.availability.exists()
    again = owner_client.post(
        f"{URL}{coach.pk}/availability", {"action": "remove", "slot": str(slot.pk)}
    )
    assert again.status_code == 404


def test_other_roles_and_businesses_get_nothing(in_tenant_a, tenant_b, owner_client):
    coach = StaffFactory(display_name="Alpha coach", bio="Alpha bio")
    for role in ("coach", "front_desk"):
        actor = make_actor(in_tenant_a, email=f"{role}@alpha.test", role=role)
        client = signed_in(in_tenant_a, actor.user)
        assert client.get(URL).status_code == 403
        assert client.post(f"{URL}{coach.pk}", {"display_name": "Sneaky"}).status_code == 403
        assert client.post(f"{URL}{coach.pk}/photo", {"photo": jpeg()}).status_code == 403
        assert client.post(f"{URL}{coach.pk}/availability", {"action": "add"}).status_code == 403
    owner_client.defaults["HTTP_HOST"] = host_of(tenant_b)
    on_b = owner_client.post(f"{URL}{coach.pk}", {"display_name": "Sneaky"})
    assert on_b.status_code == 302 and "/console/login/" in on_b["Location"]
    connection.set_tenant(in_tenant_a)
    coach.refresh_from_db()
    assert coach.display_name == "Alpha coach" and coach.photo.name == ""
