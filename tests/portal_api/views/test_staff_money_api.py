"""Staff API for families, money, receivables, payouts and reports: each role gets what the
role matrix says, amounts go in and out as decimals in the currency, bad input is a 4xx with a
stable code that changes nothing, and another business's staff find nothing."""

import csv
import io

import pytest
import responses
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from portal.billing.models import LedgerEntry, Payment, Refund, StaffPosting
from portal.enrollment.models import Order
from tenants.models import Tenant
from tests.factories import GuardianFactory, StudentFactory
from tests.helpers import assert_error, make_actor, tenant_today
from tests.portal.billing_helpers import STRIPE

pytestmark = pytest.mark.django_db
API = "/api/v1/staff"


@pytest.fixture
def staff(tenant_a):
    return {
        role: make_actor(tenant_a, email=f"money-{role}@alpha.test", role=role)
        for role in ("owner", "manager", "front_desk", "coach")
    }


@pytest.fixture
def rivera(in_tenant_a):
    guardian = GuardianFactory(
        email="dana@rivera.test", first_name="Dana", last_name="Rivera", phone="555-201-7788"
    )
    StudentFactory(family=guardian.family, first_name="Mia", last_name="Rivera")
    connection.set_schema_to_public()
    return guardian.family


def in_a(tenant_a):
    connection.set_tenant(tenant_a)


def test_front_desk_finds_a_family_and_takes_cash(staff, rivera, tenant_a):
    desk = staff["front_desk"].client()
    found = desk.get(f"{API}/families", {"q": "mia"})
    assert found.status_code == 200, found.content
    (family,) = found.json()
    assert (family["id"], family["name"], family["balance"]) == (rivera.pk, rivera.name, "0.00")
    charge = desk.post(
        f"{API}/families/{rivera.pk}/charges",
        {"amount": "45.00", "description": "Leotard"},
        format="json",
    )
    assert charge.status_code == 201, charge.content
    assert (charge.json()["amount"], charge.json()["balance"]) == ("45.00", "45.00")
    paid = desk.post(
        f"{API}/families/{rivera.pk}/payments",
        {"amount": "12.50", "method": "cash", "note": "at the desk", "idempotency_key": "k-1"},
        format="json",
    )
    assert paid.status_code == 201, paid.content
    body = paid.json()
    assert (body["kind"], body["method"], body["amount"], body["balance"]) == (
        "payment",
        "cash",
        "12.50",
        "32.50",
    )
    assert body["posted_by"] == "money-front_desk@alpha.test"
    again = desk.post(
        f"{API}/families/{rivera.pk}/payments",
        {"amount": "12.50", "method": "cash", "idempotency_key": "k-1"},
        format="json",
    )
    assert again.json()["id"] == body["id"]  # a retried request posts once
    in_a(tenant_a)
    assert list(LedgerEntry.objects.values_list("amount", flat=True).order_by("pk")) == [
        4500,
        -1250,
    ]
    connection.set_schema_to_public()
    detail = desk.get(f"{API}/families/{rivera.pk}").json()
    assert detail["ledger"]["balance"] == "32.50"
    assert [e["amount"] for e in detail["ledger"]["entries"]] == ["45.00", "-12.50"]
    assert [e["has_receipt"] for e in detail["ledger"]["entries"]] == [False, True]
    assert detail["guardians"][0]["email"] == "dana@rivera.test"
    assert "medical_notes" not in str(detail["students"])


@pytest.mark.parametrize(
    "path, body, code, field",
    [
        ("charges", {"amount": "12,50", "description": "x"}, "invalid_amount", "amount"),
        ("charges", {"amount": "-3", "description": "x"}, "invalid_amount", "amount"),
        ("charges", {"amount": "0", "description": "x"}, "invalid_amount", "amount"),
        ("charges", {"amount": "1.005", "description": "x"}, "invalid_amount", "amount"),
        ("charges", {"amount": "9999999999", "description": "x"}, "invalid_amount", "amount"),
        ("charges", {"amount": ["1"], "description": "x"}, "invalid_input", "amount"),
        ("charges", {"amount": "1.00"}, "invalid_input", "description"),
        ("payments", {"amount": "5.00", "method": "gold"}, "invalid_input", "method"),
        ("payments", {"amount": "5.00"}, "invalid_input", "method"),
        ("credits", {"amount": True}, "invalid_input", "amount"),
        # A NUL anywhere in the body is refused by the API's parser before the view.
        ("charges", {"amount": "1.00", "description": "a\x00b"}, "malformed_request", ""),
    ],
)
def test_bad_amounts_and_fields_change_nothing(staff, rivera, tenant_a, path, body, code, field):
    response = (
        staff["owner"].client().post(f"{API}/families/{rivera.pk}/{path}", body, format="json")
    )
    error = assert_error(response, 400, code)
    assert field in error["fields"] or code == "malformed_request", error
    in_a(tenant_a)
    assert LedgerEntry.objects.count() == 0 and StaffPosting.objects.count() == 0


def test_roles_that_may_not_are_refused_and_nothing_changes(staff, rivera, tenant_a):
    desk, coach = staff["front_desk"].client(), staff["coach"].client()
    refused = [
        (desk, "post", f"{API}/families/{rivera.pk}/credits", {"amount": "5.00"}),
        (desk, "post", f"{API}/families/{rivera.pk}/payments/1/refund", {}),
        (desk, "get", f"{API}/reports/revenue", None),
        (desk, "get", f"{API}/payouts", None),
        (coach, "get", f"{API}/families", {"q": "rivera"}),
        (coach, "get", f"{API}/families/{rivera.pk}", None),
        (coach, "get", f"{API}/receivables", None),
        (coach, "post", f"{API}/families/{rivera.pk}/payments", {"amount": "5", "method": "cash"}),
    ]
    for client, method, path, data in refused:
        if method == "get":
            response = client.get(path, data or {})
        else:
            response = client.post(path, data, format="json")
        body = assert_error(response, 403, "staff_permission_required")
        assert body["fields"]["permission"][0].startswith("portal_staff."), path
    in_a(tenant_a)
    assert LedgerEntry.objects.count() == 0


def test_another_businesss_staff_find_nothing(staff, rivera, tenant_b):
    other = make_actor(tenant_b, email="money-owner@beta.test", role="owner").client()
    assert other.get(f"{API}/families", {"q": "rivera"}).json() == []
    assert_error(other.get(f"{API}/families/{rivera.pk}"), 404, "family_not_found")
    response = other.post(
        f"{API}/families/{rivera.pk}/charges",
        {"amount": "5.00", "description": "x"},
        format="json",
    )
    assert_error(response, 404, "family_not_found")
    # A's owner's token means nothing on B's host.
    assert staff["owner"].client(tenant_b).get(f"{API}/receivables").status_code == 401


@pytest.fixture
def paid(rivera, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(stripe_account_id="acct_alpha")
    tenant_a.stripe_account_id = "acct_alpha"
    in_a(tenant_a)
    order = Order.objects.create(
        family=rivera, currency="USD", subtotal=12000, total=12000, idempotency_key="o1",
        status="confirmed",
    )  # fmt: skip
    payment = Payment.objects.create(
        family=rivera, order=order, amount=12000, currency="USD", status="succeeded",
        stripe_payment_intent_id="pi_paid", succeeded_at=timezone.now(),
    )  # fmt: skip
    connection.set_schema_to_public()
    return payment


@responses.activate
@override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0)
def test_an_owner_refunds_part_and_never_more_than_is_left(staff, rivera, paid, tenant_a):
    owner = staff["owner"].client()
    url = f"{API}/families/{rivera.pk}/payments/{paid.pk}/refund"
    too_much = owner.post(url, {"amount": "120.01"}, format="json")
    assert_error(
        too_much, 400, "refund_too_large", "At most 120.00 USD can be refunded on this payment."
    )
    assert len(responses.calls) == 0
    responses.post(f"{STRIPE}/v1/refunds", json={"id": "re_1", "object": "refund"})
    part = owner.post(url, {"amount": "20.00", "reason": "Missed a week"}, format="json")
    assert part.status_code == 200, part.content
    assert (part.json()["amount_refunded"], part.json()["refundable"]) == ("20.00", "100.00")
    assert "amount=2000" in responses.calls[0].request.body
    assert_error(owner.post(url, {"amount": "100.01"}, format="json"), 400, "refund_too_large")
    assert_error(owner.post(url, {"amount": "ten"}, format="json"), 400, "invalid_amount")
    in_a(tenant_a)
    assert Refund.objects.count() == 1
    assert LedgerEntry.objects.get(kind="refund").amount == 2000
    connection.set_schema_to_public()
    detail = owner.get(f"{API}/families/{rivera.pk}").json()
    assert detail["payments"][0]["refundable"] == "100.00"


def test_receipts_and_invites_are_resent(
    staff, rivera, tenant_a, django_capture_on_commit_callbacks
):
    desk = staff["front_desk"].client()
    paid = desk.post(
        f"{API}/families/{rivera.pk}/payments",
        {"amount": "30.00", "method": "cheque", "reference": "#77"},
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(f"{API}/families/{rivera.pk}/ledger/{paid['ledger_entry_id']}/receipt")
    assert response.status_code == 202 and response.json() == {"sent": True}
    assert "Amount: 30.00 USD" in mail.outbox[-1].body
    in_a(tenant_a)
    guardian = rivera.guardians.get()
    connection.set_schema_to_public()
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(f"{API}/families/{rivera.pk}/guardians/{guardian.pk}/invite")
    assert response.status_code == 202
    assert "/account/set-password/" in mail.outbox[-1].body
    assert_error(
        desk.post(f"{API}/families/{rivera.pk}/guardians/{guardian.pk + 999}/invite"),
        404,
        "guardian_not_found",
    )


def test_receivables_reports_and_csv(staff, rivera, tenant_a):
    owner = staff["owner"].client()
    owner.post(
        f"{API}/families/{rivera.pk}/charges",
        {"amount": "80.00", "description": "Tuition"},
        format="json",
    )
    aged = owner.get(f"{API}/receivables").json()
    (row,) = aged["families"]
    assert (row["family_id"], row["total"], row["current"]) == (rivera.pk, "80.00", "80.00")
    assert aged["totals"]["total"] == "80.00" and aged["currency"] == "USD"
    assert owner.get(f"{API}/reports").json() == [
        "enrollment", "fill-rate", "revenue", "waitlist", "drops", "attendance"
    ]  # fmt: skip
    month = tenant_today()
    revenue = owner.get(f"{API}/reports/revenue").json()
    assert revenue["columns"][1] == {"key": "charges", "label": "Charged", "kind": "money"}
    assert revenue["rows"][-1]["charges"] == "80.00"
    assert revenue["rows"][-1]["month"] == f"{month:%Y-%m}"
    download = owner.get(f"{API}/reports/revenue/csv")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="revenue.csv"'
    lines = list(csv.reader(io.StringIO(download.content.decode())))
    assert lines[0][:2] == ["Month", "Charged"] and lines[-1][1] == "80.00"
    assert_error(owner.get(f"{API}/reports/retention"), 404, "report_not_found")
    assert_error(owner.get(f"{API}/reports/revenue", {"from": "2026-13"}), 400, "invalid_filter")
    assert_error(owner.get(f"{API}/families", {"q": "x"}), 400, "invalid_search")
    assert_error(owner.get(f"{API}/autopay/charges", {"period": "May"}), 400, "invalid_filter")
    assert owner.get(f"{API}/autopay/runs").json() == []


PAYOUTS = {
    "object": "list",
    "has_more": False,
    "data": [{"id": "po_1", "object": "payout", "amount": 48210, "arrival_date": 1780531200,
              "created": 1780358400, "currency": "usd", "method": "standard", "status": "paid"}],
}  # fmt: skip


@responses.activate
@override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0)
def test_payouts_for_the_owner(staff, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(stripe_account_id="acct_alpha")
    responses.get(f"{STRIPE}/v1/payouts", json=PAYOUTS)
    response = staff["manager"].client().get(f"{API}/payouts", {"refresh": "1", "limit": "5"})
    assert response.status_code == 200, response.content
    (payout,) = response.json()["payouts"]
    assert (payout["amount"], payout["currency"], payout["arrival_date"]) == (
        "482.10",
        "USD",
        "2026-06-03",
    )
    assert responses.calls[0].request.headers["Stripe-Account"] == "acct_alpha"
    bad = staff["owner"].client().get(f"{API}/payouts", {"limit": "5000"})
    assert_error(bad, 400, "invalid_filter")
