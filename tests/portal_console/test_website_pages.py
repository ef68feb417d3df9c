"""/console/settings/website/: the website widget's snippet for the options chosen, a copy
button, the portal link and a live preview (a same-host page the console may frame); the staff
API gives the same; other roles and other businesses get nothing; bad options a clear 400."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from tests.factories import LocationFactory, ProgramFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, host_of, make_actor

pytestmark = pytest.mark.django_db
URL = "/console/settings/website/"


def signed_in(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def owner_client(in_tenant_a):
    return signed_in(in_tenant_a, User.objects.get(email=in_tenant_a.owner_email))


def test_the_snippet_follows_the_options(in_tenant_a, owner_client):
    gym = ProgramFactory(name="Gymnastics")
    page = owner_client.get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    origin = in_tenant_a.url("").rstrip("/")
    plain = f'<script src="{origin}/embed.js" async></script>'
    assert html.escape(plain) in text
    assert 'id="w-copy"' in text and "Copy the snippet" in text
    assert 'src="/console/settings/website/preview?limit=20&amp;style=built-in"' in text
    # The page may frame its own preview; nothing else changes in its policy.
    assert "frame-src 'self'" in page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    chosen = owner_client.get(
        URL, {"program": gym.pk, "kind": "class", "limit": "6", "lang": "es", "style": "none"}
    ).content.decode()
    snippet = (
        f'<script src="{origin}/embed.js" data-program="{gym.pk}" data-kind="class" '
        'data-limit="6" data-lang="es" data-style="none" async></script>'
    )
    assert html.escape(snippet) in chosen
    assert f"{origin}/classes/?program={gym.pk}&amp;kind=class" in chosen


def test_the_preview_shows_the_widget_framed_only_by_its_host(in_tenant_a, owner_client):
    gym = ProgramFactory(name="Gymnastics")
    preview = owner_client.get(f"{URL}preview", {"program": gym.pk, "limit": "3"})
    assert preview.status_code == 200
    text = preview.content.decode()
    assert f'<script src="/embed.js" data-program="{gym.pk}" data-limit="3" async>' in text
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"program": "999999"}, "Choose a program of this business."),
        ({"location": "999999"}, "Choose a location of this business."),
        ({"limit": "0"}, "greater than or equal to 1"),
        ({"limit": "lots"}, "A valid integer is required."),
        ({"kind": "party"}, "is not a valid choice."),
        ({"style": "fancy"}, "is not a valid choice."),
    ],
)
def test_bad_options_are_a_clear_400(in_tenant_a, owner_client, params, message):
    LocationFactory()
    page = owner_client.get(URL, params)
    assert page.status_code == 400 and message in page.content.decode()
    origin = in_tenant_a.url("").rstrip("/")
    assert html.escape(f'<script src="{origin}/embed.js" async></script>') in page.content.decode()
    assert owner_client.get(f"{URL}preview", params).status_code == 400


def test_the_staff_api_gives_the_same_snippet(in_tenant_a):
    gym = ProgramFactory(name="Gymnastics")
    manager = make_actor(in_tenant_a, email="manager@alpha.test", role="manager")
    connection.set_tenant(in_tenant_a)
    body = manager.client().get("/api/v1/staff/website", {"program": gym.pk}).json()
    origin = in_tenant_a.url("").rstrip("/")
    assert (
        body["snippet"]
        == f'<script src="{origin}/embed.js" data-program="{gym.pk}" async></script>'
    )
    assert body["options"]["program"] == gym.pk and body["options"]["limit"] == 20
    assert {"id": gym.pk, "name": "Gymnastics"} in body["choices"]["programs"]
    assert body["class_list_url"] == f"{origin}/classes/?program={gym.pk}"
    bad = assert_error(
        manager.client().get("/api/v1/staff/website", {"limit": "500"}), 400, "invalid_input"
    )
    assert "limit" in bad["fields"]


def test_other_roles_and_businesses_get_nothing(in_tenant_a, tenant_b):
    for role in ("coach", "front_desk"):
        actor = make_actor(in_tenant_a, email=f"{role}@alpha.test", role=role)
        client = signed_in(in_tenant_a, actor.user)
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}preview").status_code == 403
        assert_error(actor.client().get("/api/v1/staff/website"), 403, "staff_permission_required")
    owner = make_actor(in_tenant_a, email="owner2@alpha.test", role="owner")
    assert_cross_tenant_denied(
        credentials_client=owner.client(),
        target=tenant_b,
        method="get",
        path="/api/v1/staff/website",
    )
