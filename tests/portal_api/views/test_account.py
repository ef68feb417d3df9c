"""The guardian's own account in the API the apps use: name and phone (every field error at
once), the password (current one first), the primary guardian removing a guardian, and
emergency contacts edited and removed: the web's services, with the same refusals."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from kernel.users.models import ApiToken, User
from portal.accounts.models import EmergencyContact, Guardian
from portal.activity.models import ActivityItem
from tests.factories import PASSWORD, EmergencyContactFactory, GuardianFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor

pytestmark = pytest.mark.django_db

API = "/api/v1"


def send(client, method, path, data=None):
    return getattr(client, method)(
        path, data=json.dumps(data) if data is not None else None, content_type="application/json"
    )


@pytest.fixture
def second(family_a):
    """A second, non-primary guardian of the same family, with a token."""
    from kernel.users.services import api_token_issue

    guardian = GuardianFactory(
        family=family_a.family, email="second@alpha.test", first_name="Sam", is_primary=False
    )
    _, guardian.token = api_token_issue(user=guardian.user, name="phone")
    return guardian


def test_read_and_edit_own_details(family_a):
    client = family_a.client()
    body = client.get(f"{API}/account").json()
    assert body["first_name"] == "Dana" and body["email"] == "parent@alpha.test"
    assert body["is_primary"] is True and body["family_id"] == family_a.family.pk
    changed = send(client, "patch", f"{API}/account", {"phone": "555-0199"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["phone"] == "555-0199" and changed.json()["first_name"] == "Dana"
    renamed = send(client, "patch", f"{API}/account", {"first_name": "Dani", "last_name": "Ruiz"})
    assert renamed.json()["first_name"] == "Dani"
    family_a.guardian.refresh_from_db()
    assert (family_a.guardian.first_name, family_a.guardian.phone) == ("Dani", "555-0199")
    assert User.objects.get(pk=family_a.guardian.user_id).full_name == "Dani Ruiz"
    assert ActivityItem.objects.filter(kind="profile_changed").exists()


def test_every_field_error_at_once_and_nothing_changes(family_a):
    client = family_a.client()
    body = assert_error(
        send(client, "patch", f"{API}/account", {"first_name": " ", "last_name": "", "phone": "x"}),
        400,
        "first_name_required",
    )
    assert set(body["fields"]) == {"first_name", "last_name", "phone"}
    assert_error(
        send(client, "patch", f"{API}/account", {"first_name": "x" * 101}), 400, "invalid_input"
    )
    assert_error(send(client, "patch", f"{API}/account", {"phone": ["555"]}), 400, "invalid_input")
    family_a.guardian.refresh_from_db()
    assert (family_a.guardian.first_name, family_a.guardian.phone) == ("Dana", "")


def test_change_password_current_one_first_and_this_device_stays_signed_in(family_a, second):
    client = family_a.client()
    assert_error(
        send(
            client,
            "post",
            f"{API}/account/password",
            {"current_password": "nope", "new_password": "A-much-better-1"},
        ),
        400,
        "password_incorrect",
        "Your current password is not correct.",
    )
    body = assert_error(
        send(
            client,
            "post",
            f"{API}/account/password",
            {"current_password": PASSWORD, "new_password": "zq-9w"},
        ),
        400,
        "password_too_weak",
    )
    assert "new_password" in body["fields"]
    assert_error(
        send(client, "post", f"{API}/account/password", {"current_password": PASSWORD}),
        400,
        "invalid_input",
    )
    user = User.objects.get(pk=family_a.guardian.user_id)
    assert user.check_password(PASSWORD)
    ok = send(
        client,
        "post",
        f"{API}/account/password",
        {"current_password": PASSWORD, "new_password": "A-much-better-1"},
    )
    assert ok.status_code == 200, ok.content
    assert ok["Cache-Control"].startswith("no-store")
    token = ok.json()["token"]
    user.refresh_from_db()
    assert user.check_password("A-much-better-1")
    # The old token ended with the old password; the new one is this device's.
    assert_error(client.get(f"{API}/account"), 401, "authentication_failed")
    assert client_for(family_a.tenant, token=token).get(f"{API}/account").status_code == 200
    assert ApiToken.objects.active().filter(user=user).count() == 1
    # Another guardian's token is untouched (their password did not change).
    assert client_for(family_a.tenant, token=second.token).get(f"{API}/account").status_code == 200


def test_primary_guardian_removes_a_guardian(family_a, second):
    other_client = client_for(family_a.tenant, token=second.token)
    assert_error(
        other_client.delete(f"{API}/family/guardians/{family_a.guardian.pk}"),
        403,
        "primary_guardian_only",
    )
    client = family_a.client()
    assert_error(
        client.delete(f"{API}/family/guardians/{family_a.guardian.pk}"),
        409,
        "primary_guardian_not_removable",
    )
    assert_error(client.delete(f"{API}/family/guardians/999999"), 404, "guardian_not_found")
    assert Guardian.objects.filter(family=family_a.family).count() == 2
    assert client.delete(f"{API}/family/guardians/{second.pk}").status_code == 204
    assert not Guardian.objects.filter(pk=second.pk).exists()
    assert not User.objects.get(email="second@alpha.test").is_active
    assert other_client.get(f"{API}/account").status_code == 401
    assert_error(client.delete(f"{API}/family/guardians/{second.pk}"), 404, "guardian_not_found")


def test_a_guardian_of_another_family_is_not_found(family_a):
    stranger = GuardianFactory(email="stranger@alpha.test", is_primary=False)
    assert_error(
        family_a.client().delete(f"{API}/family/guardians/{stranger.pk}"), 404, "guardian_not_found"
    )
    assert Guardian.objects.filter(pk=stranger.pk).exists()


def test_edit_and_remove_an_emergency_contact(family_a, second):
    contact = EmergencyContactFactory(family=family_a.family, name="Gran", phone="555-0100")
    client = family_a.client()
    edited = send(
        client,
        "patch",
        f"{API}/family/emergency-contacts/{contact.pk}",
        {"phone": "555-0111", "relationship": "Grandmother"},
    )
    assert edited.status_code == 200, edited.content
    assert edited.json() == {
        "id": contact.pk,
        "name": "Gran",
        "relationship": "Grandmother",
        "phone": "555-0111",
    }
    body = assert_error(
        send(
            client,
            "patch",
            f"{API}/family/emergency-contacts/{contact.pk}",
            {"name": "", "phone": "abc"},
        ),
        400,
        "name_required",
    )
    assert set(body["fields"]) == {"name", "phone"}
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("Gran", "555-0111")
    # Any guardian of the family may edit and remove contacts.
    other = client_for(family_a.tenant, token=second.token)
    assert (
        send(
            other, "patch", f"{API}/family/emergency-contacts/{contact.pk}", {"name": "Nana"}
        ).status_code
        == 200
    )
    assert other.delete(f"{API}/family/emergency-contacts/{contact.pk}").status_code == 204
    assert not EmergencyContact.objects.filter(pk=contact.pk).exists()
    assert_error(
        send(client, "patch", f"{API}/family/emergency-contacts/{contact.pk}", {"name": "X"}),
        404,
        "contact_not_found",
    )


def test_another_familys_contact_is_not_found(family_a):
    stranger = GuardianFactory(email="stranger@alpha.test")
    contact = EmergencyContactFactory(family=stranger.family, name="Hidden Person")
    response = send(
        family_a.client(), "patch", f"{API}/family/emergency-contacts/{contact.pk}", {"name": "X"}
    )
    assert_error(response, 404, "contact_not_found")
    assert "Hidden Person" not in response.content.decode()
    contact.refresh_from_db()
    assert contact.name == "Hidden Person"


ENDPOINTS = [
    ("get", f"{API}/account", None),
    ("patch", f"{API}/account", {"phone": "555"}),
    ("post", f"{API}/account/password", {"current_password": "x", "new_password": "y"}),
    ("delete", f"{API}/family/guardians/1", None),
    ("patch", f"{API}/family/emergency-contacts/1", {"name": "X"}),
]


@pytest.mark.parametrize(("method", "path", "data"), ENDPOINTS)
def test_only_a_signed_in_family(method, path, data, in_tenant_a):
    assert_error(send(client_for(in_tenant_a), method, path, data), 401, "not_authenticated")
    staff = make_actor(in_tenant_a, email="coach@alpha.test", staff=True)
    assert_error(send(staff.client(), method, path, data), 403, "not_a_family_account")


@pytest.mark.parametrize(("method", "path", "data"), ENDPOINTS)
def test_a_family_token_means_nothing_on_another_business(method, path, data, family_a, tenant_b):
    assert_cross_tenant_denied(
        credentials_client=family_a.client(),
        target=tenant_b,
        method=method,
        path=path,
        data=data,
        forbidden_text=["Rivera", "Dana"],
    )
    with tenant_context(tenant_b):
        assert not Guardian.objects.exists()
