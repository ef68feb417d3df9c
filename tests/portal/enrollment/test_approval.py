"""Staff decide enrollments pending approval ("staff approve" registration mode): approving
takes a seat (or keeps the one pending requests hold), denying frees it and gives back what
was paid as credit or a card refund; the family is told; stale decisions change nothing."""

from __future__ import annotations

import pytest
import responses
from django.core import mail
from django.db import connection
from django.db.models import Sum
from django.test import override_settings

from kernel.errors import ApplicationError
from portal.billing.models import LedgerEntry, Payment, Refund
from portal.config.services import portal_settings_update
from portal.enrollment import services
from portal.enrollment.models import Enrollment
from portal.privacy.models import AuditEntry
from tenants.models import Tenant
from tests.helpers import assert_cross_tenant_denied, assert_error, make_actor
from tests.portal.enrollment_helpers import enroll, make_family, make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"
STRIPE = "https://api.stripe.com"


@pytest.fixture
def pending(in_tenant_a, django_capture_on_commit_callbacks):
    """A paid enrollment waiting for approval in a class of capacity 1."""
    offering = make_offering(capacity=1, tuition=10000, registration_mode="request", name="Tots")
    family, kid = make_family("wait@alpha.test", first_name="Ava")
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enroll(family, kid, offering)
    assert enrollment.status == "pending"
    mail.outbox.clear()
    return enrollment


def balance(family_id) -> int:
    return LedgerEntry.objects.filter(family_id=family_id).aggregate(s=Sum("amount"))["s"] or 0


def test_approve_makes_it_active_and_tells_the_family(pending, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.enrollment_approve(enrollment_id=pending.pk, note="Welcome!")
    assert approved.status == "active"
    assert Enrollment.objects.get(pk=pending.pk).status == "active"
    pending.offering.refresh_from_db()
    assert pending.offering.seats_taken == 1
    (email,) = [m for m in mail.outbox if "Tots" in m.subject]
    assert "approved" in email.subject and "Welcome!" in email.body
    assert AuditEntry.objects.filter(action="enrollment_approved", object_id=str(pending.pk))
    # A second decision is refused and changes nothing.
    with pytest.raises(ApplicationError) as error:
        services.enrollment_deny(enrollment_id=pending.pk)
    assert error.value.code == "enrollment_not_pending" and error.value.status == 409
    assert Enrollment.objects.get(pk=pending.pk).status == "active"


def test_approve_refuses_when_the_class_filled_meanwhile(pending):
    portal_settings_update(pending_requests_count_against_openings=False)
    other_family, other_kid = make_family("fast@alpha.test")
    services.recount(
        pending.offering,
        __import__("portal.config.selectors").config.selectors.portal_settings_get(),
    )
    Enrollment.objects.create(
        family=other_family, student=other_kid, offering=pending.offering, status="active",
        start_date=pending.start_date,
    )  # fmt: skip
    with pytest.raises(ApplicationError) as error:
        services.enrollment_approve(enrollment_id=pending.pk)
    assert error.value.code == "offering_full"
    assert Enrollment.objects.get(pk=pending.pk).status == "pending"


def test_deny_credits_what_was_paid_frees_the_seat_and_tells_the_family(
    pending, django_capture_on_commit_callbacks
):
    before = balance(pending.family_id)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.enrollment_deny(enrollment_id=pending.pk, note="Class is for 3-4s")
    assert (result["amount"], result["returned_as"]) == (10000, "credit")
    assert Enrollment.objects.get(pk=pending.pk).status == "denied"
    assert balance(pending.family_id) == before - 10000
    credit = LedgerEntry.objects.get(source_key=f"enrollment:{pending.pk}:denied")
    assert (credit.kind, credit.amount) == ("credit", -10000)
    pending.offering.refresh_from_db()
    assert pending.offering.seats_taken == 0
    (email,) = [m for m in mail.outbox if "Tots" in m.subject]
    assert "denied" in email.subject
    assert "100.00 USD is credited to your account." in email.body
    assert "Class is for 3-4s" in email.body
    # Denying again changes nothing (no second credit).
    with pytest.raises(ApplicationError):
        services.enrollment_deny(enrollment_id=pending.pk)
    assert LedgerEntry.objects.filter(source_key__startswith="enrollment:").count() == 1


STRIPE_ON = override_settings(
    STRIPE_SECRET_KEY="sk_test_platform", STRIPE_API_BASE="", STRIPE_MAX_NETWORK_RETRIES=0
)


@responses.activate
@STRIPE_ON
def test_deny_refunds_the_card_after_the_commit(pending):
    tenant = connection.tenant
    Tenant.objects.filter(pk=tenant.pk).update(stripe_account_id="acct_alpha")
    tenant.stripe_account_id = "acct_alpha"
    payment = Payment.objects.create(
        family=pending.family, order=pending.order, amount=10000, currency="USD",
        status="succeeded", stripe_payment_intent_id="pi_deny",
    )  # fmt: skip
    responses.post(f"{STRIPE}/v1/refunds", json={"id": "re_9", "object": "refund", "amount": 10000})
    result = services.enrollment_deny(enrollment_id=pending.pk, settle_as="refund")
    assert result["returned_as"] == "refund"
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.status) == (10000, "succeeded")
    assert responses.calls[-1].request.headers["Idempotency-Key"] == f"alpha:refund:{payment.pk}:1"
    assert not LedgerEntry.objects.filter(source_key=f"enrollment:{pending.pk}:denied").exists()


def test_a_refund_without_payments_configured_is_refused_before_anything_changes(pending):
    with pytest.raises(ApplicationError) as error:
        services.enrollment_deny(enrollment_id=pending.pk, settle_as="refund")
    assert error.value.code == "payments_not_configured"
    assert Enrollment.objects.get(pk=pending.pk).status == "pending"
    assert not LedgerEntry.objects.filter(source_key__startswith="enrollment:").exists()


def test_bad_input_changes_nothing(pending):
    with pytest.raises(ApplicationError) as error:
        services.enrollment_deny(enrollment_id=pending.pk, settle_as="cash")
    assert error.value.code == "invalid_input"
    with pytest.raises(ApplicationError) as error:
        services.enrollment_approve(enrollment_id=999999)
    assert error.value.code == "enrollment_not_found" and error.value.status == 404
    assert Enrollment.objects.get(pk=pending.pk).status == "pending"


# -- the staff API ------------------------------------------------------------------------


def test_staff_api_lists_approves_and_denies(pending, in_tenant_a):
    desk = make_actor(in_tenant_a, email="desk@alpha.test", role="front_desk")
    listing = desk.client().get(f"{API}/staff/enrollments/pending").json()
    assert listing["count"] == 1
    row = listing["results"][0]
    assert row["id"] == pending.pk and row["paid"] == 10000
    assert row["student"]["name"].startswith("Ava")
    bad = desk.client().post(
        f"{API}/staff/enrollments/{pending.pk}/deny", {"settle_as": "cash"}, format="json"
    )
    assert_error(bad, 400, "invalid_input")
    connection.set_tenant(in_tenant_a)
    assert Enrollment.objects.get(pk=pending.pk).status == "pending"
    ok = desk.client().post(f"{API}/staff/enrollments/{pending.pk}/approve", {}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"id": pending.pk, "status": "active", "returned": 0,
                         "returned_as": "none"}  # fmt: skip
    again = desk.client().post(f"{API}/staff/enrollments/{pending.pk}/deny", {}, format="json")
    assert_error(again, 409, "enrollment_not_pending")
    missing = desk.client().post(f"{API}/staff/enrollments/999999/approve", {}, format="json")
    assert_error(missing, 404, "enrollment_not_found")


def test_staff_api_refuses_coaches_families_and_other_businesses(pending, in_tenant_a, tenant_b):
    coach = make_actor(in_tenant_a, email="coach@alpha.test", role="coach")
    path = f"{API}/staff/enrollments/{pending.pk}/approve"
    assert_error(coach.client().post(path, {}, format="json"), 403, "staff_permission_required")
    other = make_actor(tenant_b, email="owner2@beta.test", role="owner")
    assert_cross_tenant_denied(
        credentials_client=other.client(), target=in_tenant_a, method="post", path=path, data={}
    )
    connection.set_tenant(in_tenant_a)
    assert Enrollment.objects.get(pk=pending.pk).status == "pending"
