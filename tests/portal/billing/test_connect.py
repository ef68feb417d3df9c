"""Stripe Connect onboarding against recorded responses shaped like Stripe's API (accounts
create and retrieve, account links), since the local Stripe stand-in has no Connect: the owner
starts from the console and the staff API, comes back (the account is fetched again), resumes
with a fresh link, the ``account.updated`` webhook updates the state, and online payment is
refused with ``payments_not_configured`` until Stripe enables charges, while cash still works.
The demo connection exists only against the local stand-in. Roles, bad input, Stripe errors and
another business's session."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection
from django.test import Client, override_settings
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.billing.models import Payment
from portal.enrollment import services as enrollment
from portal.orders import services as orders
from portal.staff.services import staff_role_set
from tenants.models import Tenant
from tests.factories import PASSWORD
from tests.helpers import assert_cross_tenant_denied, assert_error, host_of, make_actor
from tests.portal.billing_helpers import SECRET, STRIPE, deliver, signed_event
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"
PAGE = "/console/settings/payments/"
ACCOUNT = "acct_1QfKx2PzRb9Lw3Tm"


def stripe_account(charges_enabled=False, details_submitted=False, due=None) -> dict:
    """An Account as Stripe's API returns it (trimmed to the fields a Standard account has)."""
    due = (
        ["business_profile.url", "external_account", "tos_acceptance.date"] if due is None else due
    )
    return {
        "id": ACCOUNT,
        "object": "account",
        "business_profile": {"mcc": None, "name": None, "url": None, "support_email": None},
        "business_type": None,
        "capabilities": {},
        "charges_enabled": charges_enabled,
        "controller": {"is_controller": True, "type": "account"},
        "country": "US",
        "created": 1764790000,
        "default_currency": "usd",
        "details_submitted": details_submitted,
        "email": "owner@alpha.test",
        "external_accounts": {"object": "list", "data": [], "has_more": False,
                              "total_count": 0, "url": f"/v1/accounts/{ACCOUNT}/external_accounts"},
        "metadata": {"tenant": "alpha"},
        "payouts_enabled": charges_enabled,
        "requirements": {
            "alternatives": [],
            "current_deadline": None,
            "currently_due": due,
            "disabled_reason": None if charges_enabled else "requirements.past_due",
            "errors": [],
            "eventually_due": due,
            "past_due": due,
            "pending_verification": [],
        },
        "settings": {"payouts": {"schedule": {"interval": "daily", "delay_days": 2}}},
        "tos_acceptance": {"date": None},
        "type": "standard",
    }  # fmt: skip


def account_link(n: int = 1) -> dict:
    return {
        "object": "account_link",
        "created": 1764790100,
        "expires_at": 1764790400,
        "url": f"https://connect.stripe.com/setup/s/{ACCOUNT}/link{n}",
    }


def form(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@pytest.fixture(autouse=True)
def stripe_settings():
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform",
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_API_BASE="",
        STRIPE_MAX_NETWORK_RETRIES=0,
    ):
        yield


@pytest.fixture
def not_connected(in_tenant_a):
    Tenant.objects.filter(pk=in_tenant_a.pk).update(
        stripe_account_id="", stripe_charges_enabled=False
    )
    in_tenant_a.refresh_from_db()
    connection.set_tenant(in_tenant_a)
    return in_tenant_a


def console_client(tenant, email: str, role: str) -> Client:
    with tenant_context(tenant):
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
        staff_role_set(user=user, role=role)
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


@pytest.fixture
def owner(not_connected):
    return console_client(not_connected, "stripe-owner@alpha.test", "owner")


def tenant_row(tenant) -> Tenant:
    return Tenant.objects.get(pk=tenant.pk)


@responses.activate
def test_the_owner_connects_through_stripe_and_comes_back(owner, not_connected):
    page = owner.get(PAGE)
    assert page.status_code == 200 and "Not connected" in page.content.decode()
    responses.post(f"{STRIPE}/v1/accounts", json=stripe_account())
    responses.post(f"{STRIPE}/v1/account_links", json=account_link())
    started = owner.post(f"{PAGE}start")
    assert started.status_code == 302 and started["Location"] == account_link()["url"]
    create, link = responses.calls
    assert create.request.headers["Idempotency-Key"] == "tenant:alpha:account:1"
    assert form(create)["type"] == "standard"
    assert form(link) == {
        "account": ACCOUNT,
        "refresh_url": not_connected.url(f"{PAGE}resume"),
        "return_url": not_connected.url(f"{PAGE}return"),
        "type": "account_onboarding",
    }
    row = tenant_row(not_connected)
    assert (row.stripe_account_id, row.stripe_charges_enabled) == (ACCOUNT, False)
    # Back from Stripe before finishing: still pending, with what Stripe needs.
    responses.get(f"{STRIPE}/v1/accounts/{ACCOUNT}", json=stripe_account())
    back = owner.get(f"{PAGE}return", follow=True)
    body = back.content.decode()
    assert "Stripe still needs some details" in body and "external_account" in body
    assert tenant_row(not_connected).stripe_requirements_due == [
        "business_profile.url", "external_account", "tos_acceptance.date"]  # fmt: skip
    # The link expired: Stripe sends the owner to refresh_url, which makes a new one.
    responses.post(f"{STRIPE}/v1/account_links", json=account_link(2))
    resumed = owner.get(f"{PAGE}resume")
    assert resumed["Location"] == account_link(2)["url"]
    assert [c.request.url for c in responses.calls].count(f"{STRIPE}/v1/accounts") == 1
    # Finished: charges enabled.
    responses.replace(
        responses.GET,
        f"{STRIPE}/v1/accounts/{ACCOUNT}",
        json=stripe_account(charges_enabled=True, details_submitted=True, due=[]),
    )
    done = owner.get(f"{PAGE}return", follow=True)
    assert "families can pay online now" in done.content.decode()
    row = tenant_row(not_connected)
    assert row.stripe_charges_enabled and row.stripe_details_submitted
    assert row.stripe_requirements_due == [] and row.stripe_checked_at is not None
    # Nothing more to resume.
    assert owner.get(f"{PAGE}resume")["Location"] == PAGE


@responses.activate
def test_online_payment_waits_for_charges_enabled_and_cash_does_not(
    family_a, django_capture_on_commit_callbacks
):
    tenant = family_a.tenant
    Tenant.objects.filter(pk=tenant.pk).update(stripe_account_id=ACCOUNT,
                                               stripe_charges_enabled=False)  # fmt: skip
    connection.set_tenant(Tenant.objects.get(pk=tenant.pk))
    offering = make_offering(tuition=5000, registration_fee=0)
    enrollment.cart_add(family=family_a.family, student_id=family_a.student.pk,
                        offering_id=offering.pk)  # fmt: skip
    order = orders.checkout(family=family_a.family)
    response = family_a.client().post(f"{API}/orders/{order.pk}/pay")
    assert_error(
        response,
        409,
        "payments_not_configured",
        "This business does not take online payments yet. Please contact them to pay.",
    )
    assert not Payment.objects.exists() and len(responses.calls) == 0  # fmt: skip
    assert family_a.client().get(f"{API}/portal").json()["payments"]["publishable_key"] is None
    # Cash at the desk still works.
    desk = make_actor(tenant, email="cash-desk@alpha.test", role="front_desk")
    connection.set_tenant(tenant)
    cash = desk.client().post(
        f"{API}/staff/families/{family_a.family.pk}/payments",
        {"amount": "50.00", "method": "cash"},
        format="json",
    )
    assert cash.status_code in (200, 201), cash.content
    # The webhook says Stripe enabled charges: online payment opens.
    responses.get(
        f"{STRIPE}/v1/accounts/{ACCOUNT}",
        json=stripe_account(charges_enabled=True, details_submitted=True, due=[]),
    )
    payload, header = signed_event("account.updated", {"id": ACCOUNT, "object": "account"},
                                   account=ACCOUNT, event_id="evt_acct_1")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(payload, header).status_code == 200
    assert tenant_row(tenant).stripe_charges_enabled is True
    assert tenant_row(tenant).stripe_details_submitted is True


@responses.activate
def test_the_staff_api_reports_status_starts_and_refreshes(not_connected):
    owner = make_actor(not_connected, email="api-owner@alpha.test", role="owner")
    connection.set_tenant(not_connected)
    status = owner.client().get(f"{API}/staff/stripe/account").json()
    assert status["state"] == "not_connected" and status["account_id"] is None
    responses.post(f"{STRIPE}/v1/accounts", json=stripe_account())
    responses.post(f"{STRIPE}/v1/account_links", json=account_link())
    started = owner.client().post(f"{API}/staff/stripe/onboarding")
    assert started.json() == {"url": account_link()["url"]}
    assert form(responses.calls[1])["return_url"] == not_connected.url(f"{PAGE}return")
    responses.get(f"{STRIPE}/v1/accounts/{ACCOUNT}", json=stripe_account(details_submitted=True))
    refreshed = owner.client().post(f"{API}/staff/stripe/account/refresh").json()
    assert refreshed["state"] == "pending" and refreshed["details_submitted"] is True
    assert "external_account" in refreshed["requirements_due"]


@responses.activate
def test_a_stripe_error_records_nothing(owner, not_connected):
    responses.post(f"{STRIPE}/v1/accounts", status=500,
                   json={"error": {"type": "api_error", "message": "boom"}})  # fmt: skip
    failed = owner.post(f"{PAGE}start")
    assert failed.status_code == 502
    assert "could not be reached" in failed.content.decode()
    assert tenant_row(not_connected).stripe_account_id == ""


def test_the_demo_connection_exists_only_against_the_local_stand_in(owner, not_connected):
    refused = owner.post(f"{PAGE}demo")
    assert (
        refused.status_code == 409 and "only possible against the local" in refused.content.decode()
    )
    assert tenant_row(not_connected).stripe_account_id == ""
    with override_settings(STRIPE_API_BASE="http://127.0.0.1:8420"):
        page = owner.get(PAGE).content.decode()
        assert "Demo mode" in page and 'id="connect-demo"' in page
        no_connect = owner.post(f"{PAGE}start")
        assert no_connect.status_code == 409 and "without Connect" in no_connect.content.decode()
        done = owner.post(f"{PAGE}demo", follow=True)
        assert "Demo account connected" in done.content.decode()
    row = tenant_row(not_connected)
    assert row.stripe_account_id == "acct_demo_alpha" and row.stripe_charges_enabled


@pytest.mark.parametrize("role", ["manager", "front_desk", "coach"])
def test_only_the_owner_onboards(not_connected, role):
    client = console_client(not_connected, f"stripe-{role}@alpha.test", role)
    for method, path in (("get", PAGE), ("post", f"{PAGE}start"), ("get", f"{PAGE}return"),
                         ("get", f"{PAGE}resume"), ("post", f"{PAGE}refresh"),
                         ("post", f"{PAGE}demo")):  # fmt: skip
        assert getattr(client, method)(path).status_code == 403, (role, path)
    staff = make_actor(not_connected, email=f"api-{role}@alpha.test", role=role)
    connection.set_tenant(not_connected)
    assert_error(staff.client().get(f"{API}/staff/stripe/account"), 403,
                 "staff_permission_required")  # fmt: skip
    assert tenant_row(not_connected).stripe_account_id == ""


def test_anonymous_and_another_businesss_session_get_nothing(owner, not_connected, tenant_b):
    anonymous = Client(HTTP_HOST=host_of(not_connected))
    assert anonymous.get(PAGE)["Location"].startswith("/console/login/")
    assert anonymous.post(f"{PAGE}demo").status_code == 302
    owner.defaults["HTTP_HOST"] = host_of(tenant_b)
    assert owner.post(f"{PAGE}start").status_code == 302  # to B's sign-in: nobody there
    other = make_actor(tenant_b, email="stripe-b@beta.test", role="owner")
    assert_cross_tenant_denied(credentials_client=other.client(), target=not_connected,
                               method="get", path=f"{API}/staff/stripe/account")  # fmt: skip
    assert tenant_row(not_connected).stripe_account_id == ""
