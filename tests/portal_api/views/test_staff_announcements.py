"""/api/v1/staff/announcements: the console's announcements over the API (same input schema,
same services); owner and manager only; bad input a 400 with a stable code that changes
nothing; another business's token means nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection

from portal.config.models import Announcement
from tests.factories import AnnouncementFactory, GuardianFactory, ProgramFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, make_actor

pytestmark = pytest.mark.django_db
URL = "/api/v1/staff/announcements"


@pytest.fixture
def manager(in_tenant_a):
    actor = make_actor(in_tenant_a, email="manager@alpha.test", role="manager")
    connection.set_tenant(in_tenant_a)
    return actor


def test_create_list_change_and_remove(manager, in_tenant_a):
    swim = ProgramFactory(name="Swim")
    created = manager.client().post(
        URL,
        {
            "title": "Pool closed",
            "kind": "news",
            "severity": "warning",
            "audience": "programs",
            "programs": [swim.pk],
            "starts_at": "2026-01-05T08:00:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["programs"] == [swim.pk] and body["email"] == {"families": 0, "sent": 0}
    # A time without an offset is the business's; the answer carries its offset.
    row = Announcement.objects.get()
    assert row.starts_at.astimezone(in_tenant_a.zone).hour == 8
    assert body["starts_at"].startswith("2026-01-05T08:00:00")
    listed = manager.client().get(URL).json()
    assert [a["title"] for a in listed] == ["Pool closed"]
    changed = manager.client().patch(f"{URL}/{row.pk}", {"title": "Pool open"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "Pool open"
    assert changed.json()["audience"] == "programs" and changed.json()["programs"] == [swim.pk]
    assert manager.client().get(f"{URL}/{row.pk}").json()["severity"] == "warning"
    assert manager.client().delete(f"{URL}/{row.pk}").status_code == 204
    assert not Announcement.objects.exists()
    assert_error(manager.client().get(f"{URL}/{row.pk}"), 404, "announcement_not_found")
    assert_error(manager.client().delete(f"{URL}/{row.pk}"), 404, "announcement_not_found")


def test_email_the_audience_once(manager, django_capture_on_commit_callbacks):
    GuardianFactory(email="ana@alpha.test")
    row = AnnouncementFactory(title="Closed Monday")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = manager.client().post(f"{URL}/{row.pk}/email")
    assert first.status_code == 200 and first.json() == {"families": 1, "sent": 0, "queued": 1}
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        second = manager.client().post(f"{URL}/{row.pk}/email")
    assert second.json() == {"families": 1, "sent": 1, "queued": 0} and len(mail.outbox) == 1
    assert manager.client().get(f"{URL}/{row.pk}").json()["email"] == {"families": 1, "sent": 1}
    draft = AnnouncementFactory(is_published=False)
    assert_error(manager.client().post(f"{URL}/{draft.pk}/email"), 409,
                 "announcement_not_published")  # fmt: skip
    assert_error(manager.client().post(f"{URL}/999999/email"), 404, "announcement_not_found")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "title"),
        ({"title": "x" * 151}, "title"),
        ({"title": "A", "kind": "popup"}, "kind"),
        ({"title": "A", "audience": "programs"}, "programs"),
        ({"title": "A", "programs": [999999]}, "programs"),
        ({"title": "A", "programs": "1"}, "programs"),
        ({"title": "A", "starts_at": "soon"}, "starts_at"),
        # Schemathesis's find: a time in 1634 was kept and answered with the zone's local mean
        # time offset (-04:56:02), which is no ISO 8601 time.
        ({"title": "A", "ends_at": "1634-04-09T17:09:49.6"}, "ends_at"),
        ({"title": "A", "starts_at": "2101-01-01T00:00"}, "starts_at"),
        ({"title": "A", "starts_at": "2026-01-05T08:00", "ends_at": "2026-01-05T07:00"}, "ends_at"),
        ({"title": "A", "link_url": "ftp//nope"}, "link_url"),
        ({"title": "A", "sort_order": 10000}, "sort_order"),
        (["title"], "non_field_errors"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(manager, data, field):
    body = assert_error(manager.client().post(URL, data, format="json"), 400, "invalid_input")
    assert field in body["fields"], body
    assert not Announcement.objects.exists()


def test_roles_and_other_businesses(in_tenant_a, tenant_b):
    row = AnnouncementFactory(title="Alpha only")
    for role in ("coach", "front_desk"):
        actor = make_actor(in_tenant_a, email=f"{role}@alpha.test", role=role)
        assert_error(actor.client().get(URL), 403, "staff_permission_required")
        assert_error(actor.client().delete(f"{URL}/{row.pk}"), 403, "staff_permission_required")
    owner = make_actor(in_tenant_a, email="owner2@alpha.test", role="owner")
    tries = [
        ("get", URL),
        ("patch", f"{URL}/{row.pk}"),
        ("post", f"{URL}/{row.pk}/email"),
        ("delete", f"{URL}/{row.pk}"),
    ]
    for method, path in tries:
        assert_cross_tenant_denied(
            credentials_client=owner.client(),
            target=tenant_b,
            method=method,
            path=path,
            data={"title": "B"},
            forbidden_text=["Alpha only"],
        )
    connection.set_tenant(in_tenant_a)
    assert Announcement.objects.get().title == "Alpha only"
