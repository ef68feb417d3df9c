"""Forms of the family web portal: a good post changes what the API would change; a bad one
re-renders with the API's field messages (linked to their inputs), keeps the input, and
changes nothing."""

from __future__ import annotations

import re

import pytest

from kernel.users.models import User
from portal.accounts.models import EmergencyContact, Family, Guardian, PolicyAcceptance, Student
from portal.config.services import portal_settings_update
from tests.factories import EmergencyContactFactory, PolicyFactory, StudentFactory
from tests.helpers import web_client

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "tumbling-mats-2026"


def html(response) -> str:
    return response.content.decode()


def assert_field_error(response, status: int, field: str, message: str) -> str:
    """The page answers ``status`` and shows ``message`` next to ``field``'s input, which points
    to it with aria-describedby and is marked invalid."""
    assert response.status_code == status, html(response)[:3000]
    page = html(response)
    assert f'id="{field}-error"' in page, page[:3000]
    error = re.search(rf'<span class="field-error" id="{field}-error">(.*?)</span>', page, re.S)
    assert error and message in error.group(1), (error and error.group(1), message)
    tag = re.search(rf'<(input|select|textarea)[^>]*id="id_{field}"[^>]*>', page)
    assert tag, f"no input for {field}"
    assert 'aria-invalid="true"' in tag.group(0)
    assert f"{field}-error" in tag.group(0)
    return page


# --- sign up -----------------------------------------------------------------------------


def test_signup_creates_the_family_and_signs_in(in_tenant_a):
    policy = PolicyFactory(title="House rules")
    client = web_client(in_tenant_a)
    page = html(client.get("/signup/"))
    assert "House rules" in page
    response = client.post(
        "/signup/",
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "email": "ana@example.test",
            "phone": "555-0100",
            "password": GOOD_PASSWORD,
            f"policy_{policy.pk}": "accepted",
            f"policy_{policy.pk}_version": str(policy.version),
            "signature": "Ana Lopez",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/family/"
    guardian = Guardian.objects.get(email="ana@example.test")
    assert guardian.is_primary and guardian.family.name == "Lopez family"
    assert PolicyAcceptance.objects.filter(family=guardian.family, policy=policy).exists()
    assert "Lopez family" in html(client.get("/family/"))


@pytest.mark.parametrize(
    ("changes", "status", "field", "message"),
    [
        ({"email": "not-an-email"}, 400, "email", "Enter a valid email address."),
        ({"email": "taken@example.test"}, 409, "email", "An account with this email already"),
        ({"password": "password"}, 400, "password", "This password is too common."),
        ({"first_name": "  "}, 400, "first_name", "First name is required."),
        ({"signature": ""}, 400, "signature", ""),
    ],
)
def test_signup_with_bad_input_shows_the_apis_field_error_and_creates_nothing(
    changes, status, field, message, in_tenant_a
):
    User.objects.create_user(email="taken@example.test", password=GOOD_PASSWORD)
    policy = PolicyFactory(title="House rules")
    data = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "email": "ana@example.test",
        "password": GOOD_PASSWORD,
        f"policy_{policy.pk}": "accepted",
        f"policy_{policy.pk}_version": str(policy.version),
        "signature": "Ana Lopez",
        **changes,
    }
    families = Family.objects.count()
    response = web_client(in_tenant_a).post("/signup/", data)
    if field == "signature":
        # The service names the policies group: "Type your name to accept ..."
        assert response.status_code == 400
        assert "Type your name to accept “House rules”." in html(response)
    else:
        page = assert_field_error(response, status, field, message)
        if field != "email":
            assert 'value="ana@example.test"' in page  # the input is kept
    assert 'type="password"' in html(response) and GOOD_PASSWORD not in html(response)
    assert Family.objects.count() == families
    assert not User.objects.filter(email="ana@example.test").exists()


def test_signup_without_accepting_the_policies_is_refused(in_tenant_a):
    PolicyFactory(title="House rules")
    response = web_client(in_tenant_a).post(
        "/signup/",
        {"first_name": "A", "last_name": "B", "email": "a@example.test", "password": GOOD_PASSWORD},
    )
    assert response.status_code == 400
    assert "Please read and accept: House rules." in html(response)
    assert not User.objects.filter(email="a@example.test").exists()


def test_signup_closed_when_the_business_takes_no_accounts_online(in_tenant_a):
    portal_settings_update(visitors_may_create_accounts=False)
    client = web_client(in_tenant_a)
    response = client.post(
        "/signup/",
        {"first_name": "A", "last_name": "B", "email": "a@example.test", "password": GOOD_PASSWORD},
    )
    assert response.status_code == 403
    assert "does not take new accounts online" in html(response)
    assert not User.objects.filter(email="a@example.test").exists()


def test_login_with_a_wrong_password(family_a):
    response = web_client(family_a.tenant).post(
        "/login/", {"email": family_a.guardian.email, "password": "wrong"}
    )
    assert response.status_code == 401
    assert "The email or password is not correct." in html(response)
    assert f'value="{family_a.guardian.email}"' in html(response)


# --- family profile -----------------------------------------------------------------------


def test_add_and_edit_a_student(family_web):
    response = family_web.web.post(
        "/family/students/add/",
        {
            "first_name": "Leo",
            "last_name": "Rivera",
            "date_of_birth": "2019-04-02",
            "gender": "male",
        },
    )
    assert response.status_code == 302
    leo = Student.objects.get(first_name="Leo")
    assert leo.family_id == family_web.family.pk and leo.gender == "male"
    response = family_web.web.post(
        f"/family/students/{leo.pk}/",
        {
            "first_name": "Leon",
            "last_name": "Rivera",
            "date_of_birth": "2019-04-02",
            "gender": "male",
            "medical_notes": "Asthma",
        },
    )
    assert response.status_code == 302
    leo.refresh_from_db()
    assert leo.first_name == "Leon" and leo.medical_notes == "Asthma"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date_of_birth": "02/04/2019"}, "date_of_birth", "Date has wrong format."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "The date of birth is in the future."),
        ({"first_name": ""}, "first_name", "First name is required."),
        ({"gender": "robot"}, "gender", "Choose one of:"),
        ({"level": "999999"}, "level", "That level does not exist."),
        ({"medical_notes": "x" * 5001}, "medical_notes", "no more than 5000 characters"),
    ],
)
def test_adding_a_student_with_bad_input_changes_nothing(changes, field, message, family_web):
    portal_settings_update(families_may_set_levels=True)  # the level picker is shown
    data = {"first_name": "Leo", "last_name": "Rivera", "date_of_birth": "2019-04-02", **changes}
    before = Student.objects.count()
    response = family_web.web.post("/family/students/add/", data)
    if field in ("gender", "level"):
        # Rendered as a select (level only when the business has levels).
        assert response.status_code == 400
        assert message in html(response)
    else:
        assert_field_error(response, 400, field, message)
    assert Student.objects.count() == before


def test_a_student_of_another_family_is_not_found(family_web):
    other = StudentFactory(first_name="Stranger")
    response = family_web.web.get(f"/family/students/{other.pk}/")
    assert response.status_code == 404 and "Stranger" not in html(response)
    response = family_web.web.post(
        f"/family/students/{other.pk}/",
        {"first_name": "Hacked", "last_name": "X", "date_of_birth": "2019-01-01"},
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.first_name == "Stranger"


def test_emergency_contacts(family_web):
    bad = family_web.web.post("/family/contacts/add/", {"name": "Grandma", "phone": ""})
    assert_field_error(bad, 400, "phone", "A phone number is required.")
    assert not EmergencyContact.objects.exists()
    good = family_web.web.post(
        "/family/contacts/add/", {"name": "Grandma", "phone": "555-0101", "relationship": "Gran"}
    )
    assert good.status_code == 302
    contact = EmergencyContact.objects.get()
    assert "Grandma" in html(family_web.web.get("/family/"))
    # Deleting needs a POST, and only the family's own contacts.
    assert family_web.web.get(f"/family/contacts/{contact.pk}/delete/").status_code == 405
    stranger = EmergencyContactFactory(name="Not yours")
    assert family_web.web.post(f"/family/contacts/{stranger.pk}/delete/").status_code == 404
    assert EmergencyContact.objects.filter(pk=stranger.pk).exists()
    assert family_web.web.post(f"/family/contacts/{contact.pk}/delete/").status_code == 302
    assert not EmergencyContact.objects.filter(pk=contact.pk).exists()


def test_family_details_and_bad_country(family_web):
    bad = family_web.web.post("/family/edit/", {"name": "Riveras", "country": "USA"})
    assert_field_error(bad, 400, "country", "Use a two-letter country code")
    family_web.family.refresh_from_db()
    assert family_web.family.name != "Riveras"
    good = family_web.web.post("/family/edit/", {"name": "Riveras", "city": "Austin"})
    assert good.status_code == 302
    family_web.family.refresh_from_db()
    assert family_web.family.name == "Riveras" and family_web.family.city == "Austin"


def test_add_a_guardian_and_a_taken_email(family_web):
    taken = family_web.web.post(
        "/family/guardians/add/",
        {"first_name": "Sam", "last_name": "Rivera", "email": family_web.guardian.email},
    )
    assert_field_error(taken, 409, "email", "An account with this email already exists.")
    ok = family_web.web.post(
        "/family/guardians/add/",
        {"first_name": "Sam", "last_name": "Rivera", "email": "sam@example.test"},
    )
    assert ok.status_code == 302
    assert Guardian.objects.filter(family=family_web.family, email="sam@example.test").exists()


def test_policies_to_accept(family_web):
    policy = PolicyFactory(title="Waiver", required_at_signup=False)
    page = html(family_web.web.get("/family/"))
    assert "Waiver" in page and f'value="{policy.pk}:{policy.version}"' in page
    missing = family_web.web.post(
        "/family/policies/", {"accept": f"{policy.pk}:{policy.version}", "signature": ""}
    )
    assert missing.status_code == 400
    assert "Type your name to accept “Waiver”." in html(missing)
    assert not PolicyAcceptance.objects.exists()
    stale = family_web.web.post(
        "/family/policies/", {"accept": f"{policy.pk}:{policy.version + 1}", "signature": "Dana"}
    )
    assert stale.status_code == 409 and "has changed since you read it" in html(stale)
    ok = family_web.web.post(
        "/family/policies/", {"accept": f"{policy.pk}:{policy.version}", "signature": "Dana R"}
    )
    assert ok.status_code == 302
    assert PolicyAcceptance.objects.get().signature == "Dana R"
    assert f'value="{policy.pk}:{policy.version}"' not in html(family_web.web.get("/family/"))


def test_search_with_a_bad_filter_shows_the_apis_message(in_tenant_a):
    response = web_client(in_tenant_a).get("/classes/?age=500")
    assert_field_error(response, 400, "age", "Age must be between 0 and 120.")
    response = web_client(in_tenant_a).get("/classes/?from=2026-05-01&to=2026-04-01")
    assert_field_error(response, 400, "to", "The end of the date range is before its start.")
    response = web_client(in_tenant_a).get("/classes/find/?age=")
    assert response.status_code == 200  # nothing asked yet: just the form
    response = web_client(in_tenant_a).get("/classes/find/?born=yesterday")
    assert_field_error(response, 400, "born", "is not a date")


def test_sign_in_attempts_are_throttled_like_the_api(family_a, monkeypatch):
    from django.core.cache import cache

    from portal_web.account import _AuthThrottle

    monkeypatch.setattr(_AuthThrottle, "THROTTLE_RATES", {"portal-auth": "3/minute"})
    key = "throttle_portal-web-auth_127.0.0.1"
    cache.delete(key)  # tenant A's key (the cache key function adds the schema)
    client = web_client(family_a.tenant)
    wrong = {"email": family_a.guardian.email, "password": "wrong"}
    for _ in range(3):
        assert client.post("/login/", wrong).status_code == 401
    response = client.post(
        "/login/", {"email": family_a.guardian.email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts." in html(response)
    assert "_auth_user_id" not in client.session
    cache.delete(key)


def test_the_level_is_the_businesss_unless_it_lets_families_choose(family_web):
    from tests.factories import LevelFactory

    level = LevelFactory(name="Beginner", position=1)
    student = family_web.student
    form = html(family_web.web.get(f"/family/students/{student.pk}/"))
    assert 'name="level"' not in form
    assert "The business places each student in a level" in form
    data = {"first_name": "Mia", "last_name": "Rivera", "date_of_birth": "2019-04-02"}
    forced = family_web.web.post(f"/family/students/{student.pk}/", {**data, "level": level.pk})
    assert forced.status_code == 403
    assert "Levels are set by the business" in html(forced)
    student.refresh_from_db()
    assert student.level_id is None
    spanish = family_web.web.get(f"/family/students/{student.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "El negocio asigna el nivel de cada alumno" in html(spanish)
    portal_settings_update(families_may_set_levels=True)
    form = html(family_web.web.get(f"/family/students/{student.pk}/"))
    assert 'name="level"' in form
    ok = family_web.web.post(f"/family/students/{student.pk}/", {**data, "level": level.pk})
    assert ok.status_code == 302
    student.refresh_from_db()
    assert student.level_id == level.pk
