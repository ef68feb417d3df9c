"""/console/settings/announcements/: owners and managers add, change, email and remove the
business's announcements; dates are typed in its zone; what they publish shows on the family
portal and in /api/v1/portal; other roles and other businesses get nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.config.models import Announcement, AnnouncementEmail
from tests.factories import AnnouncementFactory, GuardianFactory
from tests.helpers import client_for, host_of, make_actor

pytestmark = pytest.mark.django_db
URL = "/console/settings/announcements/"


def signed_in(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def owner_client(in_tenant_a):
    return signed_in(in_tenant_a, User.objects.get(email=in_tenant_a.owner_email))


def form(**values) -> dict:
    return {"title": "Snow day", "body": "We are closed today.", "kind": "banner",
            "severity": "critical", "audience": "everyone", "starts_at": "", "ends_at": "",
            "link_url": "", "sort_order": "0", "is_published": "on", **values}  # fmt: skip


def test_the_owner_publishes_a_banner_families_see_on_every_page(in_tenant_a, owner_client):
    response = owner_client.post(URL, form(starts_at="2026-01-05T08:00"))
    assert response.status_code == 302, response.content.decode()[:3000]
    row = Announcement.objects.get()
    # Typed in the business's zone, stored as that moment.
    local = datetime(2026, 1, 5, 8, 0, tzinfo=in_tenant_a.zone)
    assert row.starts_at == local and row.severity == "critical"
    page = owner_client.get(URL).content.decode()
    assert "Snow day" in page and 'value="2026-01-05T08:00"' in page
    assert "Not emailed." in page
    visitor = Client(HTTP_HOST=host_of(in_tenant_a))
    for path in ("/", "/classes/", "/staff/"):
        html = visitor.get(path).content.decode()
        assert "announcement--critical" in html and "Important:" in html, path
        assert "We are closed today." in html
    api = client_for(in_tenant_a).get("/api/v1/portal").json()["announcements"]
    assert [(a["title"], a["kind"], a["severity"]) for a in api] == [
        ("Snow day", "banner", "critical")]  # fmt: skip


def test_news_shows_on_the_home_page_only(in_tenant_a, owner_client):
    owner_client.post(URL, form(title="Summer camps open", kind="news", severity="info"))
    visitor = Client(HTTP_HOST=host_of(in_tenant_a))
    assert "Summer camps open" in visitor.get("/").content.decode()
    assert "Summer camps open" not in visitor.get("/classes/").content.decode()


def test_edit_email_and_remove(in_tenant_a, owner_client, django_capture_on_commit_callbacks):
    GuardianFactory(email="ana@alpha.test")
    owner_client.post(URL, form())
    row = Announcement.objects.get()
    changed = owner_client.post(f"{URL}{row.pk}", form(action="save", title="Closed Monday"))
    assert changed.status_code == 302
    row.refresh_from_db()
    assert row.title == "Closed Monday"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        emailed = owner_client.post(f"{URL}{row.pk}", {"action": "email"}, follow=True)
    assert "The email is on its way to 1 family." in emailed.content.decode()
    assert [m.to for m in mail.outbox] == [["ana@alpha.test"]]
    page = owner_client.get(URL).content.decode()
    assert "Emailed to 1 of 1 family." in page
    with django_capture_on_commit_callbacks(execute=True):
        again = owner_client.post(f"{URL}{row.pk}", {"action": "email"}, follow=True)
    assert "already been emailed" in again.content.decode() and len(mail.outbox) == 1
    gone = owner_client.post(f"{URL}{row.pk}", {"action": "delete"})
    assert gone.status_code == 302 and not Announcement.objects.exists()
    missing = owner_client.post(f"{URL}{row.pk}", {"action": "delete"})
    assert missing.status_code == 404 and "No such announcement." in missing.content.decode()


def test_save_with_email_on_create(in_tenant_a, owner_client, django_capture_on_commit_callbacks):
    GuardianFactory(email="ana@alpha.test")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(URL, form(email_audience="on"), follow=True)
    assert "The email is on its way to 1 family." in response.content.decode()
    assert len(mail.outbox) == 1 and AnnouncementEmail.objects.get().sent_at is not None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title": ""}, "This field may not be blank."),
        ({"severity": "panic"}, "is not a valid choice."),
        ({"starts_at": "tomorrow"}, "Datetime has wrong format."),
        ({"audience": "programs"}, "Choose at least one program for this audience."),
        ({"starts_at": "2026-01-05T08:00", "ends_at": "2026-01-04T08:00"}, "must end after"),
        ({"link_url": "javascript:alert(1)"}, "Enter a valid URL."),
        ({"sort_order": "-4"}, "greater than or equal to 0"),
        ({"programs": "abc"}, "A valid integer is required."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(owner_client, values, message):
    response = owner_client.post(URL, form(**values))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Announcement.objects.exists()


def test_emailing_a_draft_is_refused(in_tenant_a, owner_client):
    GuardianFactory(email="ana@alpha.test")
    draft = AnnouncementFactory(is_published=False)
    response = owner_client.post(f"{URL}{draft.pk}", {"action": "email"})
    assert response.status_code == 409
    assert "Publish the announcement before emailing it." in response.content.decode()
    assert not AnnouncementEmail.objects.exists()


def test_other_roles_and_businesses_get_nothing(in_tenant_a, tenant_b, owner_client):
    AnnouncementFactory(title="Alpha secret")
    row = Announcement.objects.get()
    for role in ("coach", "front_desk"):
        actor = make_actor(in_tenant_a, email=f"{role}@alpha.test", role=role)
        client = signed_in(in_tenant_a, actor.user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, form(title="Sneaky")).status_code == 403
        assert client.post(f"{URL}{row.pk}", {"action": "delete"}).status_code == 403
    assert list(Announcement.objects.values_list("title", flat=True)) == ["Alpha secret"]
    # A's session on B's host is nobody there.
    owner_client.defaults["HTTP_HOST"] = host_of(tenant_b)
    on_b = owner_client.get(URL)
    assert on_b.status_code == 302 and "/console/login/" in on_b["Location"]
    assert owner_client.post(f"{URL}{row.pk}", {"action": "delete"}).status_code == 302
    connection.set_tenant(in_tenant_a)
    assert Announcement.objects.filter(pk=row.pk).exists()
