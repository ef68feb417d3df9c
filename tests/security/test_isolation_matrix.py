"""Isolation and role matrix: every API route, enumerated from the URL maps and checked
against the OpenAPI schemas, is tried with another business's credentials and object ids, and
with a family's credentials on staff and platform routes. Every attempt gets 401, 403 or 404
and no byte of the other business's data.

Every staff route is also tried by every role (portal/staff/roles.py) of the business itself,
against ROLE_MATRIX: the one table of which roles may use which staff route. A staff route
without an entry, or an entry for a route that no longer exists, fails the test.

Routes are classified by their DRF permission classes; a route whose view uses a permission
class the matrix does not know, or a path parameter it has no sample for, fails the test: a new
route cannot slip in without coverage."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from kernel.api.permissions import StaffPermission
from kernel.staff_permissions import OTHER_PERMISSIONS, STAFF_PERMISSIONS, perm
from kernel.users.services import api_token_issue
from portal.accounts.models import Family
from tests.factories import (
    EmergencyContactFactory,
    GuardianFactory,
    OfferingFactory,
    StudentFactory,
)
from tests.helpers import api_routes, client_for, host_of, make_actor

pytestmark = pytest.mark.django_db

# What each permission class means for the matrix.
KINDS = {
    "StaffPermission": "staff",
    "IsFamilyMember": "family",
    "IsAuthenticated": "signed_in",
    "CatalogVisible": "public",
    "AllowAny": "public",
    "IsPlatformAdmin": "platform",
}
# Routes whose access is not a permission class: links signed for one object of one tenant
# (the signature is checked against the host's schema) and Stripe's webhook.
SIGNED_LINKS = {
    "/api/v1/staff/app/builds/{number}/download",
    "/api/v1/store/gift-certificates/visitor/status",
}
DENIED = {401, 403, 404}

# Who may use each staff route: owner (O), manager (M), front desk (F), coach (C). A role not
# listed gets 403 ``staff_permission_required``; staff with no role get it everywhere.
ROLE_MATRIX: dict[str, str] = {
    "GET /api/v1/staff/theme/draft": "O M",
    "PATCH /api/v1/staff/theme/draft": "O M",
    "POST /api/v1/staff/theme/draft/images/{field}": "O M",
    "DELETE /api/v1/staff/theme/draft/images/{field}": "O M",
    "GET /api/v1/staff/theme/contrast": "O M",
    "POST /api/v1/staff/theme/contrast/fix": "O M",
    "POST /api/v1/staff/theme/publish": "O M",
    "GET /api/v1/staff/theme/versions": "O M",
    "POST /api/v1/staff/theme/versions/{number}/rollback": "O M",
    "GET /api/v1/staff/app": "O M",
    "PATCH /api/v1/staff/app": "O M",
    "GET /api/v1/staff/app/listings": "O M",
    "GET /api/v1/staff/app/listings/{locale}": "O M",
    "PUT /api/v1/staff/app/listings/{locale}": "O M",
    "DELETE /api/v1/staff/app/listings/{locale}": "O M",
    "GET /api/v1/staff/app/preflight": "O M",
    "GET /api/v1/staff/app/builds": "O M",
    "POST /api/v1/staff/app/builds": "O M",
    "GET /api/v1/staff/app/builds/{number}": "O M",
    "POST /api/v1/staff/app/builds/{number}/retry": "O M",
    "POST /api/v1/staff/payments/{payment_id}/refund": "O M",
    "POST /api/v1/staff/stripe/onboarding": "O",
    "GET /api/v1/staff/stripe/account": "O",
    "POST /api/v1/staff/stripe/account/refresh": "O",
    "GET /api/v1/staff/requests": "O M F",
    "GET /api/v1/staff/requests/{request_id}": "O M F",
    "GET /api/v1/staff/payments/failed": "O M F",
    "POST /api/v1/staff/requests/{request_id}/decide": "O M F",
    "GET /api/v1/staff/enrollments/pending": "O M F",
    "POST /api/v1/staff/families/{family_id}/enrollments": "O M F",
    "POST /api/v1/staff/enrollments/{enrollment_id}/drop": "O M F",
    "POST /api/v1/staff/enrollments/{enrollment_id}/transfer": "O M F",
    "GET /api/v1/staff/offerings/{offering_id}/camp-booking": "O M",
    "PATCH /api/v1/staff/offerings/{offering_id}/camp-booking": "O M",
    "GET /api/v1/staff/offerings/{offering_id}/waitlist": "O M F",
    "GET /api/v1/staff/activity": "O M F",
    "POST /api/v1/staff/activity/{item_id}/mark": "O M F",
    "POST /api/v1/staff/waitlist/{entry_id}/offer": "O M F",
    "POST /api/v1/staff/waitlist/{entry_id}/move": "O M F",
    "POST /api/v1/staff/enrollments/{enrollment_id}/approve": "O M F",
    "POST /api/v1/staff/enrollments/{enrollment_id}/deny": "O M F",
    "GET /api/v1/staff/openings/{opening_id}/queue": "O M F",
    "POST /api/v1/staff/openings/{opening_id}/pause": "O M F",
    "GET /api/v1/staff/settings": "O M",
    "PATCH /api/v1/staff/settings": "O M",
    "GET /api/v1/staff/announcements": "O M",
    "POST /api/v1/staff/announcements": "O M",
    "GET /api/v1/staff/announcements/{announcement_id}": "O M",
    "PATCH /api/v1/staff/announcements/{announcement_id}": "O M",
    "DELETE /api/v1/staff/announcements/{announcement_id}": "O M",
    "POST /api/v1/staff/announcements/{announcement_id}/email": "O M",
    "GET /api/v1/staff/profiles": "O M",
    "POST /api/v1/staff/profiles": "O M",
    "GET /api/v1/staff/profiles/{staff_id}": "O M",
    "PATCH /api/v1/staff/profiles/{staff_id}": "O M",
    "PUT /api/v1/staff/profiles/{staff_id}/availability": "O M",
    "POST /api/v1/staff/profiles/{staff_id}/photo": "O M",
    "DELETE /api/v1/staff/profiles/{staff_id}/photo": "O M",
    "GET /api/v1/staff/website": "O M",
    "GET /api/v1/staff/members": "O",
    "POST /api/v1/staff/members": "O",
    "POST /api/v1/staff/members/{user_id}/role": "O",
    "GET /api/v1/staff/domains": "O",
    "POST /api/v1/staff/domains": "O",
    "GET /api/v1/staff/domains/{domain_id}": "O",
    "DELETE /api/v1/staff/domains/{domain_id}": "O",
    "POST /api/v1/staff/domains/{domain_id}/verify": "O",
    "POST /api/v1/staff/domains/{domain_id}/primary": "O",
    "GET /api/v1/staff/families": "O M F",
    "GET /api/v1/staff/families/{family_id}": "O M F",
    "POST /api/v1/staff/families/{family_id}/charges": "O M F",
    "POST /api/v1/staff/families/{family_id}/credits": "O M",
    "POST /api/v1/staff/families/{family_id}/payments": "O M F",
    "POST /api/v1/staff/families/{family_id}/payments/{payment_id}/refund": "O M",
    "POST /api/v1/staff/families/{family_id}/ledger/{entry_id}/receipt": "O M F",
    "POST /api/v1/staff/families/{family_id}/guardians/{guardian_id}/invite": "O M F",
    "POST /api/v1/staff/families/{family_id}/students/{student_id}/photo": "O M F",
    "DELETE /api/v1/staff/families/{family_id}/students/{student_id}/photo": "O M F",
    "GET /api/v1/staff/receivables": "O M F",
    "GET /api/v1/staff/autopay/runs": "O M F",
    "GET /api/v1/staff/autopay/charges": "O M F",
    "POST /api/v1/staff/autopay/charges/{charge_id}/retry": "O M F",
    "GET /api/v1/staff/payouts": "O M",
    "GET /api/v1/staff/balance-transactions": "O M",
    "GET /api/v1/staff/reports": "O M",
    "GET /api/v1/staff/reports/{name}": "O M",
    "GET /api/v1/staff/reports/{name}/csv": "O M",
    "GET /api/v1/staff/classes/today": "O M F C",
    "GET /api/v1/staff/rosters/{offering_id}": "O M F C",
    "GET /api/v1/staff/rosters/{offering_id}/meetings/{day}": "O M F C",
    "GET /api/v1/staff/rosters/{offering_id}/meetings/{day}/csv": "O M F C",
    "POST /api/v1/staff/rosters/{offering_id}/meetings/{day}/attendance": "O M F C",
    "POST /api/v1/staff/rosters/{offering_id}/meetings/{day}/attendance/all-present": "O M F C",
    # The staff console's pages (portal_console).
    "GET /console/": "O M F C",
    "GET /console/enrollments/": "O M F",
    "POST /console/enrollments/{enrollment_id}/decide": "O M F",
    "GET /console/families/": "O M F",
    "GET /console/families/{family_id}/": "O M F",
    "POST /console/families/{family_id}/charge": "O M F",
    "POST /console/families/{family_id}/credit": "O M",
    "POST /console/families/{family_id}/payment": "O M F",
    "POST /console/families/{family_id}/payments/{payment_id}/refund": "O M",
    "POST /console/families/{family_id}/ledger/{entry_id}/receipt": "O M F",
    "POST /console/families/{family_id}/guardians/{guardian_id}/invite": "O M F",
    "POST /console/families/{family_id}/enroll": "O M F",
    "POST /console/families/{family_id}/students/{student_id}/photo": "O M F",
    "POST /console/enrollments/{enrollment_id}/drop": "O M F",
    "POST /console/enrollments/{enrollment_id}/transfer": "O M F",
    "GET /console/activity/": "O M F",
    "GET /console/families/unsigned-policies/": "O M F",
    "POST /console/activity/{item_id}/mark": "O M F",
    "GET /console/waitlists/": "O M F",
    "GET /console/waitlists/{offering_id}/": "O M F",
    "POST /console/waitlists/entries/{entry_id}/offer": "O M F",
    "POST /console/waitlists/entries/{entry_id}/move": "O M F",
    "GET /console/requests/": "O M F",
    "GET /console/requests/{request_id}/": "O M F",
    "POST /console/requests/{request_id}/decide": "O M F",
    "GET /console/payments/failed/": "O M F",
    "GET /console/receivables/": "O M F",
    "GET /console/autopay/": "O M F",
    "POST /console/autopay/{charge_id}/retry": "O M F",
    "GET /console/payouts/": "O M",
    "GET /console/reports/": "O M",
    "GET /console/reports/{name}/": "O M",
    "GET /console/reports/{name}/csv": "O M",
    "GET /console/rosters/{offering_id}/": "O M F C",
    "GET /console/openings/": "O M F",
    "GET /console/openings/status.json": "O M F",
    "POST /console/openings/{opening_id}/pause": "O M F",
    "GET /console/settings/payments/": "O",
    "POST /console/settings/payments/start": "O",
    "GET /console/settings/payments/resume": "O",
    "GET /console/settings/payments/return": "O",
    "POST /console/settings/payments/refresh": "O",
    "POST /console/settings/payments/demo": "O",
    "GET /console/settings/branding/": "O M",
    "POST /console/settings/branding/colours": "O M",
    "POST /console/settings/branding/images/{field}": "O M",
    "POST /console/settings/branding/images/{field}/remove": "O M",
    "POST /console/settings/branding/contrast-fix": "O M",
    "POST /console/settings/branding/publish": "O M",
    "POST /console/settings/branding/versions/{number}/rollback": "O M",
    "GET /console/rosters/{offering_id}/{day}/": "O M F C",
    "POST /console/rosters/{offering_id}/{day}/mark": "O M F C",
    "POST /console/rosters/{offering_id}/{day}/all-present": "O M F C",
    "GET /console/rosters/{offering_id}/{day}/csv": "O M F C",
    "GET /console/staff/": "O",
    "GET /console/plan/": "O",
    "POST /console/staff/invite": "O",
    "POST /console/staff/{user_id}/role": "O",
    # Settings (portal_console/settings_views.py): owner and manager.
    "GET /console/settings/": "O M",
    "GET /console/settings/signup-questions/": "O M",
    "POST /console/settings/signup-questions/": "O M",
    "POST /console/settings/signup-questions/{question_id}": "O M",
    "GET /console/settings/announcements/": "O M",
    "POST /console/settings/announcements/": "O M",
    "POST /console/settings/announcements/{announcement_id}": "O M",
    "GET /console/settings/staff/": "O M",
    "POST /console/settings/staff/": "O M",
    "POST /console/settings/staff/{staff_id}": "O M",
    "POST /console/settings/staff/{staff_id}/photo": "O M",
    "POST /console/settings/staff/{staff_id}/availability": "O M",
    "GET /console/settings/website/": "O M",
    "GET /console/settings/website/preview": "O M",
    "GET /console/settings/registration/": "O M",
    "POST /console/settings/registration/": "O M",
    "GET /console/settings/checkout/": "O M",
    "POST /console/settings/checkout/": "O M",
    "GET /console/settings/requests/": "O M",
    "POST /console/settings/requests/": "O M",
    "GET /console/settings/staff-pages/": "O M",
    "POST /console/settings/staff-pages/": "O M",
    "GET /console/settings/display/": "O M",
    "POST /console/settings/display/": "O M",
    "GET /console/settings/payments-store/": "O M",
    "POST /console/settings/payments-store/": "O M",
    "GET /console/settings/features/": "O M",
    "POST /console/settings/features/": "O M",
}
# Console pages anyone may open (signing in and out).
CONSOLE_PUBLIC = {"GET /console/login/", "POST /console/login/", "POST /console/logout/"}
ROLE_LETTERS = {"O": "owner", "M": "manager", "F": "front_desk", "C": "coach"}
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    path: str  # OpenAPI spelling, /api/v1/orders/{order_id}
    view: type
    urlconf: str

    @property
    def methods(self) -> list[str]:
        return [m for m in METHODS if hasattr(self.view, m)]

    @property
    def kind(self) -> str:
        if self.path in SIGNED_LINKS:
            return "signed_link"
        classes = getattr(self.view, "permission_classes", None)
        if classes is None:
            return "unknown"
        names = {
            "StaffPermission" if issubclass(cls, StaffPermission) else cls.__name__
            for cls in classes
        }
        kinds = {KINDS.get(name, "unknown") for name in names}
        if "unknown" in kinds or len(kinds) != 1:
            return "unknown"
        return kinds.pop()


def routes(urlconf: str, prefix: str) -> list[Route]:
    return [
        Route(path=path, view=callback.cls, urlconf=urlconf)
        for path, callback in api_routes(urlconf, prefix).items()
        if getattr(callback, "cls", None) is not None
    ]


TENANT_ROUTES = routes("saas_platform.urls_tenant", "/api/v1/")
PLATFORM_ROUTES = routes("saas_platform.urls_public", "/api/platform/v1/")


@pytest.fixture
def world(tenant_a, tenant_b):
    """Tenant A with a family, a student, a contact, an offering and staff, all marked with
    text that must never show on B's host; B with its own family and staff."""
    with tenant_context(tenant_a):
        guardian = GuardianFactory(
            email="matrix-parent@alpha.test", first_name="Quillon", last_name="Marrowby"
        )
        student = StudentFactory(family=guardian.family, first_name="Isolde", last_name="Marrowby")
        contact = EmergencyContactFactory(family=guardian.family, name="Thaddeus Vorne")
        offering = OfferingFactory(name="Zephyrine Tumblers")
        _, family_token = api_token_issue(user=guardian.user, name="matrix")
    staff_a = make_actor(tenant_a, email="matrix-staff@alpha.test", staff=True, superuser=True)
    staff_b = make_actor(tenant_b, email="matrix-staff@beta.test", staff=True, superuser=True)
    with tenant_context(tenant_b):
        b_guardian = GuardianFactory(email="matrix-parent@beta.test")
        _, b_family_token = api_token_issue(user=b_guardian.user, name="matrix")
    # A family id of A's that B does not also have (each schema numbers its own rows, so B's
    # one family may carry the same id as A's, and B's staff rightly see their own).
    a_family_id = guardian.family_id
    while True:
        with tenant_context(tenant_b):
            b_has_it = Family.objects.filter(pk=a_family_id).exists()
        if not b_has_it:
            break
        with tenant_context(tenant_a):
            a_family_id = GuardianFactory(email=f"matrix-{a_family_id}@alpha.test").family_id
    connection.set_schema_to_public()
    ids = {
        "student_id": student.pk,
        "contact_id": contact.pk,
        "offering_id": offering.pk,
        "day": offering.meetings()[0].isoformat(),  # a meeting of A's class
        # Objects a family or staff would own; any id of A's is as good as another here, and
        # B has none of them.
        "hold_id": 1,
        "order_id": 1,
        "method_id": 1,
        "payment_id": 1,
        "request_id": 1,
        "pass_id": 1,
        "entry_id": 1,
        "enrollment_id": 1,
        "user_id": 1,
        "opening_id": 1,
        "device_id": 1,
        "domain_id": 1,
        "family_id": a_family_id,
        "guardian_id": 1,
        "charge_id": 1,
        "item_id": 1,
        "announcement_id": 1,
        "staff_id": 1,
        "question_id": 1,
        "name": "revenue",
        "number": 1,
        "field": "logo",
        "locale": "en-US",
        "slug": tenant_b.schema_name,
    }
    markers = [
        "Quillon",
        "Marrowby",
        "Isolde",
        "Thaddeus Vorne",
        "Zephyrine",
        "matrix-parent@alpha.test",
        "matrix-staff@alpha.test",
        tenant_a.name,
        tenant_a.owner_email,
    ]
    return {
        "a": tenant_a,
        "b": tenant_b,
        "ids": ids,
        "markers": markers,
        "family_token": family_token,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "b_family_token": b_family_token,
    }


def fill(path: str, ids: dict) -> str:
    def sample(match: re.Match) -> str:
        name = match.group(1)
        if name not in ids:
            raise AssertionError(f"No sample for path parameter {{{name}}} of {path}: add one.")
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", sample, path)


def send(client: APIClient, method: str, path: str):
    if method in ("get", "delete"):
        return getattr(client, method)(path)
    return getattr(client, method)(path, data={}, format="json")


def assert_nothing_of(response, markers: list[str], context: str) -> None:
    text = response.content.decode(errors="replace") if not response.streaming else ""
    for marker in markers:
        assert marker not in text, f"{marker!r} leaked: {context} -> {response.status_code}"


def session_client(actor, host_tenant) -> APIClient:
    """A's staff session cookie, replayed on another host."""
    client = client_for(actor.tenant)
    with tenant_context(actor.tenant):
        client.force_login(actor.user)
    connection.set_schema_to_public()
    client.defaults["HTTP_HOST"] = host_of(host_tenant)
    return client


def test_every_route_is_classified_and_documented(tenant_a):
    unknown = [(r.path, r.view.__name__) for r in TENANT_ROUTES + PLATFORM_ROUTES
               if r.kind == "unknown"]  # fmt: skip
    assert unknown == [], "classify these routes' permission classes in KINDS"
    assert len(TENANT_ROUTES) > 40 and len(PLATFORM_ROUTES) > 5
    documented = client_for(tenant_a).get("/api/v1/schema", HTTP_ACCEPT="application/json")
    paths = set(documented.json()["paths"])
    assert {r.path for r in TENANT_ROUTES} == paths


def test_tenant_routes_refuse_another_businesss_credentials_and_ids(world):
    b, ids, markers = world["b"], world["ids"], world["markers"]
    a_family = client_for(b, token=world["family_token"])
    a_staff_token = client_for(b, token=world["staff_a"].token)
    a_staff_session = session_client(world["staff_a"], b)
    anonymous = client_for(b)
    tried = 0
    for route in TENANT_ROUTES:
        path = fill(route.path, ids)
        for method in route.methods:
            for label, client in (("A family token", a_family), ("A staff token", a_staff_token)):
                response = send(client, method, path)
                context = f"{label} {method.upper()} {path} on B"
                if (
                    route.kind in ("public", "signed_link")
                    and route.view.authentication_classes == []
                ):
                    assert response.status_code < 500, context
                else:
                    # An unknown token is refused before anything else, public routes included.
                    assert response.status_code in DENIED, (context, response.status_code)
                assert_nothing_of(response, markers, context)
                tried += 1
            response = send(a_staff_session, method, path)
            context = f"A staff session {method.upper()} {path} on B"
            if route.kind in ("staff", "family", "signed_in"):
                assert response.status_code in DENIED, (context, response.status_code)
            else:
                # The session means nothing on B: the request is a visitor's, and gets exactly
                # what any visitor gets.
                assert response.status_code == send(anonymous, method, path).status_code, context
            assert_nothing_of(response, markers, context)
            tried += 1
    assert tried > 150
    operations = sum(len(r.methods) for r in TENANT_ROUTES)
    print(
        f"[matrix] tenant routes {len(TENANT_ROUTES)}, operations {operations}, "
        f"cross-tenant attempts {tried}; platform routes {len(PLATFORM_ROUTES)}"
    )


def test_another_businesss_ids_find_nothing_with_this_businesss_credentials(world):
    b, ids, markers = world["b"], world["ids"], world["markers"]
    b_family = client_for(b, token=world["b_family_token"])
    b_staff = world["staff_b"].client()
    for route in TENANT_ROUTES:
        params = re.findall(r"\{(\w+)\}", route.path)
        object_ids = [p for p in params if p.endswith("_id") or p == "number"]
        if not object_ids or "get" not in route.methods or route.kind == "signed_link":
            continue
        path = fill(route.path, ids)
        client = b_staff if route.kind == "staff" else b_family
        response = client.get(path)
        context = f"B's credentials GET {path} (A's ids)"
        if route.kind in ("family", "staff", "signed_in"):
            assert response.status_code in DENIED | {400}, (context, response.status_code)
        assert_nothing_of(response, markers, context)


def test_family_credentials_open_no_staff_or_platform_route(world):
    a, ids = world["a"], world["ids"]
    family = client_for(a, token=world["family_token"])
    for route in TENANT_ROUTES:
        if route.kind != "staff":
            continue
        path = fill(route.path, ids)
        for method in route.methods:
            response = send(family, method, path)
            assert response.status_code == 403, (method, path, response.status_code)
    platform_ids = {**ids, "slug": a.schema_name}
    for route in PLATFORM_ROUTES:
        path = fill(route.path, platform_ids)
        for credentials in (world["family_token"], world["staff_a"].token):
            client = client_for(None, token=credentials)
            for method in route.methods:
                response = send(client, method, path)
                context = f"{method.upper()} {path} on the platform host"
                markers = world["markers"]
                if route.kind == "public":
                    assert response.status_code < 500, context
                    # The public directory names the businesses, and nothing about families.
                    markers = [m for m in markers if m != a.name]
                else:
                    assert response.status_code in DENIED, (context, response.status_code)
                assert_nothing_of(response, markers, context)


def staff_operations() -> list[tuple[str, Route, str]]:
    return [
        (f"{method.upper()} {route.path}", route, method)
        for route in TENANT_ROUTES
        if route.kind == "staff"
        for method in route.methods
    ]


def console_pages() -> list[tuple[str, str, object]]:
    """(key, path, view) of every console page and method, from the tenant URL map."""
    pages = []
    for path, view in api_routes("saas_platform.urls_tenant", "/console/").items():
        methods = getattr(view, "console_methods", None)
        assert methods, f"{path}: declare its methods with portal_console.access.methods"
        pages += [(f"{method} {path}", path, view) for method in methods]
    return pages


def test_every_staff_route_has_an_entry_in_the_role_matrix():
    pages = console_pages()
    for key, _path, view in pages:
        if key in CONSOLE_PUBLIC:
            assert not hasattr(view, "console_permission"), key
        else:
            assert getattr(view, "console_permission", ()), f"{key} declares no permission"
    keys = [key for key, _, _ in staff_operations()]
    keys += [key for key, _, _ in pages if key not in CONSOLE_PUBLIC]
    missing = sorted(set(keys) - set(ROLE_MATRIX))
    stale = sorted(set(ROLE_MATRIX) - set(keys))
    assert missing == [], f"add these staff routes to ROLE_MATRIX: {missing}"
    assert stale == [], f"ROLE_MATRIX names routes that do not exist: {stale}"
    for key, letters in ROLE_MATRIX.items():
        assert set(letters.split()) <= set(ROLE_LETTERS), key


def test_each_role_opens_exactly_its_staff_routes(tenant_a):
    """Every staff operation x every role (and staff with no role): allowed roles get past the
    permission check (any answer but 401/403), the others 403 ``staff_permission_required``
    naming the permission, and nothing of theirs changes."""
    actors = {
        role: make_actor(tenant_a, email=f"matrix-{role}@alpha.test", role=role)
        for role in ROLE_LETTERS.values()
    }
    actors["no role"] = make_actor(tenant_a, email="matrix-norole@alpha.test", staff=True)
    ids = {"field": "logo", "locale": "en-US", "number": 1, "payment_id": 1, "request_id": 1,
           "domain_id": 1, "enrollment_id": 1, "family_id": 1, "guardian_id": 1, "entry_id": 1,
           "charge_id": 1, "item_id": 1, "name": "revenue", "user_id": 999999, "opening_id": 1,
           "offering_id": 999999, "question_id": 999999, "day": "2026-01-05",
           "announcement_id": 999999, "staff_id": 999999, "student_id": 999999}  # fmt: skip
    named_permissions = {perm(c) for c in STAFF_PERMISSIONS} | set(OTHER_PERMISSIONS)
    tried = 0
    for key, route, method in staff_operations():
        allowed = {ROLE_LETTERS[letter] for letter in ROLE_MATRIX[key].split()}
        path = fill(route.path, ids)
        for role, actor in actors.items():
            response = send(actor.client(), method, path)
            context = f"{role}: {key} -> {response.status_code} {response.content[:200]!r}"
            if role in allowed:
                assert response.status_code not in (401, 403), context
                assert response.status_code < 500, context
            else:
                assert response.status_code == 403, context
                body = response.json()
                assert body["code"] == "staff_permission_required", context
                assert body["fields"]["permission"][0] in named_permissions, context
            tried += 1
    assert tried == len(staff_operations()) * 5
    # The console's pages, with each role's signed-in session.
    for key, path, _view in console_pages():
        if key in CONSOLE_PUBLIC:
            continue
        allowed = {ROLE_LETTERS[letter] for letter in ROLE_MATRIX[key].split()}
        method, _ = key.split(" ", 1)
        url = fill(path, ids)
        for role, actor in actors.items():
            client = Client(HTTP_HOST=host_of(tenant_a))
            with tenant_context(tenant_a):
                client.force_login(actor.user)
            connection.set_schema_to_public()
            response = client.post(url, {}) if method == "POST" else client.get(url)
            context = f"{role}: {key} -> {response.status_code}"
            if role in allowed:
                assert response.status_code not in (401, 403), context
                assert response.status_code < 500, context
            else:
                assert response.status_code == 403, context
                assert "Not for your role" in response.content.decode(), context
            tried += 1
    print(f"[roles] staff operations {len(staff_operations())}, role attempts {tried}")


def test_console_pages_and_staff_routes_refuse_families_visitors_and_another_business(world):
    """The rows of the role matrix for everyone outside the business's staff: every console page
    and staff API route tried by a family of the business (its session and its token), a visitor
    (no session, no token) and another business's owner (their session replayed on this host,
    and on their own host with this business's ids). None gets in, none sees a byte of ours."""
    a, b, ids, markers = world["a"], world["b"], world["ids"], world["markers"]
    family = Client(HTTP_HOST=host_of(a))
    with tenant_context(a):
        from portal.accounts.models import Guardian

        family.force_login(Guardian.objects.get(email="matrix-parent@alpha.test").user)
    b_owner = make_actor(b, email="matrix-owner@beta.test", role="owner")
    b_session_on_a = session_client(b_owner, a)
    b_session_on_b = session_client(b_owner, b)
    connection.set_schema_to_public()
    visitor = Client(HTTP_HOST=host_of(a))
    tried = 0
    for key, path, _view in console_pages():
        if key in CONSOLE_PUBLIC:
            continue
        method, _ = key.split(" ", 1)
        url = fill(path, ids)

        def send_page(client, url=url, method=method):
            return client.post(url, {}) if method == "POST" else client.get(url)

        response = send_page(family)
        assert response.status_code == 403, (f"family: {key}", response.status_code)
        assert "Not for your role" in response.content.decode(), key
        assert_nothing_of(response, [m for m in markers if m != a.name], f"family: {key}")
        for label, client in (("visitor", visitor), ("B's owner on A", b_session_on_a)):
            response = send_page(client)
            context = f"{label}: {key} -> {response.status_code}"
            assert response.status_code == 302, context
            assert response["Location"].startswith("/console/login/?next="), context
            assert_nothing_of(response, markers, context)
        response = send_page(b_session_on_b)
        context = f"B's owner on B with A's ids: {key} -> {response.status_code}"
        assert response.status_code < 500, context
        assert_nothing_of(response, markers, context)
        tried += 4
    anonymous = client_for(a)
    for key, route, method in staff_operations():
        response = send(anonymous, method, fill(route.path, ids))
        assert response.status_code == 401, (f"visitor: {key}", response.status_code)
        assert_nothing_of(response, markers, f"visitor: {key}")
        tried += 1
    print(f"[outsiders] console pages and staff routes, attempts {tried}")
