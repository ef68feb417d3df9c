"""A guardian changes their own email address, verified: a signed link to the new address
(expiring, one business's), the change only when confirmed, the old address told; refusals
(wrong password, taken, unchanged, invalid address, bad/used/expired/other business's link)
change nothing. Through the API the apps use and the web pages."""

from __future__ import annotations

import json
import re
import time
from unittest import mock

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.accounts.email_change import EMAIL_CHANGE_LINK_HOURS
from portal.accounts.models import Guardian
from tests.factories import PASSWORD, GuardianFactory
from tests.helpers import assert_error, client_for, signed_in

pytestmark = pytest.mark.django_db

API = "/api/v1"
LINK = re.compile(r"https?://[^/\s]+(/account/email/confirm/([^/\s]+)/)")


def send(client, method, path, data=None):
    return getattr(client, method)(
        path, data=json.dumps(data) if data is not None else None, content_type="application/json"
    )


def ask(family, new_email="dana.new@example.com", password=PASSWORD, capture=None):
    with capture(execute=True):
        return send(
            family.client(),
            "post",
            f"{API}/account/email",
            {"new_email": new_email, "password": password},
        )


def link_in(message) -> tuple[str, str]:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1), found.group(2)


def emails(family) -> tuple[str, str]:
    user = User.objects.get(pk=family.guardian.user_id)
    guardian = Guardian.objects.get(pk=family.guardian.pk)
    return user.email, guardian.email


def test_the_new_address_confirms_and_the_old_one_is_told(
    family_a, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    asked = ask(family_a, "Dana.New@Example.com", capture=django_capture_on_commit_callbacks)
    assert asked.status_code == 202, asked.content
    assert asked.json() == {
        "pending_email": "dana.new@example.com",
        "link_hours": EMAIL_CHANGE_LINK_HOURS,
    }
    assert [m.to for m in mail.outbox] == [["dana.new@example.com"]]
    _path, token = link_in(mail.outbox[0])
    assert family_a.tenant.primary_host in mail.outbox[0].body
    # Nothing changes until the link is confirmed.
    assert emails(family_a) == ("parent@alpha.test", "parent@alpha.test")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = send(
            client_for(family_a.tenant), "post", f"{API}/account/email/confirm", {"token": token}
        )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json() == {"email": "dana.new@example.com"}
    assert emails(family_a) == ("dana.new@example.com", "dana.new@example.com")
    assert [m.to for m in mail.outbox] == [["parent@alpha.test"]]
    assert "dana.new@example.com" in mail.outbox[0].body
    # Sign in with the new address; the old one no longer works. The app's token still does.
    token_in = send(
        client_for(family_a.tenant),
        "post",
        f"{API}/auth/token",
        {"email": "dana.new@example.com", "password": PASSWORD},
    )
    assert token_in.status_code == 200
    old = send(
        client_for(family_a.tenant),
        "post",
        f"{API}/auth/token",
        {"email": "parent@alpha.test", "password": PASSWORD},
    )
    assert_error(old, 401, "invalid_credentials")
    assert family_a.client().get(f"{API}/account").json()["email"] == "dana.new@example.com"
    # The link is used: a second confirm is refused.
    assert_error(
        send(client_for(family_a.tenant), "post", f"{API}/account/email/confirm", {"token": token}),
        400,
        "email_change_link_invalid",
    )


@pytest.mark.parametrize(
    ("new_email", "password", "status", "code"),
    [
        ("dana.new@example.com", "wrong-password", 400, "password_incorrect"),
        ("not-an-address", PASSWORD, 400, "email_invalid"),
        ("PARENT@alpha.test", PASSWORD, 400, "email_unchanged"),
        ("taken@alpha.test", PASSWORD, 409, "email_taken"),
        ("", PASSWORD, 400, "invalid_input"),
        ("x" * 250 + "@e.com", PASSWORD, 400, "invalid_input"),
    ],
)
def test_refusals_send_nothing_and_change_nothing(
    new_email, password, status, code, family_a, django_capture_on_commit_callbacks
):
    GuardianFactory(email="taken@alpha.test")
    mail.outbox.clear()
    body = assert_error(
        ask(family_a, new_email, password, capture=django_capture_on_commit_callbacks),
        status,
        code,
    )
    if code != "invalid_input":
        assert set(body["fields"]) <= {"new_email", "password"} and body["fields"]
    assert mail.outbox == []
    assert emails(family_a) == ("parent@alpha.test", "parent@alpha.test")


def test_an_address_taken_meanwhile_is_refused_at_confirmation(
    family_a, django_capture_on_commit_callbacks
):
    ask(family_a, capture=django_capture_on_commit_callbacks)
    _, token = link_in(mail.outbox[-1])
    GuardianFactory(email="dana.new@example.com")
    assert_error(
        send(client_for(family_a.tenant), "post", f"{API}/account/email/confirm", {"token": token}),
        409,
        "email_taken",
    )
    assert emails(family_a) == ("parent@alpha.test", "parent@alpha.test")


def test_an_expired_link_is_refused(family_a, django_capture_on_commit_callbacks):
    ask(family_a, capture=django_capture_on_commit_callbacks)
    _, token = link_in(mail.outbox[-1])
    later = time.time() + EMAIL_CHANGE_LINK_HOURS * 3600 + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = send(
            client_for(family_a.tenant), "post", f"{API}/account/email/confirm", {"token": token}
        )
    body = assert_error(response, 400, "email_change_link_expired")
    assert f"{EMAIL_CHANGE_LINK_HOURS} hours" in body["message"]
    assert emails(family_a) == ("parent@alpha.test", "parent@alpha.test")


def test_a_tampered_or_another_businesss_link_is_refused(
    family_a, tenant_b, django_capture_on_commit_callbacks
):
    ask(family_a, capture=django_capture_on_commit_callbacks)
    _, token = link_in(mail.outbox[-1])
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", "x" * 1001):
        response = send(
            client_for(family_a.tenant), "post", f"{API}/account/email/confirm", {"token": bad}
        )
        assert response.status_code == 400 and response.json()["code"] in (
            "email_change_link_invalid",
            "invalid_input",
        ), bad
    with tenant_context(tenant_b):
        twin = GuardianFactory(email="parent@alpha.test")  # B numbers its own rows
    response = send(client_for(tenant_b), "post", f"{API}/account/email/confirm", {"token": token})
    assert_error(response, 400, "email_change_link_invalid")
    with tenant_context(tenant_b):
        assert User.objects.get(pk=twin.user_id).email == "parent@alpha.test"
    with tenant_context(family_a.tenant):
        assert emails(family_a) == ("parent@alpha.test", "parent@alpha.test")


def test_a_second_request_leaves_both_links_valid_until_one_is_used(
    family_a, django_capture_on_commit_callbacks
):
    ask(family_a, "first@example.com", capture=django_capture_on_commit_callbacks)
    _, first = link_in(mail.outbox[-1])
    ask(family_a, "second@example.com", capture=django_capture_on_commit_callbacks)
    _, second = link_in(mail.outbox[-1])
    client = client_for(family_a.tenant)
    ok = send(client, "post", f"{API}/account/email/confirm", {"token": second})
    assert ok.status_code == 200
    # The address changed, so the older link (from the old address) no longer applies.
    assert_error(
        send(client, "post", f"{API}/account/email/confirm", {"token": first}),
        400,
        "email_change_link_invalid",
    )
    assert emails(family_a) == ("second@example.com", "second@example.com")


def test_on_the_web_the_link_opens_a_page_and_the_button_confirms(
    family_a, django_capture_on_commit_callbacks
):
    web = signed_in(family_a.tenant, family_a.guardian.email)
    page = web.get("/account/").content.decode()
    assert 'action="/account/email/"' in page and 'name="new_email"' in page
    assert "To change it, contact us" not in page
    bad = web.post("/account/email/", {"new_email": "nope", "password": "wrong"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert 'id="password-error"' in text and 'value="nope"' in text
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = web.post(
            "/account/email/", {"new_email": "dana.web@example.com", "password": PASSWORD}
        )
    assert sent.status_code == 302
    assert (
        "We sent a confirmation link to dana.web@example.com"
        in web.get("/account/").content.decode()
    )
    path, _ = link_in(mail.outbox[-1])
    # Opened anywhere (signed out too): a GET shows the address and changes nothing.
    visitor = client_for(family_a.tenant)
    shown = visitor.get(path)
    assert shown.status_code == 200
    assert "dana.web@example.com" in shown.content.decode()
    assert emails(family_a) == ("parent@alpha.test", "parent@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        done = visitor.post(path)
    assert done.status_code == 302 and done["Location"] == "/login/"
    assert emails(family_a) == ("dana.web@example.com", "dana.web@example.com")
    assert mail.outbox[-1].to == ["parent@alpha.test"]
    used = visitor.get(path)
    assert used.status_code == 400
    assert "not valid" in used.content.decode()
    assert visitor.get("/account/email/confirm/garbage/").status_code == 400


def test_the_web_confirm_page_speaks_spanish(family_a, django_capture_on_commit_callbacks):
    ask(family_a, capture=django_capture_on_commit_callbacks)
    path, _ = link_in(mail.outbox[-1])
    client = client_for(family_a.tenant)
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Confirme su nuevo correo electrónico" in page
    expired = time.time() + EMAIL_CHANGE_LINK_HOURS * 3600 + 60
    with mock.patch("django.core.signing.time.time", return_value=expired):
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "ha caducado" in page
