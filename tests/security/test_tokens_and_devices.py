"""Tokens that end: API tokens expire after API_TOKEN_TTL_DAYS without use (sliding), a new
password revokes every token and session of the user, and a family sees and signs out its
devices (API and web page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import tenant_context

from kernel.api.token_use import token_uses_flush
from kernel.users.models import ApiToken
from kernel.users.services import api_token_issue
from tests.factories import PASSWORD, GuardianFactory
from tests.helpers import assert_error, client_for, host_of, signed_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-2026"


def _token_row(tenant, raw: str) -> ApiToken:
    with tenant_context(tenant):
        return ApiToken.objects.get(key_hash=ApiToken.hash(raw))


def _issue(tenant, user, name: str) -> str:
    with tenant_context(tenant):
        _, raw = api_token_issue(user=user, name=name)
    connection.set_schema_to_public()
    return raw


def _age(tenant, raw: str, *, days: int, used: bool = True) -> None:
    with tenant_context(tenant):
        then = timezone.now() - timedelta(days=days)
        ApiToken.objects.filter(key_hash=ApiToken.hash(raw)).update(
            created_at=then - timedelta(days=1), last_used_at=then if used else None
        )
    connection.set_schema_to_public()


# -- expiry ---------------------------------------------------------------------------------------


def test_tokens_expire_after_the_ttl_without_use_and_every_use_extends_them(
    family_a, tenant_a, settings
):
    settings.API_TOKEN_TTL_DAYS = 30
    connection.set_schema_to_public()
    _age(tenant_a, family_a.token, days=29)
    assert family_a.client().get("/api/v1/family").status_code == 200
    token_uses_flush()  # written behind the request (kernel.api.token_use)
    row = _token_row(tenant_a, family_a.token)
    assert timezone.now() - row.last_used_at < timedelta(minutes=1)  # the use slid it on
    assert row.expires_at() > timezone.now() + timedelta(days=29)
    _age(tenant_a, family_a.token, days=31)
    body = assert_error(family_a.client().get("/api/v1/family"), 401, "authentication_failed")
    assert body["message"] == "This token has expired. Sign in again."
    assert _token_row(tenant_a, family_a.token).revoked_at is not None
    # Never used and issued longer ago than the TTL: expired too.
    fresh = _issue(tenant_a, family_a.guardian.user, "tablet")
    _age(tenant_a, fresh, days=31, used=False)
    assert_error(client_for(tenant_a, token=fresh).get("/api/v1/family"), 401,
                 "authentication_failed")  # fmt: skip


def test_a_ttl_of_zero_means_tokens_do_not_expire(family_a, tenant_a, settings):
    settings.API_TOKEN_TTL_DAYS = 0
    connection.set_schema_to_public()
    _age(tenant_a, family_a.token, days=400)
    assert family_a.client().get("/api/v1/family").status_code == 200
    assert _token_row(tenant_a, family_a.token).expires_at() is None


# -- a new password ends every sign-in ------------------------------------------------------------


def _reset_link(tenant, user) -> tuple[str, str]:
    with tenant_context(tenant):
        user.refresh_from_db()  # the token covers last_login, which signing in changed
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
    connection.set_schema_to_public()
    return uid, token


def test_a_password_reset_revokes_every_token_and_session_of_that_user(family_a, tenant_a):
    user = family_a.guardian.user
    phone = family_a.token
    tablet = _issue(tenant_a, user, "tablet")
    with tenant_context(tenant_a):
        other = GuardianFactory(email="other-parent@alpha.test")
        other_token = api_token_issue(user=other.user, name="phone")[1]
    connection.set_schema_to_public()
    browser = signed_in(tenant_a, user.email)
    assert browser.get("/family/").status_code == 200
    connection.set_schema_to_public()

    uid, token = _reset_link(tenant_a, user)
    response = client_for(tenant_a).post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 204, response.content
    for raw in (phone, tablet):
        assert_error(client_for(tenant_a, token=raw).get("/api/v1/family"), 401,
                     "authentication_failed")  # fmt: skip
    # The browser's session ended with the old password.
    assert browser.get("/family/").status_code == 302
    # Another user's sign-ins are untouched.
    assert client_for(tenant_a, token=other_token).get("/api/v1/family").status_code == 200
    # The new password signs in.
    login = client_for(tenant_a).post(
        "/api/v1/auth/token", {"email": user.email, "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == 200


def test_the_web_reset_and_any_password_change_revoke_tokens_too(family_a, tenant_a):
    user = family_a.guardian.user
    uid, token = _reset_link(tenant_a, user)
    web = Client(HTTP_HOST=host_of(tenant_a))
    page = web.get(f"/account/reset/{uid}/{token}/", follow=True)
    assert page.status_code == 200
    done = web.post(
        page.redirect_chain[-1][0] if page.redirect_chain else f"/account/reset/{uid}/{token}/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302, done.content.decode()[:500]
    assert _token_row(tenant_a, family_a.token).revoked_at is not None
    # A change made anywhere else (the admin, a shell) through set_password() does the same.
    raw = _issue(tenant_a, user, "phone-2")
    with tenant_context(tenant_a):
        user.refresh_from_db()
        user.set_password("yet-another-passphrase-99")
        user.save()
    connection.set_schema_to_public()
    assert _token_row(tenant_a, raw).revoked_at is not None


def test_upgrading_an_old_hash_at_sign_in_is_not_a_new_password(tenant_a):
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    from kernel.users.models import User

    hashers = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    with override_settings(PASSWORD_HASHERS=hashers):
        with tenant_context(tenant_a):
            guardian = GuardianFactory(email="old-hash@alpha.test")
            legacy = make_password(PASSWORD, hasher="pbkdf2_sha256")
            User.objects.filter(pk=guardian.user_id).update(password=legacy)
            _, first = api_token_issue(user=User.objects.get(pk=guardian.user_id), name="phone")
        connection.set_schema_to_public()
        login = client_for(tenant_a).post(
            "/api/v1/auth/token",
            {"email": "old-hash@alpha.test", "password": PASSWORD, "device": "tablet"},
            format="json",
        )
        assert login.status_code == 200, login.content
        with tenant_context(tenant_a):
            assert User.objects.get(pk=guardian.user_id).password.startswith("argon2$")
    assert _token_row(tenant_a, first).revoked_at is None


# -- the family's devices: API --------------------------------------------------------------------

DEVICES = "/api/v1/auth/devices"


def test_a_family_lists_its_devices_and_signs_one_out(family_a, tenant_a):
    user = family_a.guardian.user
    tablet = _issue(tenant_a, user, "Ana's tablet")
    client = family_a.client()
    listed = client.get(DEVICES)
    assert listed.status_code == 200 and listed["Cache-Control"] == "no-store"
    rows = {row["device"]: row for row in listed.json()}
    assert set(rows) == {"tests", "Ana's tablet"}
    assert rows["tests"]["current"] is True and rows["Ana's tablet"]["current"] is False
    assert rows["tests"]["expires_at"] and rows["tests"]["created_at"]
    assert set(rows["tests"]) == {"id", "device", "created_at", "last_used_at", "expires_at",
                                  "current"}  # fmt: skip
    tablet_id = rows["Ana's tablet"]["id"]
    response = client.delete(f"{DEVICES}/{tablet_id}")
    assert response.status_code == 204
    assert_error(client_for(tenant_a, token=tablet).get("/api/v1/family"), 401,
                 "authentication_failed")  # fmt: skip
    assert [row["device"] for row in client.get(DEVICES).json()] == ["tests"]
    # Signing out the same device again, or an id that is not a number: nothing to find.
    assert_error(client.delete(f"{DEVICES}/{tablet_id}"), 404, "signed_in_device_not_found")
    assert client.delete(f"{DEVICES}/abc").status_code == 404


def test_devices_are_only_ever_ones_own(family_a, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        other = GuardianFactory(email="neighbour@alpha.test")
        _, other_raw = api_token_issue(user=other.user, name="neighbour-phone")
        other_id = ApiToken.objects.get(key_hash=ApiToken.hash(other_raw)).pk
    connection.set_schema_to_public()
    client = family_a.client()
    assert "neighbour-phone" not in str(client.get(DEVICES).json())
    assert_error(client.delete(f"{DEVICES}/{other_id}"), 404, "signed_in_device_not_found")
    assert client_for(tenant_a, token=other_raw).get("/api/v1/family").status_code == 200
    # Visitors, and tenant A's token on B's host, get nothing.
    assert_error(client_for(tenant_a).get(DEVICES), 401, "not_authenticated")
    assert client_for(tenant_b, token=family_a.token).get(DEVICES).status_code == 401
    assert client_for(tenant_b, token=family_a.token).delete(f"{DEVICES}/1").status_code == 401
    assert _token_row(tenant_a, family_a.token).revoked_at is None


# -- the family's devices: web page ---------------------------------------------------------------


def test_the_devices_page_lists_and_signs_out(family_a, tenant_a):
    user = family_a.guardian.user
    tablet = _issue(tenant_a, user, "Kitchen iPad")
    browser = signed_in(tenant_a, user.email)
    connection.set_schema_to_public()
    page = browser.get("/account/devices/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Kitchen iPad" in html and "tests" in html
    tablet_id = _token_row(tenant_a, tablet).pk
    done = browser.post("/account/devices/", {"device": tablet_id})
    assert done.status_code == 302 and done["Location"] == "/account/devices/"
    assert _token_row(tenant_a, tablet).revoked_at is not None
    after = browser.get("/account/devices/").content.decode()
    assert "Kitchen iPad is signed out." in after
    assert f'value="{tablet_id}"' not in after and "<h2>Kitchen iPad</h2>" not in after
    # The family page links to it.
    assert "/account/devices/" in browser.get("/family/").content.decode()


@pytest.mark.parametrize("value", ["", "abc", "\x00", "99999999999999999999", "-1"])
def test_the_devices_page_refuses_bad_input_and_others_devices(family_a, tenant_a, value):
    with tenant_context(tenant_a):
        other = GuardianFactory(email="other-web@alpha.test")
        _, other_raw = api_token_issue(user=other.user, name="their-phone")
    connection.set_schema_to_public()
    browser = signed_in(tenant_a, family_a.guardian.user.email)
    connection.set_schema_to_public()
    other_id = _token_row(tenant_a, other_raw).pk
    response = browser.post("/account/devices/", {"device": value})
    if "\x00" in value:
        assert response.status_code == 400  # saas_platform.input_guard, before the view
    else:
        assert response.status_code == 404
        assert "No such signed-in device." in response.content.decode()
    response = browser.post("/account/devices/", {"device": other_id})
    assert response.status_code == 404
    assert "No such signed-in device." in response.content.decode()
    assert _token_row(tenant_a, other_raw).revoked_at is None
    assert _token_row(tenant_a, family_a.token).revoked_at is None


def test_the_devices_page_needs_a_family_login_and_csrf(family_a, tenant_a):
    visitor = Client(HTTP_HOST=host_of(tenant_a))
    response = visitor.get("/account/devices/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    strict = Client(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True)
    strict.force_login(family_a.guardian.user)
    token_id = _token_row(tenant_a, family_a.token).pk
    assert strict.post("/account/devices/", {"device": token_id}).status_code == 403
    assert _token_row(tenant_a, family_a.token).revoked_at is None
