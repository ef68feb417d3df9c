"""The staff API's requests and failed payments: list with the console's filters, one request,
approve and deny through request_decide (a reason to deny, stale 409 saying by whom, nothing
changed on a refusal), the roles and another business; failed card payments with what became
of each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.billing.models import Payment
from portal.enrollment.models import Order
from portal.requests.models import Request
from tests.factories import GuardianFactory
from tests.helpers import assert_error, client_for, make_actor
from tests.portal.request_helpers import pending_requests

pytestmark = pytest.mark.django_db
API = "/api/v1/staff"


@pytest.fixture
def asks(in_tenant_a):
    return pending_requests()


def actor(tenant, role: str):
    made = make_actor(tenant, email=f"api-{role}@{tenant.schema_name}.test", role=role)
    connection.set_tenant(tenant)
    return made


def statuses() -> list[tuple]:
    return sorted(Request.objects.values_list("pk", "status", "staff_note"))


def test_list_and_get_with_the_consoles_filters(in_tenant_a, asks):
    desk = actor(in_tenant_a, "front_desk").client()
    everything = desk.get(f"{API}/requests").json()
    assert everything["count"] == 3  # every status by default, as before
    pending = desk.get(f"{API}/requests?status=pending").json()["results"]
    assert [r["id"] for r in pending] == [asks.absence.pk, asks.drop.pk, asks.transfer.pk]
    (transfer,) = desk.get(f"{API}/requests?type=transfer").json()["results"]
    assert transfer["family"] == {"id": asks.family.pk, "name": asks.family.name}
    assert transfer["offering"]["name"] == "Rec Gym Mon"
    assert transfer["target_offering"]["name"] == "Rec Gym Thu"
    assert transfer["currency"] == "USD" and transfer["decided_by"] is None
    assert transfer["price_difference_amount"] == (
        f"{transfer['price_difference'] // 100}.{transfer['price_difference'] % 100:02d}"
    )
    by_class = desk.get(f"{API}/requests?offering={asks.target.pk}").json()["results"]
    assert [r["id"] for r in by_class] == [asks.transfer.pk]
    today = timezone.localdate().isoformat()
    assert desk.get(f"{API}/requests?since={today}&until={today}").json()["count"] == 3
    for query, field in (
        ("status=maybe", "status"),
        ("type=refund", "type"),
        ("offering=abc", "offering"),
        ("since=yesterday", "since"),
        ("since=2026-05-02&until=2026-05-01", "until"),
    ):
        body = assert_error(desk.get(f"{API}/requests?{query}"), 400, "invalid_filter")
        assert list(body["fields"]) == [field], query
    one = desk.get(f"{API}/requests/{asks.drop.pk}").json()
    assert (one["type"], one["reason"], one["status"]) == ("drop", "Moving away", "pending")
    assert_error(desk.get(f"{API}/requests/999999"), 404, "request_not_found")


def test_decide_approve_deny_stale_and_bad_input(in_tenant_a, asks):
    desk = actor(in_tenant_a, "front_desk")
    manager = actor(in_tenant_a, "manager").client()
    url = f"{API}/requests/{asks.drop.pk}/decide"
    before = statuses()
    body = assert_error(
        desk.client().post(url, {"decision": "deny"}, format="json"), 400, "deny_reason_required"
    )
    assert body["fields"] == {"note": ["Give the family the reason for the denial."]}
    assert_error(desk.client().post(url, {"decision": "maybe"}, format="json"), 400,
                 "invalid_input")  # fmt: skip
    assert_error(desk.client().post(url, {"decision": "approve", "note": "x" * 2001},
                                    format="json"), 400, "invalid_input")  # fmt: skip
    assert_error(desk.client().post(url, {}, format="json"), 400, "invalid_input")
    assert statuses() == before
    denied = desk.client().post(url, {"decision": "deny", "note": "Term is paid."}, format="json")
    assert denied.status_code == 200, denied.content
    assert denied.json()["status"] == "denied"
    assert denied.json()["decided_by"] == desk.user.email
    before = statuses()
    stale = assert_error(manager.post(url, {"decision": "approve"}, format="json"), 409,
                         "request_not_pending")  # fmt: skip
    assert stale["message"].startswith(f"This request was already denied by {desk.user.email}")
    assert statuses() == before
    approved = manager.post(f"{API}/requests/{asks.absence.pk}/decide", {"decision": "approve"},
                            format="json").json()  # fmt: skip
    assert approved["status"] == "approved" and approved["makeup_token_issued"] is not None
    assert_error(manager.post(f"{API}/requests/999999/decide", {"decision": "approve"},
                              format="json"), 404, "request_not_found")  # fmt: skip


def test_coaches_families_and_another_business_are_refused(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        asks = pending_requests()
    coach = actor(tenant_a, "coach").client()
    for response in (
        coach.get(f"{API}/requests"),
        coach.get(f"{API}/requests/{asks.drop.pk}"),
        coach.post(f"{API}/requests/{asks.drop.pk}/decide", {"decision": "approve"},
                   format="json"),
        coach.get(f"{API}/payments/failed"),
    ):  # fmt: skip
        assert_error(response, 403, "staff_permission_required")
    other = actor(tenant_b, "owner")
    assert other.client().get(f"{API}/requests?status=all").json()["count"] == 0
    assert_error(other.client().get(f"{API}/requests/{asks.drop.pk}"), 404, "request_not_found")
    assert_error(
        other.client().post(f"{API}/requests/{asks.drop.pk}/decide",
                            {"decision": "deny", "note": "x"}, format="json"),
        404, "request_not_found",
    )  # fmt: skip
    owner_a = actor(tenant_a, "owner")
    on_b = client_for(tenant_b, token=owner_a.token)
    assert on_b.get(f"{API}/requests").status_code == 401
    connection.set_tenant(tenant_a)
    assert Request.objects.get(pk=asks.drop.pk).status == "pending"


def test_failed_payments(in_tenant_a):
    family = GuardianFactory(email="api-fails@alpha.test").family
    order = Order.objects.create(family=family, currency="USD", subtotal=4550, total=4550,
                                 idempotency_key="api-fail", status="awaiting_payment")  # fmt: skip
    order.lines.create(kind="tuition", description="Tuition, Tumble Tots", amount=4550)
    for days_ago, key in ((2, "recent"), (45, "older")):
        Payment.objects.create(
            family=family, order=order, amount=4550, currency="USD", status="failed",
            failure_code="card_declined", failure_message="Your card was declined.",
            created_at=timezone.now() - timedelta(days=days_ago), idempotency_key=key,
            attempt=days_ago,
        )  # fmt: skip
    desk = actor(in_tenant_a, "front_desk").client()
    (row,) = desk.get(f"{API}/payments/failed").json()
    assert (row["amount"], row["family_id"], row["what"]) == ("45.50", family.pk,
                                                             "Tuition, Tumble Tots")  # fmt: skip
    assert (row["reason"], row["outcome"], row["autopay"]) == (
        "Your card was declined.",
        "family",
        False,
    )
    assert row["autopay_charge_id"] is None
    assert len(desk.get(f"{API}/payments/failed?days=90").json()) == 2
    assert_error(desk.get(f"{API}/payments/failed?days=3"), 400, "invalid_filter")
