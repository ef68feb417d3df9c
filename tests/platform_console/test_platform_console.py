"""The platform console at /console/ on the root host: who may open it, onboarding with the
platform API's service, the launch checklist and launch, the directory, suspend / reactivate /
offboard, custom domains with their DNS records (verified only by the DNS check), bad input."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from portal.accounts.models import Policy
from tenants import routing
from tenants.models import Domain, Tenant
from tenants.selectors import directory_list
from tenants.services import tenant_provision
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import GuardianFactory, OfferingFactory
from tests.helpers import api_routes, host_of, make_actor, web_client
from tests.tenants.fake_dns import FakeResolver
from theming.services import theme_publish

pytestmark = pytest.mark.django_db

ROOT = "testserver.local"
PASSWORD = "correct horse battery"


@pytest.fixture
def admin(platform_admin) -> Client:
    client = Client(HTTP_HOST=ROOT)
    response = client.post(
        "/console/login/", {"email": platform_admin.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def gamma() -> Tenant:
    tenant = tenant_provision(
        slug="gamma", name="Gamma Dance", owner_email="owner@gamma.test", plan="starter"
    ).tenant
    connection.set_schema_to_public()
    return tenant


@pytest.fixture
def fake_dns(settings):
    settings.TENANT_DOMAIN_RESOLVER = "tests.tenants.fake_dns.FakeResolver"
    FakeResolver.records = {}
    FakeResolver.lookups = []
    yield FakeResolver
    FakeResolver.records = {}


def pages() -> list[tuple[str, tuple[str, ...]]]:
    """Every platform console route with the methods it answers."""
    found = []
    for path, view in api_routes("saas_platform.urls_public", "/console/").items():
        methods = getattr(view, "platform_methods", None)
        assert methods, f"{path}: declare its methods (platform_console.access.platform_page)"
        found.append((path, methods))
    return found


def fill(path: str) -> str:
    return path.replace("{slug}", "alpha").replace("{domain_id}", "1")


def test_every_page_is_for_platform_admins_only(tenant_a):
    routes = pages()
    assert len(routes) >= 10
    public = {"/console/login/", "/console/logout/"}
    outsider = make_actor(None, email="not-admin@platform.test")  # public user, not staff
    tenant_staff = make_actor(tenant_a, email="owner2@alpha.test", role="owner")
    for path, methods in routes:
        if path in public:
            continue
        url = fill(path)
        for method in methods:
            anonymous = Client(HTTP_HOST=ROOT)
            response = getattr(anonymous, method.lower())(url)
            assert response.status_code == 302, (path, method)
            assert response["Location"].startswith("/console/login/?next=")
            signed_in = Client(HTTP_HOST=ROOT)
            signed_in.force_login(outsider.user)
            response = getattr(signed_in, method.lower())(url, {})
            assert response.status_code == 403, (path, method)
            assert "Platform admins only" in response.content.decode()
            # A business's staff session, replayed on the root host, is nobody there.
            staff = Client(HTTP_HOST=host_of(tenant_a))
            with tenant_context(tenant_a):
                staff.force_login(tenant_staff.user)
            connection.set_schema_to_public()
            staff.defaults["HTTP_HOST"] = ROOT
            response = getattr(staff, method.lower())(url, {})
            assert response.status_code == 302, (path, method)
    # On a business's host /console/ is that business's staff console, never this one.
    page = web_client(tenant_a).get("/console/businesses/new/")
    assert page.status_code == 404


def test_sign_in_refuses_wrong_passwords_non_admins_and_tenant_staff(tenant_a, platform_admin):
    client = Client(HTTP_HOST=ROOT)
    assert client.get("/console/login/").status_code == 200
    wrong = client.post("/console/login/", {"email": platform_admin.user.email, "password": "x"})
    assert wrong.status_code == 401
    assert "The email or password is not correct." in wrong.content.decode()
    make_actor(None, email="plain@platform.test")
    plain = client.post("/console/login/", {"email": "plain@platform.test", "password": PASSWORD})
    assert plain.status_code == 403
    assert "This account is not a platform admin." in plain.content.decode()
    make_actor(tenant_a, email="boss@alpha.test", role="owner")
    staff = client.post("/console/login/", {"email": "boss@alpha.test", "password": PASSWORD})
    assert staff.status_code == 401  # a business's staff are not users of the platform
    with tenant_context(tenant_a):
        GuardianFactory(email="parent@alpha.test")
    connection.set_schema_to_public()
    family = client.post(
        "/console/login/", {"email": "parent@alpha.test", "password": FACTORY_PASSWORD}
    )
    assert family.status_code == 401
    ok = client.post(
        "/console/login/",
        {"email": platform_admin.user.email, "password": PASSWORD, "next": "//evil.example/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/console/"
    assert client.get("/console/logout/").status_code == 405
    assert client.post("/console/logout/").status_code == 302
    assert client.get("/console/").status_code == 302


def test_onboarding_uses_the_api_service_and_starts_unlaunched(
    admin, django_capture_on_commit_callbacks
):
    page = admin.get("/console/businesses/new/")
    assert page.status_code == 200 and "Onboard a business" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/console/businesses/new/",
            {
                "name": "Delta Swim",
                "slug": "delta",
                "owner_email": "Owner@Delta.test",
                "timezone": "America/Chicago",
                "currency": "CAD",
                "locale": "es",
                "plan": "growth",
            },
        )
    assert response.status_code == 302 and response["Location"] == "/console/businesses/delta/"
    tenant = Tenant.objects.get(schema_name="delta")
    assert tenant.status == Tenant.Status.ACTIVE  # provisioned by the task after the commit
    assert (tenant.owner_email, tenant.timezone, tenant.currency, tenant.locale) == (
        "owner@delta.test",
        "America/Chicago",
        "CAD",
        "es",
    )
    assert tenant.plan.code == "growth" and tenant.subscription.status == "none"
    assert tenant.launched_at is None
    assert not directory_list().filter(pk=tenant.pk).exists()
    detail = admin.get(response["Location"]).content.decode()
    assert "Delta Swim" in detail and "Not launched" in detail and "Launch checklist" in detail
    listing = admin.get("/console/?q=delt").content.decode()
    assert "Delta Swim" in listing and "Alpha Gymnastics" not in listing


@pytest.mark.parametrize(
    ("changes", "status", "code_text"),
    [
        ({"slug": "alpha"}, 409, "is already taken"),
        ({"slug": "Bad Slug"}, 400, "lowercase"),
        ({"slug": ""}, 400, "slug is required"),
        ({"owner_email": "nope"}, 400, "is not a valid email address"),
        ({"timezone": "Mars/Olympus"}, 400, "is not a known time zone"),
        ({"currency": "XXX"}, 400, "is not a supported currency"),
        ({"plan": "platinum"}, 400, "is not a plan on offer"),
        ({"name": "   "}, 400, "The business name is required."),
    ],
)
def test_onboarding_bad_input_changes_nothing(admin, changes, status, code_text):
    data = {
        "name": "Echo Dance",
        "slug": "echo",
        "owner_email": "o@echo.test",
        "timezone": "UTC",
        "currency": "USD",
        "locale": "en",
        "plan": "",
    }
    data.update(changes)
    before = Tenant.objects.count()
    response = admin.post("/console/businesses/new/", data)
    assert response.status_code == status
    assert code_text in response.content.decode()
    assert Tenant.objects.count() == before


def test_launch_needs_the_whole_checklist_then_opens_the_portal_and_directory(admin, gamma):
    page = admin.get("/console/businesses/gamma/").content.decode()
    for label in ("Payments connected", "Branding published", "Catalog not empty", "Policies set"):
        assert label in page
    refused = admin.post("/console/businesses/gamma/launch")
    assert refused.status_code == 409
    assert "Finish the launch checklist first" in refused.content.decode()
    gamma.refresh_from_db()
    assert gamma.launched_at is None
    assert web_client(gamma).get("/").status_code == 503
    # The owner's work, done through the services the staff console's pages call.
    Tenant.objects.filter(pk=gamma.pk).update(
        stripe_account_id="acct_gamma", stripe_charges_enabled=True
    )
    with tenant_context(gamma):
        theme_publish(published_by="owner@gamma.test")
        OfferingFactory(name="Jazz 1")
        still = admin.post("/console/businesses/gamma/launch")
    assert still.status_code == 409 and "Policies set" in still.content.decode()
    with tenant_context(gamma):
        Policy.objects.create(title="Studio rules", body="Be kind.")
    connection.set_schema_to_public()
    launched = admin.post("/console/businesses/gamma/launch")
    assert launched.status_code == 302
    gamma.refresh_from_db()
    assert gamma.launched_at is not None
    assert directory_list().filter(pk=gamma.pk).exists()
    routing.router.clear()
    assert web_client(gamma).get("/").status_code == 200
    again = admin.post("/console/businesses/gamma/launch")  # idempotent
    assert again.status_code == 302
    # Opting out of the directory hides it there, not from its families.
    assert admin.post("/console/businesses/gamma/directory", {"listed": "0"}).status_code == 302
    assert not directory_list().filter(pk=gamma.pk).exists()
    assert web_client(gamma).get("/").status_code == 200
    landing = Client(HTTP_HOST=ROOT).get("/").content.decode()
    assert "Gamma Dance" not in landing
    assert admin.post("/console/businesses/gamma/directory", {"listed": "maybe"}).status_code == 400
    assert admin.post("/console/businesses/gamma/directory", {"listed": "1"}).status_code == 302
    assert "Gamma Dance" in Client(HTTP_HOST=ROOT).get("/").content.decode()


def test_unlaunched_portal_is_opening_soon_for_families_but_open_to_its_staff(gamma):
    anonymous = web_client(gamma)
    page = anonymous.get("/")
    assert page.status_code == 503 and "opening soon" in page.content.decode()
    api = anonymous.get("/api/v1/portal", HTTP_ACCEPT="application/json")
    assert api.status_code == 503 and api.json()["code"] == "portal_not_launched"
    assert anonymous.get("/console/login/").status_code == 200
    staff = make_actor(gamma, email="coach@gamma.test", role="coach")
    client = web_client(gamma)
    with tenant_context(gamma):
        client.force_login(staff.user)
    connection.set_schema_to_public()
    assert client.get("/").status_code == 200  # staff preview the portal before launch


def test_suspend_reactivate_and_offboard_from_the_console(
    admin, gamma, django_capture_on_commit_callbacks
):
    assert admin.post("/console/businesses/gamma/status", {"action": "suspend"}).status_code == 302
    gamma.refresh_from_db()
    assert gamma.status == Tenant.Status.SUSPENDED
    twice = admin.post("/console/businesses/gamma/status", {"action": "reactivate"})
    assert twice.status_code == 302
    gamma.refresh_from_db()
    assert gamma.status == Tenant.Status.ACTIVE
    bad = admin.post("/console/businesses/gamma/status", {"action": "explode"})
    assert (
        bad.status_code == 400 and "Choose suspend, reactivate or offboard." in bad.content.decode()
    )
    with mock.patch("tenants.tasks.tenant_offboard_task.delay") as delay:
        unconfirmed = admin.post(
            "/console/businesses/gamma/status", {"action": "offboard", "confirm": "gama"}
        )
        assert unconfirmed.status_code == 400
        gamma.refresh_from_db()
        assert gamma.status == Tenant.Status.ACTIVE and not delay.called
        with django_capture_on_commit_callbacks(execute=True):
            confirmed = admin.post(
                "/console/businesses/gamma/status", {"action": "offboard", "confirm": "gamma"}
            )
    assert confirmed.status_code == 302
    delay.assert_called_once_with("gamma")
    gamma.refresh_from_db()
    assert gamma.status == Tenant.Status.SUSPENDED  # the task exports, then removes
    assert admin.post("/console/businesses/nope/status", {"action": "suspend"}).status_code == 404
    assert admin.get("/console/businesses/nope/").status_code == 404


def test_custom_domain_shows_its_records_and_verifies_only_by_dns(admin, gamma, fake_dns):
    added = admin.post("/console/businesses/gamma/domains", {"domain": "Portal.GammaDance.example"})
    assert added.status_code == 302
    domain = Domain.objects.get(domain="portal.gammadance.example")
    page = admin.get("/console/businesses/gamma/").content.decode()
    assert "CNAME" in page and "gamma.testserver.local." in page
    assert "_portal-verify.portal.gammadance.example" in page
    assert f"portal-verify={domain.verification_token}" in page
    apex = admin.post("/console/businesses/gamma/domains", {"domain": "gammadance.example"})
    assert apex.status_code == 302
    page = admin.get("/console/businesses/gamma/").content.decode()
    assert "the platform's IP address (ask the operator)" in page
    not_yet = admin.post(f"/console/businesses/gamma/domains/{domain.pk}/verify")
    assert not_yet.status_code == 400
    assert "No TXT record was found" in not_yet.content.decode()
    domain.refresh_from_db()
    assert domain.verified_at is None
    fake_dns.records[f"_portal-verify.{domain.domain}"] = [
        f"portal-verify={domain.verification_token}"
    ]
    assert admin.post(f"/console/businesses/gamma/domains/{domain.pk}/verify").status_code == 302
    domain.refresh_from_db()
    assert domain.verified_at is not None
    bad = admin.post("/console/businesses/gamma/domains", {"domain": "not a domain"})
    assert bad.status_code == 400
    # Another business's domain id is not this one's.
    other = Domain.objects.exclude(tenant=gamma).first()
    assert admin.post(f"/console/businesses/gamma/domains/{other.pk}/remove").status_code == 404
    assert Domain.objects.filter(pk=other.pk).exists()
    assert admin.post(f"/console/businesses/gamma/domains/{domain.pk}/remove").status_code == 302
    assert not Domain.objects.filter(pk=domain.pk).exists()


def test_the_platform_admin_cannot_mark_a_domain_verified_by_hand(platform_admin, gamma):
    domain = Domain.objects.create(
        tenant=gamma, domain="studio.gamma.example", is_custom=True, verification_token="t"
    )
    client = Client(HTTP_HOST=ROOT)
    client.force_login(platform_admin.user)
    change = client.post(
        f"/admin/tenants/domain/{domain.pk}/change/",
        {"domain": domain.domain, "tenant": gamma.pk, "verified_at_0": "2026-01-01"},
    )
    assert change.status_code in (302, 403)
    add = client.post(
        "/admin/tenants/domain/add/",
        {"domain": "x.gamma.example", "tenant": gamma.pk, "verified_at_0": "2026-01-01"},
    )
    assert add.status_code == 403
    tenant_page = client.get(f"/admin/tenants/tenant/{gamma.pk}/change/").content.decode()
    assert 'name="domains-0-verified_at' not in tenant_page
    domain.refresh_from_db()
    assert domain.verified_at is None
    assert not Domain.objects.filter(domain="x.gamma.example").exists()
