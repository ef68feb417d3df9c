"""Account management on the web: own name and phone, password while signed in, the primary
guardian removes a guardian (with confirmation), emergency contacts removed after confirming,
medical notes shown back, actions a non-primary guardian may not take shown disabled; and the
family data export offered as a download."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kernel.users.models import User
from portal.accounts.models import Guardian, Student
from portal.privacy.models import AuditEntry
from tests.factories import PASSWORD, EmergencyContactFactory, GuardianFactory
from tests.helpers import host_of, signed_in

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def second(family_web):
    """A second, non-primary guardian of the same family, signed in."""
    guardian = GuardianFactory(
        family=family_web.family, email="second@alpha.test", first_name="Sam", is_primary=False
    )
    guardian.web = signed_in(family_web.tenant, guardian.email)
    return guardian


def test_edit_own_details_with_every_field_error_at_once(family_web):
    page = html(family_web.web.get("/account/"))
    assert 'value="Dana"' in page and 'autocomplete="tel"' in page
    bad = family_web.web.post("/account/", {"first_name": "", "last_name": "", "phone": "abc"})
    assert bad.status_code == 400
    page = html(bad)
    for field in ("first_name", "last_name", "phone"):
        assert f'id="{field}-error"' in page, field
    family_web.guardian.refresh_from_db()
    assert family_web.guardian.first_name == "Dana"
    long = family_web.web.post("/account/", {"first_name": "x" * 500, "last_name": "R"})
    assert long.status_code == 400
    ok = family_web.web.post(
        "/account/", {"first_name": "Dani", "last_name": "Rivera", "phone": "555-0199"}
    )
    assert ok.status_code == 302
    family_web.guardian.refresh_from_db()
    assert (family_web.guardian.first_name, family_web.guardian.phone) == ("Dani", "555-0199")
    assert "Your details are saved." in html(family_web.web.get("/account/"))


def test_change_password_while_signed_in(family_web):
    wrong = family_web.web.post(
        "/account/password/", {"current_password": "nope", "new_password": "A-much-better-1"}
    )
    assert wrong.status_code == 400 and "Your current password is not correct." in html(wrong)
    weak = family_web.web.post(
        "/account/password/", {"current_password": PASSWORD, "new_password": "123"}
    )
    assert weak.status_code == 400 and 'id="new_password-error"' in html(weak)
    ok = family_web.web.post(
        "/account/password/",
        {"current_password": PASSWORD, "new_password": "A-much-better-1"},
    )
    assert ok.status_code == 302
    assert family_web.web.get("/account/").status_code == 200  # still signed in here
    user = User.objects.get(pk=family_web.guardian.user_id)
    assert user.check_password("A-much-better-1")
    assert family_web.web.get("/account/password/").status_code == 405


def test_primary_removes_a_guardian_who_can_no_longer_sign_in(family_web, second):
    page = html(family_web.web.get("/family/"))
    assert f'action="/family/guardians/{second.pk}/remove/"' in page
    assert "Yes, remove Sam" in page and '<details class="confirm">' in page
    # The non-primary guardian sees the actions it may not take disabled, with the reason.
    theirs = html(second.web.get("/family/"))
    assert "/remove/" not in theirs.split('id="guardians-heading"')[1].split("</section>")[0]
    assert 'disabled aria-describedby="primary-only"' in theirs
    assert "Only the primary guardian can add or remove guardians" in theirs
    refused = second.web.post(f"/family/guardians/{family_web.guardian.pk}/remove/")
    assert refused.status_code == 403
    self_remove = family_web.web.post(f"/family/guardians/{family_web.guardian.pk}/remove/")
    assert self_remove.status_code == 409
    assert family_web.web.post("/family/guardians/999999/remove/").status_code == 404
    response = family_web.web.post(f"/family/guardians/{second.pk}/remove/")
    assert response.status_code == 302
    assert not Guardian.objects.filter(pk=second.pk).exists()
    assert not User.objects.get(pk=second.user_id).is_active
    gone = second.web.get("/family/")
    assert gone.status_code == 302 and "/login/" in gone["Location"]
    login = Client(HTTP_HOST=family_web.tenant.primary_host).post(
        "/login/", {"email": "second@alpha.test", "password": PASSWORD}
    )
    assert login.status_code != 302


def test_other_families_guardians_cannot_be_removed(family_web, tenant_b):
    other = GuardianFactory(email="else@alpha.test", is_primary=False)
    response = family_web.web.post(f"/family/guardians/{other.pk}/remove/")
    assert response.status_code == 404
    assert Guardian.objects.filter(pk=other.pk).exists()
    family_web.web.defaults["HTTP_HOST"] = tenant_b.primary_host
    response = family_web.web.post(f"/family/guardians/{other.pk}/remove/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_contacts_are_removed_after_confirming_and_medical_notes_are_shown(family_web):
    Student.objects.filter(pk=family_web.student.pk).update(medical_notes="Asthma: inhaler")
    contact = EmergencyContactFactory(family=family_web.family, name="Aunt Rosa")
    page = html(family_web.web.get("/family/"))
    assert "Asthma: inhaler" in page
    assert "Remove Aunt Rosa from your emergency contacts?" in page
    assert family_web.web.post(f"/family/contacts/{contact.pk}/delete/").status_code == 302
    assert not family_web.family.emergency_contacts.exists()


def test_an_emergency_contact_is_edited_with_every_field_error_at_once(family_web, tenant_b):
    contact = EmergencyContactFactory(family=family_web.family, name="Aunt Rosa", phone="555-0100")
    page = html(family_web.web.get("/family/"))
    assert f'href="/family/contacts/{contact.pk}/edit/"' in page
    form = html(family_web.web.get(f"/family/contacts/{contact.pk}/edit/"))
    assert 'value="Aunt Rosa"' in form and "Edit an emergency contact" in form
    bad = family_web.web.post(
        f"/family/contacts/{contact.pk}/edit/", {"name": "", "phone": "abc", "relationship": ""}
    )
    assert bad.status_code == 400
    for field in ("name", "phone"):
        assert f'id="{field}-error"' in html(bad), field
    long = family_web.web.post(
        f"/family/contacts/{contact.pk}/edit/", {"name": "x" * 301, "phone": "555"}
    )
    assert long.status_code == 400
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("Aunt Rosa", "555-0100")
    ok = family_web.web.post(
        f"/family/contacts/{contact.pk}/edit/",
        {"name": "Aunt Rose", "phone": "555-0111", "relationship": "Aunt"},
    )
    assert ok.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.phone, contact.relationship) == ("Aunt Rose", "555-0111", "Aunt")
    stranger = GuardianFactory(email="stranger@alpha.test")
    theirs = EmergencyContactFactory(family=stranger.family, name="Hidden Person")
    missing = family_web.web.get(f"/family/contacts/{theirs.pk}/edit/")
    assert missing.status_code == 404 and "Hidden Person" not in html(missing)
    family_web.web.defaults["HTTP_HOST"] = host_of(tenant_b)
    assert family_web.web.get(f"/family/contacts/{contact.pk}/edit/").status_code in (302, 404)


def test_the_family_data_export_is_a_download_on_the_web(family_web, tenant_b):
    page = html(family_web.web.get("/family/"))
    assert 'href="/family/export/" download' in page
    response = family_web.web.get("/family/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="family-export.json"'
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["family"]["id"] == family_web.family.pk
    assert data["students"][0]["first_name"] == "Mia"
    assert AuditEntry.objects.filter(action="export", family_id=family_web.family.pk).count() == 1
    assert family_web.web.post("/family/export/").status_code in (403, 405)
    visitor = Client(HTTP_HOST=family_web.tenant.primary_host)
    assert visitor.get("/family/export/")["Location"].startswith("/login/")
    family_web.web.defaults["HTTP_HOST"] = tenant_b.primary_host
    assert family_web.web.get("/family/export/")["Location"].startswith("/login/")
