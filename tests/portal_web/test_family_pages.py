"""Requests, billing, store and staff pages: the same services and rules as the API, forms that
re-render with the API's field errors, and nothing of one family or business on another's."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test import Client
from django.utils import timezone

from portal.billing.models import LedgerEntry, SavedPaymentMethod
from portal.catalog.models import AvailabilitySlot
from portal.config.services import portal_settings_update
from portal.requests.models import MakeupToken, Request
from portal.store.models import GiftCertificate, PunchPass, PunchPassProduct
from tests.factories import ProgramFactory, StaffFactory
from tests.helpers import tenant_today
from tests.portal.enrollment_helpers import enroll, make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db


def web(actor) -> Client:
    client = Client(HTTP_HOST=actor.tenant.primary_host)
    connection.set_tenant(actor.tenant)
    client.force_login(actor.guardian.user)
    return client


@pytest.fixture
def enrolled(family_a):
    program = ProgramFactory(name="Gymnastics")
    offering = make_offering(
        name="Rec Gym", program=program, capacity=5, start_date=next_weekday(0, 1)
    )
    enrollment = enroll(family_a.family, family_a.student, offering)
    return family_a, enrollment


# --- requests --------------------------------------------------------------------------------


def test_pages_need_a_signed_in_family(tenant_a):
    client = Client(HTTP_HOST=tenant_a.primary_host)
    for path in ("/requests/", "/billing/", "/requests/absence/1/", "/billing/statement/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_requests_page_lists_enrollments_and_reports_an_absence(enrolled):
    actor, enrollment = enrolled
    client = web(actor)
    page = client.get("/requests/")
    assert page.status_code == 200
    assert b"Mia: Rec Gym" in page.content
    assert f"/requests/absence/{enrollment.pk}/".encode() in page.content
    day = enrollment.offering.meetings()[1]
    form = client.get(f"/requests/absence/{enrollment.pk}/")
    assert day.isoformat().encode() in form.content
    response = client.post(f"/requests/absence/{enrollment.pk}/", {"meeting_date": day})
    assert response.status_code == 302 and response["Location"] == "/requests/"
    req = Request.objects.get()
    assert (req.type, req.status, req.meeting_date) == ("absence", "approved", day)
    assert MakeupToken.objects.filter(family=actor.family).count() == 1
    page = client.get("/requests/")
    assert b"Book a makeup" in page.content and b"Approved" in page.content


def test_absence_form_rerenders_with_the_apis_errors(enrolled):
    actor, enrollment = enrolled
    client = web(actor)
    missing = client.post(f"/requests/absence/{enrollment.pk}/", {"meeting_date": ""})
    assert missing.status_code == 400
    assert b"Date has wrong format" in missing.content  # DRF's DateField message, as the API
    assert b'aria-invalid="true"' in missing.content
    wrong_day = enrollment.offering.meetings()[1] + timedelta(days=1)
    response = client.post(f"/requests/absence/{enrollment.pk}/", {"meeting_date": wrong_day})
    assert response.status_code == 400
    assert b"Rec Gym does not meet on" in response.content
    assert not Request.objects.exists()


def test_another_familys_enrollment_is_a_404_page(enrolled):
    actor, _ = enrolled
    other, kid = make_family("other@alpha.test")
    theirs = enroll(other, kid, make_offering(name="Theirs", start_date=next_weekday(1, 1)))
    response = web(actor).get(f"/requests/absence/{theirs.pk}/")
    assert response.status_code == 404
    assert b"We could not find that enrollment." in response.content
    assert b"Theirs" not in response.content


def test_transfer_preview_and_request(enrolled):
    actor, enrollment = enrolled
    target = make_offering(
        name="Rec Gym Plus", tuition=20000, capacity=5, start_date=next_weekday(2, 1)
    )
    client = web(actor)
    page = client.get(f"/requests/transfer/{enrollment.pk}/?offering={target.pk}")
    assert page.status_code == 200
    assert b"Price preview" in page.content and b"$" in page.content
    same = client.get(f"/requests/transfer/{enrollment.pk}/?offering={enrollment.offering_id}")
    assert same.status_code == 400 and b"Pick a different class" in same.content
    bad = client.get(f"/requests/transfer/{enrollment.pk}/?offering=abc")
    assert bad.status_code == 400
    response = client.post(f"/requests/transfer/{enrollment.pk}/", {"offering": target.pk})
    assert response.status_code == 302
    req = Request.objects.get(type="transfer")
    assert req.target_offering == target and req.status == "pending"
    assert req.price_difference is not None
    # Cancel it from the list.
    assert client.post(f"/requests/{req.pk}/cancel/").status_code == 302
    req.refresh_from_db()
    assert req.status == "cancelled"
    again = client.post(f"/requests/{req.pk}/cancel/")
    assert again.status_code == 409 and b"Only a pending request" in again.content


def test_drop_rules_rerender(enrolled):
    today = tenant_today()
    actor, enrollment = enrolled
    client = web(actor)
    too_soon = client.post(
        f"/requests/drop/{enrollment.pk}/", {"effective_date": today, "reason": "Moving"}
    )
    assert too_soon.status_code == 400 and b"at the earliest" in too_soon.content
    no_reason = client.post(
        f"/requests/drop/{enrollment.pk}/", {"effective_date": today + timedelta(days=10)}
    )
    assert no_reason.status_code == 400 and b"Please tell us why" in no_reason.content
    assert not Request.objects.exists()
    ok = client.post(
        f"/requests/drop/{enrollment.pk}/",
        {"effective_date": today + timedelta(days=10), "reason": "Moving"},
    )
    assert ok.status_code == 302
    assert Request.objects.get().type == "drop"


def test_makeup_booking(enrolled):
    today = tenant_today()
    actor, enrollment = enrolled
    token = MakeupToken.objects.create(
        family=actor.family,
        student=actor.student,
        program=enrollment.offering.program,
        kind="class",
        expires_on=today + timedelta(days=60),
    )
    other = make_offering(
        name="Rec Gym Friday",
        program=enrollment.offering.program,
        capacity=5,
        start_date=next_weekday(4, 1),
    )
    client = web(actor)
    page = client.get(f"/requests/makeup/{token.pk}/?offering={other.pk}")
    assert page.status_code == 200 and b"Rec Gym Friday" in page.content
    day = other.meetings()[0]
    response = client.post(
        f"/requests/makeup/{token.pk}/", {"offering": other.pk, "meeting_date": day}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.status == "redeemed"
    used = client.post(f"/requests/makeup/{token.pk}/", {"offering": other.pk, "meeting_date": day})
    assert used.status_code == 409 and b"already been used" in used.content


def test_session_of_one_tenant_means_nothing_on_another(enrolled, tenant_b):
    actor, _ = enrolled
    client = web(actor)
    client.defaults["HTTP_HOST"] = tenant_b.primary_host
    response = client.get("/requests/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/billing/").status_code == 302


# --- billing ---------------------------------------------------------------------------------


def test_billing_page_ledger_statement_and_errors(family_a):
    today = tenant_today()
    LedgerEntry.objects.create(
        family=family_a.family,
        kind="charge",
        description="Tuition: Rec Gym",
        amount=12000,
        currency="USD",
    )
    client = web(family_a)
    page = client.get("/billing/")
    assert page.status_code == 200
    assert b"Tuition: Rec Gym" in page.content and b"$120.00" in page.content
    pdf = client.get("/billing/statement/", {"from": today - timedelta(days=5), "to": today})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    bad = client.get("/billing/statement/", {"from": "yesterday", "to": today})
    assert bad.status_code == 400
    assert "“yesterday” is not a date; use YYYY-MM-DD.".encode() in bad.content
    backwards = client.get("/billing/statement/", {"from": today, "to": today - timedelta(1)})
    assert backwards.status_code == 400 and b"start first" in backwards.content


def test_payment_methods_default_remove_and_add_without_stripe(family_a):
    first = SavedPaymentMethod.objects.create(
        family=family_a.family,
        stripe_payment_method_id="pm_1",
        brand="visa",
        last4="4242",
        is_default=True,
    )
    second = SavedPaymentMethod.objects.create(
        family=family_a.family, stripe_payment_method_id="pm_2", brand="mastercard", last4="4444"
    )
    client = web(family_a)
    page = client.get("/billing/")
    assert b"4242" in page.content and b"4444" in page.content
    assert client.post(f"/billing/payment-methods/{second.pk}/default/").status_code == 302
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.is_default and not first.is_default
    # Without Stripe the card cannot be detached: a clear page, nothing changed.
    response = client.post(f"/billing/payment-methods/{first.pk}/remove/")
    assert response.status_code == 409
    assert b"does not take online payments" in response.content
    first.refresh_from_db()
    assert first.removed_at is None
    add = client.get("/billing/payment-methods/add/")
    assert add.status_code == 409
    missing = client.post("/billing/payment-methods/999999/default/")
    assert missing.status_code == 404 and b"We could not find that card." in missing.content


# --- store -----------------------------------------------------------------------------------


def test_store_off_and_visitor_views(tenant_a):
    client = Client(HTTP_HOST=tenant_a.primary_host)
    page = client.get("/store/")
    assert page.status_code == 200
    assert b"does not sell anything online" in page.content
    response = client.post("/store/gift-certificates/buy/", {"amount": "2500"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_family_buys_a_gift_certificate_and_checks_a_balance(family_a):
    portal_settings_update(gift_certificates_enabled=True)
    client = web(family_a)
    page = client.get("/store/")
    assert b"Buy a gift certificate" in page.content and b"$25.00" in page.content
    bad = client.post(
        "/store/gift-certificates/buy/",
        {"amount": "other", "custom_amount": "1", "recipient_name": "Gran",
         "recipient_email": "gran@example.test"},
    )  # fmt: skip
    assert bad.status_code == 400 and b"Choose one of the offered amounts" in bad.content
    no_email = client.post(
        "/store/gift-certificates/buy/",
        {"amount": "2500", "recipient_name": "Gran", "recipient_email": ""},
    )
    assert no_email.status_code == 400 and b'aria-invalid="true"' in no_email.content
    assert not GiftCertificate.objects.exists()
    response = client.post(
        "/store/gift-certificates/buy/",
        {"amount": "other", "custom_amount": "30.00", "recipient_name": "Gran",
         "recipient_email": "gran@example.test"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"].startswith("/orders/")
    certificate = GiftCertificate.objects.get()
    assert certificate.initial_amount == 3000 and certificate.status == "awaiting_payment"
    active = GiftCertificate.objects.create(
        initial_amount=5000, balance=4000, currency="USD", recipient_name="Us",
        recipient_email="us@example.test", status="active",
    )  # fmt: skip
    found = client.get("/store/gift-certificates/balance/", {"gift_certificate_code": active.code})
    assert found.status_code == 200 and b"Balance: $40.00" in found.content
    wrong = client.get("/store/gift-certificates/balance/", {"gift_certificate_code": "NOPE"})
    assert wrong.status_code == 400 and b"That gift certificate code is not valid." in wrong.content


def test_visitor_purchase_needs_permission_and_payments(tenant_a, in_tenant_a):
    portal_settings_update(gift_certificates_enabled=True, gift_certificates_visitors_may_buy=True)
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=tenant_a.primary_host)
    page = client.get("/store/")
    assert b"Your email" in page.content
    data = {"amount": "2500", "buyer_name": "Vic Visitor", "buyer_email": "vic@example.test",
            "recipient_name": "Gran", "recipient_email": "gran@example.test"}  # fmt: skip
    response = client.post("/store/gift-certificates/buy/", data)
    assert response.status_code == 409 and b"does not take online payments" in response.content
    missing = client.post("/store/gift-certificates/buy/", {**data, "amount": "lots"})
    assert missing.status_code == 400 and b"A valid integer is required." in missing.content
    connection.set_tenant(tenant_a)
    assert not GiftCertificate.objects.exists()
    bad_token = client.get("/store/gift-certificates/status/", {"token": "forged"})
    assert bad_token.status_code == 404 and b"This link is not valid." in bad_token.content


def test_punch_pass_buy_free_and_use_a_visit(family_a):
    portal_settings_update(punch_passes_enabled=True)
    product = PunchPassProduct.objects.create(name="Drop-in", visits=2, price=0, valid_days=30)
    offering = make_offering(name="Open Gym", capacity=5, start_date=next_weekday(3, 1))
    client = web(family_a)
    page = client.get("/store/")
    assert b"Drop-in" in page.content
    response = client.post("/store/punch-passes/buy/", {"product": product.pk})
    assert response.status_code == 302 and response["Location"] == "/store/"
    punch = PunchPass.objects.get()
    assert punch.status == "active"
    missing = client.post("/store/punch-passes/buy/", {"product": 999999})
    assert missing.status_code == 404
    form = client.get(f"/store/punch-passes/{punch.pk}/use/?offering={offering.pk}")
    assert form.status_code == 200 and b"Who is coming?" in form.content
    day = offering.meetings()[0]
    no_student = client.post(
        f"/store/punch-passes/{punch.pk}/use/", {"offering": offering.pk, "meeting_date": day}
    )
    assert (
        no_student.status_code == 400 and b"Choose the student who is coming." in no_student.content
    )
    used = client.post(
        f"/store/punch-passes/{punch.pk}/use/",
        {"offering": offering.pk, "meeting_date": day, "student": family_a.student.pk},
    )
    assert used.status_code == 302
    punch.refresh_from_db()
    assert punch.visits_left == 1


# --- staff -----------------------------------------------------------------------------------


def test_staff_page_follows_visibility(tenant_a, in_tenant_a):
    coach = StaffFactory(display_name="Coach Kim", bio="Former national team gymnast.")
    AvailabilitySlot.objects.create(
        staff=coach,
        weekday=2,
        start_time=timezone.datetime(2026, 1, 1, 15).time(),
        end_time=timezone.datetime(2026, 1, 1, 17).time(),
    )
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=tenant_a.primary_host)
    page = client.get("/staff/")
    assert b"Coach Kim" in page.content and b"national team" in page.content
    assert b"private lessons" not in page.content
    connection.set_tenant(tenant_a)
    portal_settings_update(staff_bios_visible=False, staff_availability_visible=True)
    connection.set_schema_to_public()
    page = Client(HTTP_HOST=tenant_a.primary_host).get("/staff/")
    assert b"national team" not in page.content and b"Wednesday" in page.content


def test_staff_page_shows_only_this_business(tenant_a, tenant_b, in_tenant_a):
    StaffFactory(display_name="Coach Alpha")
    connection.set_schema_to_public()
    page = Client(HTTP_HOST=tenant_b.primary_host).get("/staff/")
    assert page.status_code == 200 and b"Coach Alpha" not in page.content
    assert tenant_a.name.encode() not in page.content


@responses.activate
def test_add_a_card_with_a_setup_intent_then_remove_it(family_a):
    from django.test import override_settings

    from tenants.models import Tenant

    stripe = "https://api.stripe.com"
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    responses.post(f"{stripe}/v1/customers", json={"id": "cus_1", "object": "customer"})
    responses.post(
        f"{stripe}/v1/setup_intents",
        json={"id": "seti_1", "object": "setup_intent", "client_secret": "seti_1_secret_x",
              "status": "requires_payment_method"},
    )  # fmt: skip
    responses.get(
        f"{stripe}/v1/setup_intents/seti_1",
        json={"id": "seti_1", "object": "setup_intent", "status": "succeeded",
              "customer": "cus_1", "payment_method": "pm_1"},
    )  # fmt: skip
    responses.get(
        f"{stripe}/v1/payment_methods/pm_1",
        json={"id": "pm_1", "object": "payment_method", "type": "card",
              "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}},
    )  # fmt: skip
    responses.post(
        f"{stripe}/v1/payment_methods/pm_1/detach", json={"id": "pm_1", "object": "payment_method"}
    )
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform",
        STRIPE_PUBLISHABLE_KEY="pk_test_platform",
        STRIPE_API_BASE="",
        STRIPE_MAX_NETWORK_RETRIES=0,
    ):
        client = web(family_a)
        client.defaults["HTTP_HOST"] = family_a.tenant.primary_host
        page = client.get("/billing/payment-methods/add/")
        assert page.status_code == 200
        assert b'data-client-secret="seti_1_secret_x"' in page.content
        assert b'data-stripe-account="acct_alpha"' in page.content
        nonce = page["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert f'<script nonce="{nonce}">'.encode() in page.content
        # Back from Stripe: the check on read records the card.
        billing_page = client.get("/billing/")
        assert b"4242" in billing_page.content
        card = SavedPaymentMethod.objects.get(family=family_a.family)
        assert card.is_default
        assert client.post(f"/billing/payment-methods/{card.pk}/remove/").status_code == 302
        card.refresh_from_db()
        assert card.removed_at is not None
