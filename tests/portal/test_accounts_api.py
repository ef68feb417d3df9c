import json

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import tenant_context

from kernel.users.models import ApiToken, User
from portal.accounts.models import Family, Guardian, PolicyAcceptance, Student
from portal.config.services import portal_settings_update
from tests.factories import PASSWORD, GuardianFactory, LevelFactory, PolicyFactory, StudentFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor

pytestmark = pytest.mark.django_db

API = "/api/v1"
SIGNUP = {
    "first_name": "Ana",
    "last_name": "Lopez",
    "email": "Ana.Lopez@example.com",
    "password": "tumbling-mats-2026",
}
FAMILY_ENDPOINTS = [
    ("get", f"{API}/family", None),
    ("patch", f"{API}/family", {"city": "Austin"}),
    ("get", f"{API}/family/students", None),
    (
        "post",
        f"{API}/family/students",
        {"first_name": "X", "last_name": "Y", "date_of_birth": "2019-01-01"},
    ),
    ("get", f"{API}/family/guardians", None),
    ("post", f"{API}/family/guardians", {"first_name": "X", "last_name": "Y", "email": "x@y.test"}),
    ("get", f"{API}/family/emergency-contacts", None),
    ("post", f"{API}/family/emergency-contacts", {"name": "Gran", "phone": "555-1234"}),
    ("post", f"{API}/family/policies", {"policies": []}),
]


def send(client, method, path, data=None):
    return getattr(client, method)(
        path, data=json.dumps(data) if data is not None else None, content_type="application/json"
    )


# --- signup ----------------------------------------------------------------------------------


def test_signup_creates_family_guardian_login_and_token(in_tenant_a):
    terms = PolicyFactory(title="Rules", version=1)
    response = send(
        client_for(in_tenant_a),
        "post",
        f"{API}/auth/signup",
        {
            **SIGNUP,
            "phone": "555-2000",
            "policies": [{"policy": terms.pk, "version": 1, "signature": "Ana Lopez"}],
        },
    )
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    connection.set_tenant(in_tenant_a)
    guardian = Guardian.objects.select_related("family", "user").get()
    assert guardian.email == "ana.lopez@example.com"
    assert guardian.is_primary and guardian.user.check_password(SIGNUP["password"])
    assert guardian.family.name == "Lopez family"
    acceptance = PolicyAcceptance.objects.get()
    assert (acceptance.policy, acceptance.version, acceptance.signature) == (terms, 1, "Ana Lopez")
    family = client_for(in_tenant_a, token=token).get(f"{API}/family").json()
    assert family["you"]["email"] == "ana.lopez@example.com"
    assert family["policies_to_accept"] == []


def test_signup_refused_when_the_business_takes_no_accounts_online(in_tenant_a):
    portal_settings_update(visitors_may_create_accounts=False)
    response = send(client_for(in_tenant_a), "post", f"{API}/auth/signup", SIGNUP)
    assert_error(
        response,
        403,
        "signup_disabled",
        "This business does not take new accounts online. Please contact them to register.",
    )
    connection.set_tenant(in_tenant_a)
    assert not User.objects.filter(email__iexact=SIGNUP["email"]).exists()


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"password": "password"}, 400, "password_too_common"),
        ({"password": "short"}, 400, "password_too_weak"),
        ({"password": "12345678901234"}, 400, "password_too_weak"),
        ({"password": "ana.lopez.example"}, 400, "password_too_weak"),
        ({"email": "not-an-email"}, 400, "email_invalid"),
        ({"first_name": " "}, 400, "first_name_required"),
        ({"last_name": ""}, 400, "last_name_required"),
        ({"email": None}, 400, "invalid_input"),
        ({"policies": "yes"}, 400, "invalid_input"),
        (
            {"policies": [{"policy": 999999, "version": 1, "signature": "A"}]},
            400,
            "policy_not_found",
        ),
    ],
)
def test_signup_bad_input_saves_nothing(changes, status, code, in_tenant_a):
    response = send(client_for(in_tenant_a), "post", f"{API}/auth/signup", {**SIGNUP, **changes})
    assert_error(response, status, code)
    connection.set_tenant(in_tenant_a)
    assert not User.objects.exclude(email="owner@alpha.test").exists()
    assert not Family.objects.exists()


def test_signup_with_a_taken_email(family_a):
    response = send(
        client_for(family_a.tenant),
        "post",
        f"{API}/auth/signup",
        {**SIGNUP, "email": "PARENT@alpha.test"},
    )
    assert_error(
        response,
        409,
        "email_taken",
        "An account with this email already exists. Sign in or reset your password.",
    )
    connection.set_tenant(family_a.tenant)
    assert Family.objects.count() == 1


def test_signup_requires_the_signup_policies_in_their_current_version(in_tenant_a):
    waiver = PolicyFactory(title="Waiver", kind="waiver")
    client = client_for(in_tenant_a)
    assert_error(
        send(client, "post", f"{API}/auth/signup", SIGNUP),
        400,
        "policies_not_accepted",
        "Please read and accept: Waiver.",
    )
    stale = {"policies": [{"policy": waiver.pk, "version": 0, "signature": "Ana"}]}
    assert_error(
        send(client, "post", f"{API}/auth/signup", {**SIGNUP, **stale}),
        409,
        "policy_version_changed",
    )
    unsigned = {"policies": [{"policy": waiver.pk, "version": 1, "signature": "  "}]}
    assert_error(
        send(client, "post", f"{API}/auth/signup", {**SIGNUP, **unsigned}),
        400,
        "signature_required",
    )
    connection.set_tenant(in_tenant_a)
    assert not User.objects.filter(email__iexact=SIGNUP["email"]).exists()


def test_signup_referral_source_when_the_business_asks(in_tenant_a):
    portal_settings_update(referral_source_required=True, referral_sources="Friend\nGoogle")
    client = client_for(in_tenant_a)
    assert_error(
        send(client, "post", f"{API}/auth/signup", SIGNUP), 400, "referral_source_required"
    )
    assert_error(
        send(client, "post", f"{API}/auth/signup", {**SIGNUP, "referral_source": "TV"}),
        400,
        "referral_source_invalid",
        "Choose one of: Friend, Google.",
    )
    response = send(client, "post", f"{API}/auth/signup", {**SIGNUP, "referral_source": "Google"})
    assert response.status_code == 201
    connection.set_tenant(in_tenant_a)
    assert Family.objects.get().referral_source == "Google"


# --- tokens, logout, suspension --------------------------------------------------------------


def test_token_sign_in_one_token_per_device(family_a):
    client = client_for(family_a.tenant)
    body = {"email": "parent@alpha.test", "password": PASSWORD, "device": "iphone"}
    first = send(client, "post", f"{API}/auth/token", body).json()["token"]
    second = send(client, "post", f"{API}/auth/token", body).json()["token"]
    assert first != second
    assert client_for(family_a.tenant, token=first).get(f"{API}/family").status_code == 401
    assert client_for(family_a.tenant, token=second).get(f"{API}/family").status_code == 200
    connection.set_tenant(family_a.tenant)
    assert (
        ApiToken.objects.active().filter(user=family_a.guardian.user).count() == 2
    )  # tests + iphone


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_token_with_bad_credentials(password, family_a):
    response = send(
        client_for(family_a.tenant),
        "post",
        f"{API}/auth/token",
        {"email": "parent@alpha.test", "password": password},
    )
    if password == "":
        assert_error(response, 400, "invalid_input")
    else:
        assert_error(response, 401, "invalid_credentials", "The email or password is not correct.")


def test_suspended_family_cannot_sign_in_and_is_told_who_to_contact(family_a):
    Family.objects.filter(pk=family_a.family.pk).update(status=Family.Status.SUSPENDED)
    message = (
        "There is an issue with your account. Please contact Alpha Gymnastics at owner@alpha.test."
    )
    response = send(
        client_for(family_a.tenant),
        "post",
        f"{API}/auth/token",
        {"email": "parent@alpha.test", "password": PASSWORD},
    )
    assert_error(response, 403, "family_suspended", message)
    assert_error(family_a.client().get(f"{API}/family"), 403, "family_suspended", message)


def test_logout_revokes_the_token(family_a):
    client = family_a.client()
    assert client.post(f"{API}/auth/logout").status_code == 204
    assert_error(client.get(f"{API}/family"), 401, "authentication_failed")
    assert_error(client_for(family_a.tenant).post(f"{API}/auth/logout"), 401, "not_authenticated")


def test_token_is_stored_hashed(family_a):
    connection.set_tenant(family_a.tenant)
    stored = ApiToken.objects.get(user=family_a.guardian.user)
    assert stored.key_hash == ApiToken.hash(family_a.token)
    assert family_a.token not in json.dumps(list(ApiToken.objects.values()), default=str)


# --- password reset --------------------------------------------------------------------------


def test_password_reset_round_trip(family_a, django_capture_on_commit_callbacks):
    client = client_for(family_a.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            client, "post", f"{API}/auth/password-reset", {"email": "parent@alpha.test"}
        )
    assert response.status_code == 202
    (message,) = mail.outbox
    assert message.subject == "Reset your Alpha Gymnastics password"
    link = next(line for line in message.body.splitlines() if "/account/reset/" in line)
    assert link.startswith("http://alpha.testserver.local/account/reset/")
    uid, token = link.rstrip("/").split("/")[-2:]
    confirm = {"uid": uid, "token": token, "password": PASSWORD}
    assert_error(
        send(client, "post", f"{API}/auth/password-reset/confirm", confirm), 400, "password_reused"
    )
    confirm["password"] = "a-brand-new-vault-7"
    assert send(client, "post", f"{API}/auth/password-reset/confirm", confirm).status_code == 204
    assert_error(
        send(client, "post", f"{API}/auth/password-reset/confirm", confirm),
        400,
        "reset_link_invalid",
    )  # single use
    ok = send(
        client,
        "post",
        f"{API}/auth/token",
        {"email": "parent@alpha.test", "password": "a-brand-new-vault-7"},
    )
    assert ok.status_code == 200


def test_password_reset_says_the_same_for_unknown_emails(
    in_tenant_a, django_capture_on_commit_callbacks
):
    client = client_for(in_tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        for email in ("nobody@example.com", "not an email"):
            response = send(client, "post", f"{API}/auth/password-reset", {"email": email})
            assert response.status_code == 202
            assert response.json() == {
                "message": "If an account uses this address, we have emailed it a reset link."
            }
    assert mail.outbox == []


@pytest.mark.parametrize("uid", ["", "!!!", "MTIzNDU2Nzg5", "eA"])
def test_password_reset_confirm_with_a_bad_link(uid, in_tenant_a):
    response = send(
        client_for(in_tenant_a),
        "post",
        f"{API}/auth/password-reset/confirm",
        {"uid": uid or "x", "token": "abc-def", "password": "whatever-long-1"},
    )
    assert_error(response, 400, "reset_link_invalid")


# --- family, students, guardians, contacts ---------------------------------------------------


def test_family_shows_guardians_students_contacts_and_medical_notes(family_a):
    body = family_a.client().get(f"{API}/family").json()
    assert body["name"] == family_a.family.name
    assert [g["email"] for g in body["guardians"]] == ["parent@alpha.test"]
    assert body["students"][0]["first_name"] == "Mia"
    assert body["students"][0]["medical_notes"] == "Peanut allergy"
    assert body["you"]["is_primary"] is True


def test_primary_guardian_updates_the_family(family_a):
    response = send(
        family_a.client(),
        "patch",
        f"{API}/family",
        {"city": "Austin", "country": "us", "name": "The Riveras"},
    )
    assert response.status_code == 200
    assert (response.json()["city"], response.json()["country"], response.json()["name"]) == (
        "Austin",
        "US",
        "The Riveras",
    )


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"country": "USA"}, "country_invalid"),
        ({"name": ""}, "name_required"),
        ({"city": "x" * 101}, "invalid_input"),
        ({"status": "active"}, None),
    ],
)
def test_family_update_bad_input(payload, code, family_a):
    response = send(family_a.client(), "patch", f"{API}/family", payload)
    if code is None:  # unknown fields are ignored, never applied
        assert response.status_code == 200
        connection.set_tenant(family_a.tenant)
        assert Family.objects.get().status == "active"
        return
    assert_error(response, 400, code)
    connection.set_tenant(family_a.tenant)
    assert Family.objects.get().name == family_a.family.name


def test_only_the_primary_guardian_changes_family_details(family_a):
    second = GuardianFactory(family=family_a.family, is_primary=False, email="second@alpha.test")
    actor = make_actor(family_a.tenant, email="unused@alpha.test")
    from kernel.users.services import api_token_issue

    with tenant_context(family_a.tenant):
        _, token = api_token_issue(user=second.user)
    client = client_for(family_a.tenant, token=token)
    assert client.get(f"{API}/family").status_code == 200
    assert_error(
        send(client, "patch", f"{API}/family", {"city": "X"}),
        403,
        "primary_guardian_only",
        "Only the primary guardian can change this.",
    )
    assert_error(
        send(
            client,
            "post",
            f"{API}/family/guardians",
            {"first_name": "A", "last_name": "B", "email": "c@d.test"},
        ),
        403,
        "primary_guardian_only",
    )
    assert actor.user.pk


def test_students_add_edit_and_validation(family_a):
    client = family_a.client()
    with tenant_context(family_a.tenant):
        level = LevelFactory(name="Beginner", position=1)
        portal_settings_update(families_may_set_levels=True)
    created = send(
        client,
        "post",
        f"{API}/family/students",
        {
            "first_name": "Leo",
            "last_name": "Rivera",
            "date_of_birth": "2017-03-04",
            "gender": "male",
            "level": level.pk,
            "medical_notes": "Asthma",
        },
    )
    assert created.status_code == 201, created.content
    student_id = created.json()["id"]
    assert created.json()["level"] == {"id": level.pk, "name": "Beginner"}
    updated = send(client, "patch", f"{API}/family/students/{student_id}", {"medical_notes": ""})
    assert updated.json()["medical_notes"] == ""
    assert len(client.get(f"{API}/family/students").json()) == 2
    for payload, code in [
        (
            {"first_name": "A", "last_name": "B", "date_of_birth": "2999-01-01"},
            "date_of_birth_in_future",
        ),
        (
            {"first_name": "A", "last_name": "B", "date_of_birth": "1800-01-01"},
            "date_of_birth_invalid",
        ),
        ({"first_name": "A", "last_name": "B", "date_of_birth": "31/12/2019"}, "invalid_input"),
        (
            {"first_name": "A", "last_name": "B", "date_of_birth": "2019-01-01", "gender": "x"},
            "gender_invalid",
        ),
        (
            {"first_name": "A", "last_name": "B", "date_of_birth": "2019-01-01", "level": 99999},
            "level_not_found",
        ),
        (
            {"first_name": "", "last_name": "B", "date_of_birth": "2019-01-01"},
            "first_name_required",
        ),
    ]:
        assert_error(send(client, "post", f"{API}/family/students", payload), 400, code)
    with tenant_context(family_a.tenant):
        assert Student.objects.count() == 2


def test_another_familys_student_is_not_found(family_a):
    with tenant_context(family_a.tenant):
        other = StudentFactory(first_name="Other")
    client = family_a.client()
    assert_error(client.get(f"{API}/family/students/{other.pk}"), 404, "student_not_found")
    assert_error(
        send(client, "patch", f"{API}/family/students/{other.pk}", {"first_name": "Hacked"}),
        404,
        "student_not_found",
    )
    with tenant_context(family_a.tenant):
        other.refresh_from_db()
        assert other.first_name == "Other"
    assert "Peanut" not in client.get(f"{API}/family/students").content.decode().replace(
        "Peanut allergy", "", 1
    )  # only Mia's own note


def test_primary_guardian_adds_a_guardian_who_gets_a_login_email(
    family_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            family_a.client(),
            "post",
            f"{API}/family/guardians",
            {
                "first_name": "Sam",
                "last_name": "Rivera",
                "email": "Sam@Alpha.test",
                "relationship": "Father",
            },
        )
    assert response.status_code == 201
    assert response.json()["is_primary"] is False
    (message,) = mail.outbox
    assert message.to == ["sam@alpha.test"]
    assert "http://alpha.testserver.local/account/set-password/" in message.body
    assert_error(
        send(
            family_a.client(),
            "post",
            f"{API}/family/guardians",
            {"first_name": "Sam", "last_name": "R", "email": "sam@alpha.test"},
        ),
        409,
        "email_taken",
    )


def test_emergency_contacts(family_a):
    client = family_a.client()
    created = send(
        client,
        "post",
        f"{API}/family/emergency-contacts",
        {"name": "Grandma Rose", "phone": "+1 555 0100", "relationship": "Grandmother"},
    )
    assert created.status_code == 201
    assert_error(
        send(client, "post", f"{API}/family/emergency-contacts", {"name": "X", "phone": "abc"}),
        400,
        "phone_invalid",
    )
    assert_error(
        send(client, "post", f"{API}/family/emergency-contacts", {"name": "X", "phone": ""}),
        400,
        "phone_required",
    )
    contact_id = created.json()["id"]
    assert client.delete(f"{API}/family/emergency-contacts/{contact_id}").status_code == 204
    assert_error(
        client.delete(f"{API}/family/emergency-contacts/{contact_id}"), 404, "contact_not_found"
    )


def test_policies_are_asked_again_when_they_change(family_a):
    from portal.accounts.services import policy_save

    with tenant_context(family_a.tenant):
        waiver = PolicyFactory(title="Waiver", kind="waiver")
        medical = PolicyFactory(title="Medical release", scope="student", required_at_signup=False)
    client = family_a.client()
    pending = client.get(f"{API}/family").json()["policies_to_accept"]
    assert {(p["policy"]["title"], p["student_id"]) for p in pending} == {
        ("Waiver", None),
        ("Medical release", family_a.student.pk),
    }
    response = send(
        client,
        "post",
        f"{API}/family/policies",
        {
            "policies": [
                {"policy": waiver.pk, "version": 1, "signature": "Dana Rivera"},
                {
                    "policy": medical.pk,
                    "version": 1,
                    "signature": "Dana Rivera",
                    "student": family_a.student.pk,
                },
            ]
        },
    )
    assert response.status_code == 200
    assert response.json()["policies_to_accept"] == []
    with tenant_context(family_a.tenant):
        waiver.body = "New rules."
        policy_save(policy=waiver, text_changed=True)
    pending = client.get(f"{API}/family").json()["policies_to_accept"]
    assert [(p["policy"]["title"], p["policy"]["version"]) for p in pending] == [("Waiver", 2)]
    assert_error(
        send(
            client,
            "post",
            f"{API}/family/policies",
            {"policies": [{"policy": medical.pk, "version": 1, "signature": "Dana"}]},
        ),
        400,
        "student_required",
    )
    assert_error(
        send(client, "post", f"{API}/family/policies", {"policies": []}), 400, "policies_required"
    )


def test_public_policy_list(in_tenant_a):
    PolicyFactory(title="Rules")
    PolicyFactory(title="Old", is_active=False)
    body = client_for(in_tenant_a).get(f"{API}/policies").json()
    assert [p["title"] for p in body] == ["Rules"]


# --- permissions and isolation ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "data"), FAMILY_ENDPOINTS)
def test_family_endpoints_need_a_signed_in_family(method, path, data, in_tenant_a):
    assert_error(send(client_for(in_tenant_a), method, path, data), 401, "not_authenticated")
    staff = make_actor(in_tenant_a, email="coach@alpha.test", staff=True)
    assert_error(
        send(staff.client(), method, path, data),
        403,
        "not_a_family_account",
        "This account does not belong to a family.",
    )


@pytest.mark.parametrize(("method", "path", "data"), FAMILY_ENDPOINTS)
def test_a_family_token_means_nothing_on_another_business(method, path, data, family_a, tenant_b):
    assert_cross_tenant_denied(
        credentials_client=family_a.client(),
        target=tenant_b,
        method=method,
        path=path,
        data=data,
        forbidden_text=["Rivera", "Peanut"],
    )
    with tenant_context(tenant_b):
        assert not Student.objects.exists() and not Guardian.objects.exists()


def test_a_family_token_is_not_accepted_by_the_platform_api(family_a):
    assert_cross_tenant_denied(
        credentials_client=family_a.client(),
        target=None,
        method="get",
        path="/api/platform/v1/tenants",
    )


def test_the_reset_link_in_the_email_opens_a_page(family_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(
            client_for(family_a.tenant),
            "post",
            f"{API}/auth/password-reset",
            {"email": "parent@alpha.test"},
        )
    link = next(line for line in mail.outbox[0].body.splitlines() if "/account/reset/" in line)
    page = client_for(family_a.tenant).get(
        link.removeprefix("http://alpha.testserver.local"), follow=True
    )
    assert page.status_code == 200
    assert b"Choose your password" in page.content


def test_levels_are_set_by_staff_unless_the_business_lets_families(family_a):
    """``families_may_set_levels`` off (the default): a family may not choose or change a
    level (``level_set_by_staff``, nothing saved), but may send back the level it has; on, it
    may."""
    client = family_a.client()
    with tenant_context(family_a.tenant):
        beginner = LevelFactory(name="Beginner", position=1)
        advanced = LevelFactory(name="Advanced", position=2)
        Student.objects.filter(pk=family_a.student.pk).update(level=beginner)
    mia = f"{API}/family/students/{family_a.student.pk}"
    new = {"first_name": "Leo", "last_name": "Rivera", "date_of_birth": "2017-03-04"}
    body = assert_error(
        send(client, "post", f"{API}/family/students", {**new, "level": beginner.pk}),
        403,
        "level_set_by_staff",
        "Levels are set by the business; ask them to place your student.",
    )
    assert body["fields"] == {"level": [body["message"]]}
    assert_error(send(client, "patch", mia, {"level": advanced.pk}), 403, "level_set_by_staff")
    assert_error(send(client, "patch", mia, {"level": None}), 403, "level_set_by_staff")
    with tenant_context(family_a.tenant):
        assert Student.objects.get(pk=family_a.student.pk).level_id == beginner.pk
        assert Student.objects.filter(family=family_a.family).count() == 1
    # Without a level, or with the one the student has, the rest of the profile saves.
    assert send(client, "post", f"{API}/family/students", new).status_code == 201
    same = send(client, "patch", mia, {"level": beginner.pk, "medical_notes": "Asthma"})
    assert same.status_code == 200 and same.json()["medical_notes"] == "Asthma"
    assert client.get(f"{API}/portal").json()["settings"]["families_may_set_levels"] is False
    with tenant_context(family_a.tenant):
        portal_settings_update(families_may_set_levels=True)
    moved = send(client, "patch", mia, {"level": advanced.pk})
    assert moved.status_code == 200 and moved.json()["level"]["id"] == advanced.pk
    assert client.get(f"{API}/portal").json()["settings"]["families_may_set_levels"] is True
