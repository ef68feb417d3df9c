"""Students' photos: families and staff with ``manage_student_photos`` add, replace and remove
them (web page, family API, console, staff API); the file is checked and re-encoded, stored
privately under the business's prefix and opened only through a signed, short-lived link on the
business's own host; bad input is refused with a stable code and nothing stored; coaches see the
photos on their rosters but change nothing; the family's data export carries them and a
completed deletion removes them."""

from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image

from portal.accounts.models import Student
from portal.accounts.photos import student_photo_remove, student_photo_upload
from portal.privacy.models import AuditEntry
from portal.privacy.services import (
    family_deletion_complete,
    family_deletion_request,
    family_export,
)
from tests.factories import GuardianFactory, StudentFactory
from tests.helpers import assert_error, client_for, host_of, make_actor
from tests.portal.attendance_helpers import gym

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_photos_left(tenant_a):
    """Test media is per process: start each test with no student photo files of A."""
    for name in stored(tenant_a.schema_name):
        default_storage.delete(f"{tenant_a.schema_name}/students/{name}")


def image(width: int = 300, height: int = 300, fmt: str = "JPEG", exif: bool = False) -> bytes:
    buffer = io.BytesIO()
    picture = Image.new("RGB", (width, height), (200, 90, 40))
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"
        data[0x8825] = {2: (48.0, 51.0, 24.0)}
        picture.save(buffer, fmt, exif=data)
    else:
        picture.save(buffer, fmt)
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored(schema: str) -> list[str]:
    """The students' photo files in storage for this business."""
    folder = f"{schema}/students"
    if not default_storage.exists(folder):
        return []
    return sorted(default_storage.listdir(folder)[1])


def console_client(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def fetch(client, url: str):
    """GET a photo link (absolute or not) with the client's host."""
    path = url.split("://", 1)[-1]
    path = path[path.index("/") :] if "://" in url else url
    return client.get(path)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_family_adds_replaces_and_removes_a_photo_through_the_api(
    family_a, django_capture_on_commit_callbacks
):
    api = family_a.client()
    student = family_a.student
    schema = connection.schema_name
    url = f"/api/v1/family/students/{student.pk}/photo"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            url, {"photo": upload("mia.jpg", image(1200, 900, exif=True))}, format="multipart"
        )
    assert response.status_code == 200, response.content
    link = response.json()["photo_url"]
    assert link.startswith(f"http://{host_of(family_a.tenant)}/media/private/")
    student.refresh_from_db()
    assert student.photo.startswith(f"{schema}/students/{student.pk}-")
    first = student.photo
    assert stored(schema) == [first.rsplit("/", 1)[1]]
    # Re-encoded: shrunk to 800 px a side, the camera's EXIF (GPS included) left behind.
    with default_storage.open(first, "rb") as handle:
        kept = Image.open(io.BytesIO(handle.read()))
        assert kept.size == (800, 600) and not kept.getexif()
    # The signed link opens the photo on the business's host.
    opened = fetch(client_for(family_a.tenant), link)
    assert opened.status_code == 200 and opened["Content-Type"] == "image/jpeg"
    assert opened["Cache-Control"] == "private, max-age=300"
    assert body_of(opened)[:2] == b"\xff\xd8"
    # The path itself is never a public media file.
    assert client_for(family_a.tenant).get(f"/media/{first}").status_code == 404
    # The student's answer carries the link too.
    detail = api.get(f"/api/v1/family/students/{student.pk}").json()
    assert detail["photo_url"].startswith(f"http://{host_of(family_a.tenant)}/media/private/")
    family = api.get("/api/v1/family").json()
    assert family["students"][0]["photo_url"].startswith(f"http://{host_of(family_a.tenant)}/")

    # Replacing it deletes the old file after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        replaced = api.post(url, {"photo": upload("mia.png", image(fmt="PNG"), "image/png")})
    assert replaced.status_code == 200
    student.refresh_from_db()
    assert student.photo.endswith(".png") and student.photo != first
    assert stored(schema) == [student.photo.rsplit("/", 1)[1]]
    assert fetch(client_for(family_a.tenant), link).status_code == 404  # the old file is gone

    with django_capture_on_commit_callbacks(execute=True):
        removed = api.delete(url)
    assert removed.status_code == 200 and removed.json()["photo_url"] is None
    student.refresh_from_db()
    assert student.photo == "" and stored(schema) == []
    actions = list(
        AuditEntry.objects.filter(object_id=str(student.pk), action__startswith="student_photo")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["student_photo_upload", "student_photo_upload", "student_photo_remove"]


@pytest.mark.parametrize(
    "name, data, content_type, code",
    [
        ("notes.jpg", b"this is not an image at all", "image/jpeg", "image_type_unsupported"),
        ("anim.gif", None, "image/gif", "image_type_unsupported"),
        (
            "drawing.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
            "image/svg+xml",
            "image_type_unsupported",
        ),
        ("photo.jpg", "png", "image/jpeg", "image_type_mismatch"),
        ("tiny.jpg", "tiny", "image/jpeg", "image_size_invalid"),
        ("huge.jpg", "big", "image/jpeg", "image_too_large"),
        ("empty.jpg", b"", "image/jpeg", "invalid_input"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(family_a, name, data, content_type, code):
    if data is None:
        buffer = io.BytesIO()
        Image.new("RGB", (200, 200)).save(buffer, "GIF")
        data = buffer.getvalue()
    elif data == "png":
        data = image(fmt="PNG")
    elif data == "tiny":
        data = image(32, 32)
    elif data == "big":
        data = image(200, 200) + os.urandom(5 * 1024 * 1024)
    before = AuditEntry.objects.count()
    response = family_a.client().post(
        f"/api/v1/family/students/{family_a.student.pk}/photo",
        {"photo": upload(name, data, content_type)},
        format="multipart",
    )
    body = assert_error(response, 400, code)
    assert "photo" in body["fields"]
    family_a.student.refresh_from_db()
    assert family_a.student.photo == ""
    assert stored(connection.schema_name) == []
    assert AuditEntry.objects.count() == before


def test_no_photo_part_and_another_familys_student_are_refused(family_a):
    api = family_a.client()
    assert_error(
        api.post(f"/api/v1/family/students/{family_a.student.pk}/photo", {}, format="multipart"),
        400,
        "invalid_input",
    )
    other = StudentFactory(family=GuardianFactory(email="other@alpha.test").family)
    for response in (
        api.post(f"/api/v1/family/students/{other.pk}/photo", {"photo": upload("a.jpg", image())}),
        api.delete(f"/api/v1/family/students/{other.pk}/photo"),
        api.post("/api/v1/family/students/999999/photo", {"photo": upload("a.jpg", image())}),
    ):
        assert_error(response, 404, "student_not_found")
    assert stored(connection.schema_name) == []
    # Signed out: nothing.
    anonymous = client_for(family_a.tenant).post(
        f"/api/v1/family/students/{family_a.student.pk}/photo",
        {"photo": upload("a.jpg", image())},
    )
    assert anonymous.status_code == 401


def test_a_signed_link_opens_only_on_its_business_and_only_while_fresh(
    family_a, tenant_b, settings
):
    student = student_photo_upload(
        family_id=family_a.family.pk, student_id=family_a.student.pk, name="a.jpg", data=image()
    )
    link = family_a.client().get(f"/api/v1/family/students/{student.pk}").json()["photo_url"]
    path = link[link.index("/media/") :]
    token = path.removeprefix("/media/private/")
    assert client_for(family_a.tenant).get(path).status_code == 200
    # Another business's host: the same link opens nothing, whoever asks.
    assert client_for(tenant_b).get(path).status_code == 404
    b_owner = make_actor(tenant_b, email="owner-b@beta.test", role="owner")
    assert b_owner.client().get(path).status_code == 404
    # A forged or altered token, another file named in the path, a path that climbs out.
    for bad in (
        "/media/private/" + token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "/media/private/not-a-token",
        "/media/private/",
        f"/media/private/{token}/../../{student.photo}",
    ):
        assert client_for(family_a.tenant).get(bad).status_code == 404, bad
    # Expired.
    settings.PRIVATE_MEDIA_TTL = -1
    assert client_for(family_a.tenant).get(path).status_code == 404
    # Only GET/HEAD.
    settings.PRIVATE_MEDIA_TTL = 900
    assert client_for(family_a.tenant).post(path).status_code == 405


def test_the_family_pages_add_show_and_remove_a_photo(family_a, django_capture_on_commit_callbacks):
    from tests.factories import PASSWORD
    from tests.helpers import signed_in

    web = signed_in(family_a.tenant, family_a.guardian.email, PASSWORD)
    student = family_a.student
    page = f"/family/students/{student.pk}/"
    assert "Add a photo" in web.get(page).content.decode()
    refused = web.post(f"{page}photo/", {"photo": upload("notes.jpg", b"not an image")})
    assert refused.status_code == 400
    assert "Use a PNG, JPEG or WebP image." in refused.content.decode()
    student.refresh_from_db()
    assert student.photo == "" and stored(connection.schema_name) == []
    saved = web.post(f"{page}photo/", {"photo": upload("mia.webp", image(fmt="WEBP"))})
    assert saved.status_code == 302 and saved["Location"] == page
    html = web.get(page).content.decode()
    assert "Replace the photo" in html and 'src="/media/private/' in html
    family = web.get("/family/").content.decode()
    assert 'class="student-photo"' in family and "Photo of Mia" in family
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"{page}photo/", {"action": "remove"})
    student.refresh_from_db()
    assert student.photo == "" and stored(connection.schema_name) == []
    other = StudentFactory(family=GuardianFactory(email="other2@alpha.test").family)
    assert web.post(f"/family/students/{other.pk}/photo/", {"action": "remove"}).status_code == 404
    assert web.get(f"{page}photo/").status_code == 405


def test_staff_roles_change_photos_and_coaches_see_them_on_the_roster(in_tenant_a, tenant_b):
    g = gym(in_tenant_a)
    ada, ben = g.students
    connection.set_tenant(in_tenant_a)
    path = f"/api/v1/staff/families/{ada.family_id}/students/{ada.pk}/photo"
    for role in ("owner", "manager", "front_desk"):
        actor = make_actor(in_tenant_a, email=f"photo-{role}@alpha.test", role=role)
        connection.set_tenant(in_tenant_a)
        response = actor.client().post(path, {"photo": upload("ada.jpg", image())})
        assert response.status_code == 200, (role, response.content)
        assert response.json()["photo_url"].startswith("http://")
    coach = g.coach.client()
    assert_error(
        coach.post(path, {"photo": upload("ada.jpg", image())}), 403, "staff_permission_required"
    )
    assert_error(coach.delete(path), 403, "staff_permission_required")
    # A student of another family through this family's address: not found, nothing changes.
    photo = Student.objects.get(pk=ada.pk).photo
    owner = make_actor(in_tenant_a, email="photo-owner2@alpha.test", role="owner")
    connection.set_tenant(in_tenant_a)
    wrong = f"/api/v1/staff/families/{ada.family_id}/students/{ben.pk}/photo"
    assert_error(owner.client().delete(wrong), 404, "student_not_found")
    # Another business's owner: A's ids mean nothing there, A's token nothing on B.
    b_owner = make_actor(tenant_b, email="photo-owner@beta.test", role="owner")
    assert b_owner.client().delete(path).status_code == 404
    assert owner.client(tenant_b).delete(path).status_code == 401
    connection.set_tenant(in_tenant_a)
    assert Student.objects.get(pk=ada.pk).photo == photo
    # The family overview staff read carries the signed link too.
    overview = owner.client().get(f"/api/v1/staff/families/{ada.family_id}").json()
    assert "/media/private/" in overview["students"][0]["photo_url"]

    # The coach's roster (API and console) shows Ada's photo and Ben's initials.
    day = g.today.isoformat()
    roster = coach.get(f"/api/v1/staff/rosters/{g.offering.pk}/meetings/{day}").json()
    rows = {s["first_name"]: s for s in roster["students"]}
    assert "/media/private/" in rows["Ada"]["photo_url"] and rows["Ben"]["photo_url"] is None
    assert rows["Ben"]["initials"] == "BO"
    opened = fetch(client_for(in_tenant_a), rows["Ada"]["photo_url"])
    assert opened.status_code == 200
    page = console_client(in_tenant_a, g.coach.user).get(f"/console/rosters/{g.offering.pk}/{day}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="c-avatar c-avatar--photo"' in html and ">BO</span>" in html
    # A coach cannot open the family page, so has no form to change it.
    family_page = console_client(in_tenant_a, g.coach.user).get(
        f"/console/families/{ada.family_id}/"
    )
    assert family_page.status_code == 403


def test_the_console_family_page_uploads_and_removes(
    in_tenant_a, django_capture_on_commit_callbacks
):
    guardian = GuardianFactory(email="desk-family@alpha.test")
    mia = StudentFactory(family=guardian.family, first_name="Mia", last_name="Rivera")
    desk = make_actor(in_tenant_a, email="photo-desk@alpha.test", role="front_desk")
    web = console_client(in_tenant_a, desk.user)
    page = f"/console/families/{guardian.family_id}/"
    html = web.get(page).content.decode()
    assert "Add a photo of Mia" in html and ">MR</span>" in html
    action = f"/console/families/{guardian.family_id}/students/{mia.pk}/photo"
    refused = web.post(action, {"photo": upload("mia.jpg", image(fmt="PNG"))})
    assert refused.status_code == 400 and "is named .jpg" in refused.content.decode()
    assert stored(connection.schema_name) == []
    done = web.post(action, {"photo": upload("mia.jpg", image())})
    assert done.status_code == 302
    html = web.get(page).content.decode()
    assert "Replace Mia's photo" in html and "Photo of Mia" in html
    with django_capture_on_commit_callbacks(execute=True):
        assert web.post(action, {"action": "remove"}).status_code == 302
    mia.refresh_from_db()
    assert mia.photo == "" and stored(connection.schema_name) == []
    # A coach is refused the action itself.
    coach = make_actor(in_tenant_a, email="photo-coach@alpha.test", role="coach")
    response = console_client(in_tenant_a, coach.user).post(
        action, {"photo": upload("mia.jpg", image())}
    )
    assert response.status_code == 403
    mia.refresh_from_db()
    assert mia.photo == ""


def test_the_data_export_carries_the_photo_and_a_deletion_removes_it(
    family_a, django_capture_on_commit_callbacks
):
    student = student_photo_upload(
        family_id=family_a.family.pk, student_id=family_a.student.pk, name="a.png",
        data=image(fmt="PNG"),
    )  # fmt: skip
    data = family_export(family=family_a.family)
    [photo] = data["student_photos"]
    assert photo["student_id"] == student.pk and photo["content_type"] == "image/png"
    with default_storage.open(student.photo, "rb") as handle:
        assert base64.b64decode(photo["data_base64"]) == handle.read()
    assert data["students"][0]["photo"] == student.photo
    request = family_deletion_request(guardian=family_a.guardian)
    with django_capture_on_commit_callbacks(execute=True):
        family_deletion_complete(deletion_request_id=request.pk)
    student.refresh_from_db()
    assert student.photo == "" and stored(connection.schema_name) == []
    entry = AuditEntry.objects.get(action="deletion_completed")
    assert entry.fields["photos_deleted"] == 1
    assert family_export(family=family_a.family)["student_photos"] == []


def test_removing_no_photo_changes_nothing(family_a):
    before = AuditEntry.objects.count()
    student = student_photo_remove(family_id=family_a.family.pk, student_id=family_a.student.pk)
    assert student.photo == "" and AuditEntry.objects.count() == before
