"""Custom domains: staff add one, prove it with a DNS TXT record, make it primary, remove it;
only verified domains route, and the reverse proxy's TLS check agrees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants import domains as domain_services
from tenants import routing
from tenants.domains import DnsUnavailable
from tenants.models import Domain, Tenant
from tenants.services import tenant_register, tenant_suspend
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, make_actor
from tests.tenants.fake_dns import FakeResolver

pytestmark = pytest.mark.django_db

URL = "/api/v1/staff/domains"


@pytest.fixture(autouse=True)
def fake_dns(settings):
    settings.TENANT_DOMAIN_RESOLVER = "tests.tenants.fake_dns.FakeResolver"
    FakeResolver.records = {}
    FakeResolver.lookups = []
    yield FakeResolver.records
    FakeResolver.records = {}


def _publish(records, body):
    records[body["verification"]["name"]] = [body["verification"]["value"]]


def _get(host, path="/"):
    client = client_for(None)
    client.defaults["HTTP_HOST"] = host
    return client.get(path)


def _add(staff, domain="portal.alpha-gym.example"):
    response = staff.client().post(URL, {"domain": domain}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_added_domain_waits_for_its_dns_record(staff_a, tenant_a):
    body = _add(staff_a, "Portal.Alpha-Gym.Example.")
    assert body["domain"] == "portal.alpha-gym.example"
    assert body["is_custom"] and not body["verified"] and not body["is_primary"]
    assert body["verification"]["type"] == "TXT"
    assert body["verification"]["name"] == "_portal-verify.portal.alpha-gym.example"
    assert body["verification"]["value"].startswith("portal-verify=")
    assert len(body["verification"]["value"]) > 30
    # An unverified domain never routes and gets no certificate.
    assert _get("portal.alpha-gym.example").status_code == 404
    assert (
        _get(tenant_a.platform_host, "/_tls/ask?domain=portal.alpha-gym.example").status_code == 404
    )
    listed = staff_a.client().get(URL).json()
    assert [d["domain"] for d in listed] == [tenant_a.platform_host, "portal.alpha-gym.example"]
    assert listed[0]["verified"] and listed[0]["is_primary"] and listed[0]["verification"] is None


def test_verification_makes_the_domain_route(
    staff_a, tenant_a, fake_dns, django_capture_on_commit_callbacks
):
    body = _add(staff_a)
    assert _get("portal.alpha-gym.example").status_code == 404  # cached as unknown
    generation = routing._read_generation()
    _publish(fake_dns, body)
    fake_dns[body["verification"]["name"]].insert(0, "v=spf1 -all")  # other TXT values are fine
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_a.client().post(f"{URL}/{body['id']}/verify")
    assert response.status_code == 200, response.content
    assert response.json()["verified"] and response.json()["verification"] is None
    assert routing._read_generation() > generation  # other processes drop their caches
    page = _get("portal.alpha-gym.example")
    assert page.status_code == 200
    assert tenant_a.name in page.content.decode()
    ask = _get("testserver.local", "/_tls/ask?domain=portal.alpha-gym.example")
    assert ask.status_code == 200 and ask.json()["allowed"] is True


@pytest.mark.parametrize(
    ("records", "code", "status"),
    [
        ({}, "domain_verification_record_missing", 400),
        (
            {"_portal-verify.portal.alpha-gym.example": ["portal-verify=wrong"]},
            "domain_verification_mismatch",
            400,
        ),
        (
            {"_portal-verify.portal.alpha-gym.example": DnsUnavailable},
            "domain_verification_unavailable",
            503,
        ),
    ],
)
def test_failed_verification_says_why_and_does_not_route(staff_a, fake_dns, records, code, status):
    body = _add(staff_a)
    fake_dns.update(records)
    error = assert_error(staff_a.client().post(f"{URL}/{body['id']}/verify"), status, code)
    assert "_portal-verify.portal.alpha-gym.example" in error["message"]
    domain = Domain.objects.get(pk=body["id"])
    assert domain.verified_at is None and domain.last_check_error == code
    assert domain.last_checked_at is not None
    assert staff_a.client().get(f"{URL}/{body['id']}").json()["last_check_error"] == code
    assert _get("portal.alpha-gym.example").status_code == 404


@pytest.mark.parametrize(
    "value",
    [
        "not a domain",
        "http://portal.example.com",
        "portal.example.com/path",
        "portal.example.com:8443",
        "a..example.com",
        "-bad.example.com",
        "bad-.example.com",
        "localhost",
        "192.168.1.10",
        f"{'x' * 64}.example.com",
        ".".join(["abcdefghij"] * 25) + ".com",
        "exa_mple.com",
        "",
    ],
)
def test_malformed_domains_are_refused(staff_a, value):
    before = Domain.objects.count()
    response = staff_a.client().post(URL, {"domain": value}, format="json")
    code = "invalid_input" if value == "" else "domain_invalid"
    body = assert_error(response, 400, code)
    assert "domain" in body["fields"]
    assert Domain.objects.count() == before


def test_idn_domains_are_stored_as_punycode(staff_a):
    assert _add(staff_a, "bücher.example")["domain"] == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "value", ["testserver.local", "evil.testserver.local", "beta.testserver.local"]
)
def test_platform_addresses_cannot_be_claimed(staff_a, value):
    assert_error(
        staff_a.client().post(URL, {"domain": value}, format="json"),
        400,
        "domain_platform_reserved",
    )
    assert not Domain.objects.filter(domain=value, tenant__schema_name="alpha").exists()


def test_a_domain_of_another_tenant_is_taken(staff_a, staff_b, fake_dns):
    body = _add(staff_b, "swim.beta.example")
    assert_error(
        staff_a.client().post(URL, {"domain": "swim.beta.example"}, format="json"),
        409,
        "domain_taken",
    )
    assert_error(
        staff_b.client().post(URL, {"domain": "swim.beta.example"}, format="json"),
        409,
        "domain_already_added",
    )
    assert Domain.objects.get(domain="swim.beta.example").pk == body["id"]


def test_a_stale_unverified_claim_is_released(staff_a, staff_b, tenant_a):
    body = _add(staff_b, "squatted.example")
    Domain.objects.filter(pk=body["id"]).update(created_at=timezone.now() - timedelta(days=4))
    mine = _add(staff_a, "squatted.example")
    assert Domain.objects.get(domain="squatted.example").tenant_id == tenant_a.pk
    assert mine["id"] != body["id"]


def test_custom_domain_limit(staff_a, tenant_a, monkeypatch):
    monkeypatch.setattr(domain_services, "MAX_CUSTOM_DOMAINS", 2)
    _add(staff_a, "one.example")
    _add(staff_a, "two.example")
    assert_error(
        staff_a.client().post(URL, {"domain": "three.example"}, format="json"),
        409,
        "domain_limit_reached",
    )


def test_primary_switch_moves_the_portals_links(staff_a, tenant_a, fake_dns):
    body = _add(staff_a)
    assert_error(staff_a.client().post(f"{URL}/{body['id']}/primary"), 409, "domain_not_verified")
    _publish(fake_dns, body)
    staff_a.client().post(f"{URL}/{body['id']}/verify")
    response = staff_a.client().post(f"{URL}/{body['id']}/primary")
    assert response.status_code == 200 and response.json()["is_primary"]
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert tenant.primary_host == "portal.alpha-gym.example"
    assert tenant.url("/x") == "http://portal.alpha-gym.example/x"
    assert list(
        Domain.objects.filter(tenant=tenant, is_primary=True).values_list("domain", flat=True)
    ) == ["portal.alpha-gym.example"]
    # The platform host still routes.
    assert _get(tenant.platform_host).status_code == 200
    # Back to the platform address.
    platform = Domain.objects.get(domain=tenant.platform_host)
    assert staff_a.client().post(f"{URL}/{platform.pk}/primary").status_code == 200
    tenant.refresh_from_db()
    assert tenant.primary_host == tenant.platform_host and tenant.primary_domain == ""


def test_removing_the_primary_domain_falls_back_to_the_platform_host(
    staff_a, tenant_a, fake_dns, django_capture_on_commit_callbacks
):
    body = _add(staff_a)
    _publish(fake_dns, body)
    staff_a.client().post(f"{URL}/{body['id']}/verify")
    staff_a.client().post(f"{URL}/{body['id']}/primary")
    routing.router.clear()
    assert _get("portal.alpha-gym.example").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_a.client().delete(f"{URL}/{body['id']}").status_code == 204
    assert not Domain.objects.filter(pk=body["id"]).exists()
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert tenant.primary_host == tenant.platform_host
    assert Domain.objects.get(domain=tenant.platform_host).is_primary
    assert _get("portal.alpha-gym.example").status_code == 404


def test_the_platform_address_cannot_be_removed(staff_a, tenant_a):
    platform = Domain.objects.get(domain=tenant_a.platform_host)
    assert_error(staff_a.client().delete(f"{URL}/{platform.pk}"), 409, "domain_protected")
    assert Domain.objects.filter(pk=platform.pk).exists()


def test_only_staff_manage_domains(tenant_a, family_a):
    assert_error(client_for(tenant_a).get(URL), 401, "not_authenticated")
    assert_error(
        client_for(tenant_a).post(URL, {"domain": "x.example"}, format="json"),
        401,
        "not_authenticated",
    )
    assert_error(family_a.client().get(URL), 403, "permission_denied")
    assert_error(
        family_a.client().post(URL, {"domain": "x.example"}, format="json"),
        403,
        "permission_denied",
    )
    connection.set_schema_to_public()
    assert not Domain.objects.filter(domain="x.example").exists()


def test_other_tenants_domains_are_out_of_reach(staff_a, staff_b, tenant_b, fake_dns):
    theirs = _add(staff_b, "swim.beta.example")
    _publish(fake_dns, theirs)
    for method, path in (
        ("get", URL),
        ("post", URL),
        ("get", f"{URL}/{theirs['id']}"),
        ("post", f"{URL}/{theirs['id']}/verify"),
        ("post", f"{URL}/{theirs['id']}/primary"),
        ("delete", f"{URL}/{theirs['id']}"),
    ):
        assert_cross_tenant_denied(
            credentials_client=staff_a.client(),
            target=tenant_b,
            method=method,
            path=path,
            data={"domain": "hijack.example"},
            forbidden_text=["swim.beta.example"],
        )
        # Tenant A's staff on their own host, naming B's domain: not found.
        if path != URL:
            assert_error(getattr(staff_a.client(), method)(path), 404, "domain_not_found")
    domain = Domain.objects.get(pk=theirs["id"])
    assert domain.verified_at is None and not domain.is_primary
    assert domain.tenant_id == tenant_b.pk
    assert not Domain.objects.filter(domain="hijack.example").exists()
    assert "swim.beta.example" not in staff_a.client().get(URL).content.decode()


def test_tls_ask(tenant_a, tenant_b):
    def ask(domain, host="testserver.local"):
        return _get(host, f"/_tls/ask?domain={domain}")

    assert ask("testserver.local").status_code == 200
    assert ask("www.testserver.local").status_code == 200
    assert ask(tenant_a.platform_host).status_code == 200
    assert ask(tenant_a.platform_host.upper(), host="testserver.local:8000").status_code == 200
    assert ask(tenant_b.platform_host, host=tenant_a.platform_host).status_code == 200
    assert ask("nope.testserver.local").status_code == 404
    assert ask("evil.example").status_code == 404
    assert ask("bad domain").status_code == 404
    tenant_register(name="Half", slug="halfway", owner_email="o@half.test")
    Domain.objects.create(
        domain="halfway.testserver.local",
        tenant=Tenant.objects.get(schema_name="halfway"),
        is_primary=True,
        verified_at=timezone.now(),
    )
    assert ask("halfway.testserver.local").status_code == 404  # still provisioning
    tenant_suspend(slug=tenant_b.schema_name)
    routing.router.clear()
    assert ask(tenant_b.platform_host).status_code == 200  # the notice page needs HTTPS too
    # Caddy calls the web service by its internal name: any Host header is accepted.
    assert ask(tenant_a.platform_host, host="web:8000").status_code == 200
    assert ask("evil.example", host="web:8000").status_code == 404
    assert_error(_get("testserver.local", "/_tls/ask"), 400, "domain_required")
    client = client_for(None)
    assert_error(client.post("/_tls/ask?domain=testserver.local"), 405, "method_not_allowed")


def test_pending_domains_are_rechecked(staff_a, fake_dns):
    body = _add(staff_a)
    old = _add(staff_a, "old.alpha.example")
    Domain.objects.filter(pk=old["id"]).update(created_at=timezone.now() - timedelta(days=8))
    assert domain_services.domain_recheck_pending() == {"checked": 1, "verified": 0}
    _publish(fake_dns, body)
    _publish(fake_dns, old)
    assert domain_services.domain_recheck_pending() == {"checked": 1, "verified": 1}
    assert Domain.objects.get(pk=body["id"]).verified_at is not None
    assert Domain.objects.get(pk=old["id"]).verified_at is None  # gave up after a week


def test_dnspython_resolver_reports_missing_names(monkeypatch):
    import dns.resolver

    def nxdomain(self, name, rdtype):
        raise dns.resolver.NXDOMAIN()

    def timeout(self, name, rdtype):
        raise dns.resolver.LifetimeTimeout(timeout=5.0, errors={})

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", nxdomain)
    assert domain_services.DnsPythonResolver().txt("_portal-verify.example.com") == []
    monkeypatch.setattr(dns.resolver.Resolver, "resolve", timeout)
    with pytest.raises(DnsUnavailable):
        domain_services.DnsPythonResolver().txt("_portal-verify.example.com")


@pytest.fixture
def admin_client_a(tenant_a):
    staff = make_actor(tenant_a, email="owner-admin@alpha.test", staff=True, superuser=True)
    client = client_for(tenant_a)
    with tenant_context(tenant_a):
        client.force_login(staff.user)
    connection.set_schema_to_public()
    return client


def test_tenant_admin_lists_adds_and_verifies_own_domains(
    admin_client_a, staff_b, tenant_a, fake_dns
):
    _add(staff_b, "swim.beta.example")
    page = admin_client_a.get("/admin/tenants/domain/")
    assert page.status_code == 200
    text = page.content.decode()
    assert tenant_a.platform_host in text and "swim.beta.example" not in text
    bad = admin_client_a.post("/admin/tenants/domain/add/", {"domain": "evil.testserver.local"})
    assert bad.status_code == 200 and "assigned by the platform" in bad.content.decode()
    taken = admin_client_a.post("/admin/tenants/domain/add/", {"domain": "swim.beta.example"})
    assert "already used by another portal" in taken.content.decode()
    added = admin_client_a.post("/admin/tenants/domain/add/", {"domain": "gym.alpha.example"})
    assert added.status_code == 302
    domain = Domain.objects.get(domain="gym.alpha.example")
    assert domain.tenant_id == tenant_a.pk and domain.verified_at is None
    assert domain.verification_token
    listing = admin_client_a.get("/admin/tenants/domain/").content.decode()
    assert f"portal-verify={domain.verification_token}" in listing
    fake_dns[f"_portal-verify.{domain.domain}"] = [f"portal-verify={domain.verification_token}"]
    admin_client_a.post(
        "/admin/tenants/domain/",
        {"action": "verify_now", "_selected_action": [domain.pk]},
    )
    domain.refresh_from_db()
    assert domain.verified_at is not None
    other = Domain.objects.get(domain="swim.beta.example")
    assert admin_client_a.get(f"/admin/tenants/domain/{other.pk}/change/").status_code == 302
    admin_client_a.post(
        "/admin/tenants/domain/", {"action": "verify_now", "_selected_action": [other.pk]}
    )
    other.refresh_from_db()
    assert other.verified_at is None


def test_verified_domains_are_rechecked_and_lose_routing_when_the_proof_vanishes(
    staff_a, tenant_a, fake_dns, django_capture_on_commit_callbacks
):
    from tenants.tasks import domain_recheck_verified_task

    body = _add(staff_a)
    _publish(fake_dns, body)
    assert staff_a.client().post(f"{URL}/{body['id']}/verify").status_code == 200
    assert staff_a.client().post(f"{URL}/{body['id']}/primary").status_code == 200
    routing.router.clear()
    assert _get("portal.alpha-gym.example").status_code == 200
    start = timezone.now()

    def run(hours):
        with django_capture_on_commit_callbacks(execute=True):
            return domain_services.domain_recheck_verified(now=start + timedelta(hours=hours))

    assert run(1) == {"checked": 0, "ok": 0, "unverified": 0}  # checked when verified
    assert run(25) == {"checked": 1, "ok": 1, "unverified": 0}
    # The business lets the proof go. A DNS outage first: it proves nothing.
    fake_dns[body["verification"]["name"]] = DnsUnavailable
    assert run(50) == {"checked": 1, "ok": 0, "unverified": 0}
    fake_dns.pop(body["verification"]["name"])
    assert run(75) == {"checked": 1, "ok": 0, "unverified": 0}  # one miss may be an edit
    assert run(76) == {"checked": 0, "ok": 0, "unverified": 0}  # a second run is a no-op
    domain = Domain.objects.get(pk=body["id"])
    assert domain.verified_at is not None and domain.is_primary
    assert domain.last_check_error == "domain_verification_record_missing"
    assert run(100) == {"checked": 1, "ok": 0, "unverified": 1}
    domain.refresh_from_db()
    assert domain.verified_at is None and not domain.is_primary
    tenant_a.refresh_from_db()
    assert tenant_a.primary_domain == "" and tenant_a.primary_host == tenant_a.platform_host
    assert Domain.objects.get(domain=tenant_a.platform_host).is_primary
    routing.router.clear()
    assert _get("portal.alpha-gym.example").status_code == 404
    ask = _get("testserver.local", "/_tls/ask?domain=portal.alpha-gym.example")
    assert ask.status_code == 404
    assert run(200) == {"checked": 0, "ok": 0, "unverified": 0}  # unverified: not rechecked
    # The beat task runs the same service (nothing is due now).
    assert domain_recheck_verified_task.apply().get() == {"checked": 0, "ok": 0, "unverified": 0}
