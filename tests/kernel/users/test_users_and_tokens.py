import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from kernel.users.models import ApiToken, User
from kernel.users.services import api_token_issue, api_token_revoke
from tests.helpers import client_for, make_actor

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_case_insensitive():
    user = User.objects.create_user(email="Parent@Example.COM", password="pw-123456789")
    assert user.email == "parent@example.com"
    assert User.objects.get_by_natural_key("PARENT@example.com") == user
    with pytest.raises(ValidationError, match="already exists"):
        User.objects.create_user(email="parent@EXAMPLE.com")
    with pytest.raises(IntegrityError):  # the database enforces it too
        User(email="PARENT@example.com").save()


def test_the_same_email_is_two_accounts_in_two_tenants(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        a = User.objects.create_user(email="same@family.test", password="password-a-123")
    with tenant_context(tenant_b):
        b = User.objects.create_user(email="same@family.test", password="password-b-123")
        assert User.objects.filter(email="same@family.test").count() == 1
        assert User.objects.get(email="same@family.test").check_password("password-b-123")
    with tenant_context(tenant_a):
        assert User.objects.get(email="same@family.test").check_password("password-a-123")
    connection.set_schema_to_public()
    assert not User.objects.filter(email="same@family.test").exists()
    assert a.pk and b.pk


def test_tokens_are_stored_hashed_and_replaced_per_device():
    user = User.objects.create_user(email="x@example.com")
    token, raw = api_token_issue(user=user, name="phone")
    assert token.key_hash == ApiToken.hash(raw)
    assert raw not in (token.key_hash, token.prefix * 2)
    _, raw2 = api_token_issue(user=user, name="phone")
    _, raw3 = api_token_issue(user=user, name="tablet")
    assert ApiToken.objects.active().filter(user=user).count() == 2
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert len({raw, raw2, raw3}) == 3


def test_inactive_users_get_no_token():
    user = User.objects.create_user(email="gone@example.com", is_active=False)
    with pytest.raises(ApplicationError) as excinfo:
        api_token_issue(user=user)
    assert excinfo.value.code == "account_inactive"
    assert not ApiToken.objects.exists()


def test_revoked_token_and_deactivated_user_lose_access(platform_admin):
    client = platform_admin.client()
    assert client.get("/api/platform/v1/tenants").status_code == 200
    User.objects.filter(pk=platform_admin.user.pk).update(is_active=False)
    assert client.get("/api/platform/v1/tenants").status_code == 401
    User.objects.filter(pk=platform_admin.user.pk).update(is_active=True)
    api_token_revoke(token=platform_admin.user.api_tokens.get())
    assert client.get("/api/platform/v1/tenants").status_code == 401


def test_a_tenant_admin_session_means_nothing_on_another_tenant(tenant_a, tenant_b):
    staff = make_actor(tenant_a, email="boss@alpha.test", staff=True, superuser=True)
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        client.force_login(staff.user)
    connection.set_schema_to_public()
    assert client.get("/admin/").status_code == 200
    client.defaults["HTTP_HOST"] = tenant_b.primary_host
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    client.defaults["HTTP_HOST"] = "testserver.local"
    assert client.get("/admin/").status_code == 302  # nor on the platform admin


def test_tenant_admin_shows_portal_settings_and_hides_tenants(tenant_a):
    staff = make_actor(tenant_a, email="boss@alpha.test", staff=True, superuser=True)
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        client.force_login(staff.user)
    connection.set_schema_to_public()
    index = client.get("/admin/").content.decode()
    assert "Portal settings" in index
    # Staff manage their own custom domains here, never the platform's tenants.
    assert "/admin/tenants/tenant/" not in index and "/admin/tenants/domain/" in index
    assert client.get("/admin/tenants/tenant/").status_code == 404
    assert client.get("/admin/portal_config/portalsettings/1/change/").status_code == 200


def test_platform_admin_manages_tenants_and_can_suspend(
    platform_admin, tenant_a, django_capture_on_commit_callbacks
):
    client = client_for(None)
    client.force_login(platform_admin.user)
    index = client.get("/admin/").content.decode()
    assert "Tenants" in index and "Portal settings" not in index
    listing = client.get("/admin/tenants/tenant/?q=alpha").content.decode()
    assert "Alpha Gymnastics" in listing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/tenants/tenant/",
            {"action": "suspend", "_selected_action": [tenant_a.pk]},
            follow=True,
        )
    assert response.status_code == 200
    tenant_a.refresh_from_db()
    assert tenant_a.status == "suspended"
    assert client_for(tenant_a).get("/").status_code == 503
    assert client.get("/admin/tenants/tenant/add/").status_code == 403
    assert client.get("/admin/portal_config/portalsettings/").status_code == 404


def test_a_family_request_is_authenticated_and_authorised_with_one_query(family_a, platform_admin):
    """The token, its user, the user's guardian and family in one statement in a business's
    schema (API_TOKEN_USER_RELATED); a staff token there has no guardian (refused as before);
    on the platform's host, whose schema has no guardian table, the token and user only."""
    from django.test.utils import CaptureQueriesContext

    client = family_a.client()
    assert client.get("/api/v1/cart").status_code == 200  # warm; last use recorded
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/cart").status_code == 200
    auth = [q["sql"] for q in ctx.captured_queries if "users_apitoken" in q["sql"]]
    assert len(auth) == 1 and "portal_accounts_guardian" in auth[0], auth
    assert "portal_accounts_family" in auth[0]
    assert not [
        q for q in ctx.captured_queries if q["sql"].startswith('SELECT "portal_accounts_guardian"')
    ]
    staff = make_actor(family_a.tenant, email="desk@alpha.test", role="front_desk")
    refused = staff.client().get("/api/v1/cart")
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_family_account"
    assert platform_admin.client().get("/api/platform/v1/tenants").status_code == 200


def test_the_plain_token_statement_accepts_what_the_token_queryset_does(settings):
    """``token_accepted`` (the waiting room's fast join and leave) is one plain statement: it
    finds a token exactly when ``bearer_tokens(raw)`` with an active user does, records its
    use as the authentication does, and refuses an expired one without revoking it."""
    from datetime import timedelta

    from django.test import RequestFactory
    from django.utils import timezone

    from kernel.api.authentication import bearer_tokens, token_accepted
    from kernel.api.token_use import token_uses_flush

    settings.API_TOKEN_TTL_DAYS = 30
    rf = RequestFactory()
    user = User.objects.create_user(email="t@example.com")
    cases = {}
    _, cases["active"] = api_token_issue(user=user, name="phone")
    revoked, cases["revoked"] = api_token_issue(user=user, name="tablet")
    api_token_revoke(token=revoked)
    idle = User.objects.create_user(email="idle@example.com")
    _, cases["inactive user"] = api_token_issue(user=idle, name="phone")
    User.objects.filter(pk=idle.pk).update(is_active=False)
    cases["unknown"] = "not-a-token-at-all"
    for name, raw in cases.items():
        request = rf.get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        expected = bearer_tokens(raw).filter(user__is_active=True).first()
        got = token_accepted(request, select="u.email")
        assert (got is None) == (expected is None), name
        if got is not None:
            token, (email,) = got
            assert token.pk == expected.pk and email == "t@example.com"
            token_uses_flush()  # written behind the request (kernel.api.token_use)
            assert ApiToken.objects.get(pk=token.pk).last_used_at is not None  # use recorded
    for header in ("", "Bearer", "Bearer a b", "Basic abc"):
        assert token_accepted(rf.get("/", HTTP_AUTHORIZATION=header)) is None, header
    # Expired: refused, left for the authentication to revoke.
    stale_at = timezone.now() - timedelta(days=31)
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        created_at=stale_at, last_used_at=stale_at
    )
    assert token_accepted(rf.get("/", HTTP_AUTHORIZATION=f"Bearer {cases['active']}")) is None
    assert ApiToken.objects.get(user=user, name="phone").revoked_at is None
