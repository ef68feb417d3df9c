"""The console's requests pages and failed payments: the list and its filters, one request's
page, approve and deny (the reason required, kept when refused), stale and bad decisions shown
again with nothing changed, roles and another business; the failed card payments the
dashboard counts, with what became of each and a retry where autopay can charge again; and no
console page or template links to the Django admin."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.activity.models import ActivityItem
from portal.billing.models import AutopayCharge, Payment
from portal.enrollment.models import Order
from portal.requests.models import Request
from portal.staff.services import staff_role_set
from tests.factories import PASSWORD, GuardianFactory
from tests.helpers import api_routes, host_of
from tests.portal.request_helpers import pending_requests

pytestmark = pytest.mark.django_db


def signed_in(tenant, email: str, role: str) -> Client:
    with tenant_context(tenant):
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
        staff_role_set(user=user, role=role)
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def text(response) -> str:
    return response.content.decode()


def statuses() -> list[tuple]:
    return sorted(Request.objects.values_list("pk", "status", "staff_note"))


def test_the_list_filters_and_opens_each_request(in_tenant_a):
    asks = pending_requests()
    owner = signed_in(in_tenant_a, "req-owner@alpha.test", "owner")
    page = text(owner.get("/console/requests/"))
    for req in (asks.absence, asks.drop, asks.transfer):
        assert f'href="/console/requests/{req.pk}/"' in page
    assert "Grandma&#x27;s birthday" in page and "Moving away" in page
    assert "Rec Gym Mon → Rec Gym Thu" in page
    assert "The family owes" in page and "USD more" in page  # the transfer's difference
    drops = text(owner.get("/console/requests/?type=drop"))
    assert f"/console/requests/{asks.drop.pk}/" in drops
    assert f"/console/requests/{asks.absence.pk}/" not in drops
    by_class = text(owner.get(f"/console/requests/?offering={asks.target.pk}&status=all"))
    assert f"/console/requests/{asks.transfer.pk}/" in by_class
    assert f"/console/requests/{asks.drop.pk}/" not in by_class
    assert "No request matches." in text(owner.get("/console/requests/?status=denied"))
    for query, message in (
        ("status=maybe", "Use one of: pending, approved, denied, cancelled, all."),
        ("since=2026-02-30", "Give a date as YYYY-MM-DD."),
        ("offering=x", "Pick a class from the list."),
    ):
        bad = owner.get(f"/console/requests/?{query}")
        assert bad.status_code == 400 and message in text(bad), query
    detail = text(owner.get(f"/console/requests/{asks.transfer.pk}/"))
    assert "Transfer request for Mia" in detail and "Better day" in detail
    assert "Move to" in detail and "Rec Gym Thu" in detail
    assert f'action="/console/requests/{asks.transfer.pk}/decide"' in detail
    missing = owner.get("/console/requests/999999/")
    assert missing.status_code == 404 and "We could not find that request." in text(missing)


def test_the_front_desk_approves_and_denies_with_a_reason(
    in_tenant_a, django_capture_on_commit_callbacks
):
    asks = pending_requests()
    desk = signed_in(in_tenant_a, "req-desk@alpha.test", "front_desk")
    url = f"/console/requests/{asks.drop.pk}/decide"
    before = statuses()
    no_reason = desk.post(url, {"decision": "deny", "note": "  "})
    assert no_reason.status_code == 400
    assert "Give the family the reason for the denial." in text(no_reason)
    assert 'aria-invalid="true"' in text(no_reason)
    bad = desk.post(url, {"decision": "maybe", "note": "Typed before"})
    assert bad.status_code == 400 and "Choose approve or deny." in text(bad)
    assert "Typed before" in text(bad)  # what was typed is kept
    assert statuses() == before
    with django_capture_on_commit_callbacks(execute=True):
        done = desk.post(url, {"decision": "deny", "note": "Fees are due for the term."})
    assert done.status_code == 302 and done["Location"] == f"/console/requests/{asks.drop.pk}/"
    drop = Request.objects.get(pk=asks.drop.pk)
    assert (drop.status, drop.staff_note, drop.decided_by.email) == (
        "denied",
        "Fees are due for the term.",
        "req-desk@alpha.test",
    )
    assert any("Fees are due for the term." in m.body for m in mail.outbox)
    after = text(desk.get(done["Location"]))
    assert "Request denied; the family is told why." in after
    assert "by req-desk@alpha.test" in after and "/decide" not in after
    approved = desk.post(f"/console/requests/{asks.absence.pk}/decide", {"decision": "approve"})
    assert approved.status_code == 302
    assert Request.objects.get(pk=asks.absence.pk).issued_token is not None
    assert "Request approved; the family is told." in text(desk.get(approved["Location"]))
    # The decisions are in the inbox, processed by the desk.
    decided = ActivityItem.objects.filter(summary__in=["Mia: drop denied", "Mia: absence approved"])
    assert {item.processed_by.email for item in decided} == {"req-desk@alpha.test"}


def test_a_stale_page_is_refused_and_shows_what_happened(in_tenant_a):
    asks = pending_requests()
    manager = signed_in(in_tenant_a, "req-manager@alpha.test", "manager")
    desk = signed_in(in_tenant_a, "req-desk2@alpha.test", "front_desk")
    # Both opened the page; the desk approves first, then the manager's deny arrives.
    assert "/decide" in text(manager.get(f"/console/requests/{asks.absence.pk}/"))
    desk.post(f"/console/requests/{asks.absence.pk}/decide", {"decision": "approve"})
    before = statuses()
    stale = manager.post(
        f"/console/requests/{asks.absence.pk}/decide", {"decision": "deny", "note": "Too late"}
    )
    assert stale.status_code == 409
    assert "This request was already approved by req-desk2@alpha.test" in text(stale)
    assert statuses() == before
    missing = manager.post("/console/requests/999999/decide", {"decision": "approve"})
    assert missing.status_code == 404 and "We could not find that request." in text(missing)


def test_roles_and_another_business(in_tenant_a, tenant_b):
    asks = pending_requests()
    coach = signed_in(in_tenant_a, "req-coach@alpha.test", "coach")
    for response in (
        coach.get("/console/requests/"),
        coach.get(f"/console/requests/{asks.drop.pk}/"),
        coach.post(f"/console/requests/{asks.drop.pk}/decide", {"decision": "approve"}),
        coach.get("/console/payments/failed/"),
    ):
        assert response.status_code == 403 and "Not for your role" in text(response)
    assert ">Requests<" not in text(coach.get("/console/"))
    desk = signed_in(in_tenant_a, "req-desk3@alpha.test", "front_desk")
    assert 'href="/console/requests/"' in text(desk.get("/console/"))
    anonymous = Client(HTTP_HOST=host_of(in_tenant_a)).get("/console/requests/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/console/login/")
    # Another business's owner sees none of ours and decides nothing here.
    other = signed_in(tenant_b, "req-other@beta.test", "owner")
    connection.set_tenant(tenant_b)
    assert "Mia" not in text(other.get("/console/requests/?status=all"))
    assert other.get(f"/console/requests/{asks.drop.pk}/").status_code == 404
    assert (
        other.post(
            f"/console/requests/{asks.drop.pk}/decide", {"decision": "deny", "note": "x"}
        ).status_code
        == 404
    )
    # Our owner's session means nothing on B's host.
    owner = signed_in(in_tenant_a, "req-owner2@alpha.test", "owner")
    owner.defaults["HTTP_HOST"] = host_of(tenant_b)
    assert owner.get("/console/requests/").status_code == 302
    connection.set_tenant(in_tenant_a)
    assert Request.objects.get(pk=asks.drop.pk).status == "pending"


def _failed_payment(
    family,
    key: str,
    *,
    reason: str,
    order_status: str = "awaiting_payment",
    off_session: bool = False,
    days_ago: int = 1,
    kind: str = "registration",
):
    order = Order.objects.create(family=family, currency="USD", subtotal=4500, total=4500,
                                 idempotency_key=key, status=order_status, kind=kind)  # fmt: skip
    order.lines.create(kind="tuition", description=f"Tuition {key}", amount=4500)
    payment = Payment.objects.create(
        family=family, order=order, amount=4500, currency="USD", status="failed",
        failure_code="card_declined", failure_message=reason, off_session=off_session,
        created_at=timezone.now() - timedelta(days=days_ago), idempotency_key=key,
    )  # fmt: skip
    return order, payment


def test_failed_payments_say_what_became_of_each_and_retry_autopay(in_tenant_a):
    family = GuardianFactory(email="fails@alpha.test").family
    family.name = "The Okafor family"
    family.save()
    _failed_payment(family, "checkout", reason="Your card has insufficient funds.")
    paid, _ = _failed_payment(family, "paid", reason="Do not honor.", order_status="confirmed")
    Payment.objects.create(family=family, order=paid, amount=4500, currency="USD",
                           status="succeeded", attempt=2)  # fmt: skip
    _failed_payment(family, "lapsed", reason="Expired card.", order_status="expired")
    auto, _ = _failed_payment(family, "auto", reason="Your card was declined.",
                              off_session=True, kind="tuition")  # fmt: skip
    charge = AutopayCharge.objects.create(
        family=family, period=date(2026, 5, 1), amount=4500, currency="USD", order=auto,
        status="failed", attempts=1, last_error="Your card was declined.",
    )  # fmt: skip
    _failed_payment(family, "old", reason="Ancient history.", days_ago=40)
    owner = signed_in(in_tenant_a, "fail-owner@alpha.test", "owner")
    dashboard = text(owner.get("/console/"))
    tile = re.search(r'href="/console/payments/failed/"><span class="c-tile__n">(\d+)', dashboard)
    assert tile and tile.group(1) == "4"  # the same 30 days as the list
    page = text(owner.get("/console/payments/failed/"))
    assert page.count("45.00 USD") == 4 and "Ancient history." not in page
    assert "The Okafor family" in page and "Tuition checkout" in page
    assert "Still owed: the family pays it from their account." in page
    assert "Paid since." in page and "The order lapsed; nothing is owed for it." in page
    assert f'action="/console/autopay/{charge.pk}/retry"' in page
    assert page.count("Charge the card now") == 1  # only where autopay can charge again
    assert "Ancient history." in text(owner.get("/console/payments/failed/?days=90"))
    bad = owner.get("/console/payments/failed/?days=12")
    assert bad.status_code == 400 and "Use one of: 7, 30, 90, 365." not in text(bad)
    assert "Show the last 7, 30, 90, 365 days." in text(bad)
    # The retry comes back to this page (no card on file: the charge waits for the family).
    back = owner.post(f"/console/autopay/{charge.pk}/retry",
                      {"next": "/console/payments/failed/?days=30"})  # fmt: skip
    assert back.status_code == 302 and back["Location"] == "/console/payments/failed/?days=30"
    charge.refresh_from_db()
    assert charge.attempts == 2 and charge.status == "needs_action"
    elsewhere = owner.post(f"/console/autopay/{charge.pk}/retry", {"next": "https://evil.test/"})
    assert elsewhere["Location"] == "/console/autopay/"
    desk = signed_in(in_tenant_a, "fail-desk@alpha.test", "front_desk")
    assert "Charge the card now" in text(desk.get("/console/payments/failed/"))


def test_no_console_page_or_template_links_to_the_admin(in_tenant_a):
    """The console is where staff work: the Django admin stays for platform operators."""
    root = Path(settings.BASE_DIR) / "portal_console"
    offenders = [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*"))
        if path.suffix in (".html", ".py", ".js") and "/admin/" in path.read_text()
    ]
    assert offenders == []
    asks = pending_requests()
    owner = signed_in(in_tenant_a, "walk-owner@alpha.test", "owner")
    ids = {"request_id": asks.drop.pk, "family_id": asks.family.pk,
           "offering_id": asks.enrollment.offering_id, "name": "revenue",
           "day": asks.enrollment.offering.meetings()[0].isoformat()}  # fmt: skip
    walked = 0
    for path, view in api_routes("saas_platform.urls_tenant", "/console/").items():
        if "GET" not in getattr(view, "console_methods", ()) or path.endswith("csv"):
            continue
        if any(name not in ids for name in re.findall(r"\{(\w+)\}", path)):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        response = owner.get(url)
        assert response.status_code < 500, url
        body = text(response)
        assert not re.search(r"""(href|action|src)=["'][^"']*/admin/""", body), url
        walked += 1
    assert walked >= 25
