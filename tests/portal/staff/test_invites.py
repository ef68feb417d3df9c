"""The owner invites staff by email with a role, and changes or removes roles: in the console
and over the staff API; the invitation's link lets them choose a password and sign in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.staff.roles import role_of
from tests.factories import GuardianFactory
from tests.helpers import assert_error, host_of, make_actor

pytestmark = pytest.mark.django_db
API = "/api/v1"


def owner_client(tenant) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(User.objects.get(email=tenant.owner_email))
    connection.set_tenant(tenant)
    return client


def test_the_owner_invites_a_coach_who_sets_a_password_and_signs_in(
    in_tenant_a, django_capture_on_commit_callbacks
):
    client = owner_client(in_tenant_a)
    page = client.get("/console/staff/")
    assert page.status_code == 200 and in_tenant_a.owner_email in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/console/staff/invite",
            {"email": " Kim@Alpha.Test ", "full_name": "Kim Lee", "role": "coach"},
        )
    assert response.status_code == 302
    kim = User.objects.get(email="kim@alpha.test")
    assert kim.is_staff and not kim.is_superuser and not kim.has_usable_password()
    assert role_of(kim).key == "coach"
    (invite,) = [m for m in mail.outbox if m.to == ["kim@alpha.test"]]
    assert "as Coach" in invite.body
    link = re.search(r"https?://\S+/account/set-password/\S+/", invite.body).group(0)
    path = link.split(host_of(in_tenant_a), 1)[1].split(":", 1)[-1]
    path = path[path.index("/account/") :]
    browser = Client(HTTP_HOST=host_of(in_tenant_a))
    form = browser.get(path, follow=True)
    assert form.status_code == 200
    done = browser.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"new_password1": "Coach-Kim-2026!", "new_password2": "Coach-Kim-2026!"},
    )
    assert done.status_code == 302
    signed = browser.post(
        "/console/login/", {"email": "kim@alpha.test", "password": "Coach-Kim-2026!"}
    )
    assert signed.status_code == 302 and signed["Location"] == "/console/"


def test_bad_invitations_change_nothing(in_tenant_a):
    client = owner_client(in_tenant_a)
    GuardianFactory(email="parent@alpha.test")
    make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    connection.set_tenant(in_tenant_a)
    before = User.objects.count()
    for data, status, text in (
        ({"email": "not-an-email", "role": "coach"}, 400, "Enter a valid email address."),
        ({"email": "new@alpha.test", "role": "janitor"}, 400, "Unknown role"),
        ({"email": "desk@alpha.test", "role": "coach"}, 409, "already on the staff"),
        ({"email": "parent@alpha.test", "role": "coach"}, 409, "signs in as a family"),
    ):
        response = client.post("/console/staff/invite", data)
        assert response.status_code == status, data
        assert text in response.content.decode(), data
    assert User.objects.count() == before
    assert role_of(User.objects.get(email="desk@alpha.test")).key == "front_desk"
    assert not User.objects.get(email="parent@alpha.test").is_staff
    assert mail.outbox == []


def test_roles_change_and_nobody_changes_their_own(in_tenant_a):
    client = owner_client(in_tenant_a)
    desk = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk").user
    connection.set_tenant(in_tenant_a)
    assert client.post(f"/console/staff/{desk.pk}/role", {"role": "manager"}).status_code == 302
    assert role_of(User.objects.get(pk=desk.pk)).key == "manager"
    owner = User.objects.get(email=in_tenant_a.owner_email)
    mine = client.post(f"/console/staff/{owner.pk}/role", {"role": "coach"})
    assert mine.status_code == 409 and "your own role" in mine.content.decode()
    assert role_of(User.objects.get(pk=owner.pk)).key == "owner"
    assert client.post(f"/console/staff/{desk.pk}/role", {"role": ""}).status_code == 302
    removed = User.objects.get(pk=desk.pk)
    assert not removed.is_staff and role_of(removed) is None
    assert client.post("/console/staff/999999/role", {"role": "coach"}).status_code == 404


def test_the_staff_api_invites_and_changes_roles_for_the_owner_only(
    in_tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    owner = make_actor(in_tenant_a, email="owner2@alpha.test", role="owner")
    manager = make_actor(in_tenant_a, email="boss@alpha.test", role="manager")
    assert_error(
        manager.client().post(f"{API}/staff/members", {"email": "x@alpha.test", "role": "coach"},
                              format="json"),
        403,
        "staff_permission_required",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        created = owner.client().post(
            f"{API}/staff/members", {"email": "lee@alpha.test", "role": "coach"}, format="json"
        )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["email"], body["role"], body["signed_up"]) == ("lee@alpha.test", "coach", False)
    listing = owner.client().get(f"{API}/staff/members").json()
    assert {"lee@alpha.test", "boss@alpha.test"} <= {m["email"] for m in listing}
    changed = owner.client().post(
        f"{API}/staff/members/{body['id']}/role", {"role": "front_desk"}, format="json"
    )
    assert changed.json()["role"] == "front_desk"
    assert_error(
        owner.client().post(f"{API}/staff/members/{body['id']}/role", {"role": "boss"},
                            format="json"),
        400,
        "invalid_input",
    )  # fmt: skip
    assert_error(
        owner.client().post(f"{API}/staff/members/{owner.user.pk}/role", {"role": None},
                            format="json"),
        409,
        "own_role_unchangeable",
    )  # fmt: skip
    other = make_actor(tenant_b, email="owner3@beta.test", role="owner")
    response = other.client(in_tenant_a).get(f"{API}/staff/members")
    assert response.status_code == 401
