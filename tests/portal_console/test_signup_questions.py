"""Custom signup questions: staff define them in the console, families answer them on the web
signup form and through the API (the app), answers are kept per family with the question's
wording and shown to staff on the family's page; bad input is refused and changes nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.accounts.models import Family, SignupAnswer
from portal.config.models import SignupQuestion
from tests.helpers import assert_error, client_for, host_of, make_actor

pytestmark = pytest.mark.django_db


def signed_in(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def owner_client(in_tenant_a):
    return signed_in(in_tenant_a, User.objects.get(email=in_tenant_a.owner_email))


def add(client, **values) -> object:
    data = {"label": "", "help_text": "", "kind": "text", "choices": "", "sort_order": "0",
            "is_active": "on", **values}  # fmt: skip
    return client.post("/console/settings/signup-questions/", data)


def test_staff_define_questions_and_families_answer_them_on_the_web(in_tenant_a, owner_client):
    assert (
        add(owner_client, label="Which school?", required="on", sort_order="1").status_code == 302
    )
    assert add(owner_client, label="T-shirt size", kind="choice", choices="S\nM\nL",
               sort_order="2").status_code == 302  # fmt: skip
    assert add(owner_client, label="Photos on our website?", kind="yes_no",
               sort_order="3").status_code == 302  # fmt: skip
    school, size, photos = SignupQuestion.objects.order_by("sort_order")
    page = owner_client.get("/console/settings/signup-questions/").content.decode()
    assert "Which school?" in page and "One of a list" in page
    visitor = Client(HTTP_HOST=host_of(in_tenant_a))
    form = visitor.get("/signup/").content.decode()
    assert form.index("Which school?") < form.index("T-shirt size") < form.index("Photos on")
    assert f'name="question_{size.pk}"' in form and '<option value="M"' in form
    base = {"first_name": "Ana", "last_name": "Lopez", "email": "ana@example.com",
            "password": "tumbling-mats-2026"}  # fmt: skip
    missing = visitor.post("/signup/", {**base, f"question_{size.pk}": "M"})
    assert missing.status_code == 400 and "Please answer: Which school?" in missing.content.decode()
    assert not Family.objects.filter(name="Lopez family").exists()
    wrong = visitor.post(
        "/signup/", {**base, f"question_{school.pk}": "Elm", f"question_{size.pk}": "XXL"}
    )
    assert wrong.status_code == 400 and "Choose one of: S, M, L." in wrong.content.decode()
    answers = {
        f"question_{school.pk}": " Elm Street ",
        f"question_{size.pk}": "M",
        f"question_{photos.pk}": "no",
    }
    ok = visitor.post("/signup/", {**base, **answers})
    assert ok.status_code == 302
    family = Family.objects.get(name="Lopez family")
    answers = {a.question_label: a.value for a in SignupAnswer.objects.filter(family=family)}
    assert answers == {"Which school?": "Elm Street", "T-shirt size": "M",
                       "Photos on our website?": "no"}  # fmt: skip
    # Staff see the answers on the family's page, even after the question is reworded.
    reworded = {"action": "save", "label": "School name", "kind": "text", "is_active": "on"}
    owner_client.post(f"/console/settings/signup-questions/{school.pk}", reworded)
    staff_page = owner_client.get(f"/console/families/{family.pk}/").content.decode()
    assert "Signup answers" in staff_page and "Which school?" in staff_page
    assert "Elm Street" in staff_page


def test_the_api_lists_the_questions_and_takes_answers(in_tenant_a, owner_client):
    add(owner_client, label="Which school?", required="on")
    question = SignupQuestion.objects.get()
    visitor = client_for(in_tenant_a)
    listed = visitor.get("/api/v1/portal").json()["signup_questions"]
    assert listed == [{"id": question.pk, "label": "Which school?", "help_text": "",
                       "kind": "text", "choices": [], "required": True}]  # fmt: skip
    body = {"first_name": "Ana", "last_name": "Lopez", "email": "ana@example.com",
            "password": "tumbling-mats-2026"}  # fmt: skip
    refused = assert_error(visitor.post("/api/v1/auth/signup", body, format="json"), 400,
                           "signup_answer_required")  # fmt: skip
    assert f"question_{question.pk}" in refused["fields"]
    assert_error(visitor.post("/api/v1/auth/signup", {**body, "answers": ["x"]}, format="json"),
                 400, "invalid_input")  # fmt: skip
    body["answers"] = {str(question.pk): "Elm"}
    created = visitor.post("/api/v1/auth/signup", body, format="json")
    assert created.status_code == 201, created.content
    assert SignupAnswer.objects.get().value == "Elm"
    staff = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    connection.set_tenant(in_tenant_a)
    family = Family.objects.get(name="Lopez family")
    detail = staff.client().get(f"/api/v1/staff/families/{family.pk}").json()
    assert detail["signup_answers"] == [{"question_id": question.pk, "question": "Which school?",
                                         "value": "Elm"}]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"label": ""}, "This field cannot be blank."),
        ({"label": "Size", "kind": "choice", "choices": "Only one"}, "at least two choices"),
        ({"label": "Size", "kind": "colour"}, "is not a valid choice"),
        ({"label": "x" * 151}, None),
    ],
)
def test_bad_questions_are_refused(owner_client, values, message):
    response = add(owner_client, **values)
    if message is None:  # cut to the field's length by the page, so it is saved shortened
        assert response.status_code == 302
        assert len(SignupQuestion.objects.get().label) == 150
        return
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SignupQuestion.objects.exists()


def test_removing_a_question_keeps_the_answers_and_unknown_ids_are_404(in_tenant_a, owner_client):
    add(owner_client, label="Which school?")
    question = SignupQuestion.objects.get()
    family = Family.objects.create(name="Kim family")
    SignupAnswer.objects.create(family=family, question=question, question_label=question.label,
                                value="Elm")  # fmt: skip
    gone = owner_client.post(f"/console/settings/signup-questions/{question.pk}",
                             {"action": "delete"})  # fmt: skip
    assert gone.status_code == 302 and not SignupQuestion.objects.exists()
    kept = SignupAnswer.objects.get()
    assert kept.question_id is None and kept.question_label == "Which school?"
    missing = owner_client.post("/console/settings/signup-questions/999999", {"action": "delete"})
    assert missing.status_code == 404 and "No such signup question." in missing.content.decode()


def test_roles_and_other_businesses(in_tenant_a, tenant_b, owner_client):
    coach = make_actor(in_tenant_a, email="coach@alpha.test", role="coach")
    desk = make_actor(in_tenant_a, email="desk2@alpha.test", role="front_desk")
    for actor in (coach, desk):
        client = signed_in(in_tenant_a, actor.user)
        assert client.get("/console/settings/signup-questions/").status_code == 403
        assert add(client, label="Sneaky").status_code == 403
    assert not SignupQuestion.objects.exists()
    add(owner_client, label="Which school?")
    question = SignupQuestion.objects.get()
    owner_client.defaults["HTTP_HOST"] = host_of(tenant_b)
    response = owner_client.post(f"/console/settings/signup-questions/{question.pk}",
                                 {"action": "delete"})  # fmt: skip
    assert response.status_code == 302 and "/console/login/" in response["Location"]
    connection.set_tenant(in_tenant_a)
    assert SignupQuestion.objects.filter(pk=question.pk).exists()
    with tenant_context(tenant_b):
        assert (
            "Which school?"
            not in Client(HTTP_HOST=host_of(tenant_b)).get("/signup/").content.decode()
        )
