"""Privacy: medical notes and emergency contacts only for the family and permitted staff, the
audit log (reads of them, every change to money and enrollments), a family's export and
deletion request, and staff completing the deletion without breaking the ledger."""

from __future__ import annotations

import pytest
import responses
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Sum
from django.test import Client, override_settings
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from kernel.users.models import User
from portal.accounts.models import EmergencyContact, Family, Guardian, Student
from portal.billing.models import LedgerEntry, Payment
from portal.enrollment import services as enrollment
from portal.enrollment.models import Enrollment, Order, OrderLine
from portal.orders import services as orders
from portal.privacy.models import AuditEntry, DeletionRequest
from portal.privacy.services import family_deletion_complete
from tenants.models import Tenant
from tests.factories import PASSWORD, EmergencyContactFactory, GuardianFactory
from tests.helpers import assert_cross_tenant_denied, assert_error, client_for, host_of, make_actor
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"
STRIPE = "https://api.stripe.com"
NOTES = "Severe bee-sting allergy: EpiPen in the front pocket"
CONTACT_PHONE = "555-0142"


@pytest.fixture
def household(family_a):
    """Tenant A's family with a student's medical notes and an emergency contact."""
    connection.set_tenant(family_a.tenant)
    Student.objects.filter(pk=family_a.student.pk).update(medical_notes=NOTES)
    EmergencyContactFactory(family=family_a.family, name="Aunt Rosa", phone=CONTACT_PHONE)
    return family_a


def admin_client(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant), REMOTE_ADDR="198.51.100.7")
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def front_desk(tenant, *, medical: bool) -> User:
    """A staff member (not a superuser) who may view and change families and students."""
    with tenant_context(tenant):
        user = User.objects.create_user(
            email=f"desk-{int(medical)}@alpha.test", password=PASSWORD, is_staff=True
        )
        codenames = ["view_family", "change_family", "view_student", "change_student",
                     "view_emergencycontact", "change_emergencycontact"]  # fmt: skip
        if medical:
            codenames.append("view_medical")
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    connection.set_tenant(tenant)
    return User.objects.get(pk=user.pk)  # fresh permission cache


def reads() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="read_medical"))


# -- medical notes and emergency contacts -----------------------------------------------------


def test_staff_without_the_permission_see_them_redacted_and_nothing_is_audited(household):
    desk = front_desk(household.tenant, medical=False)
    client = admin_client(household.tenant, desk)
    family_page = client.get(f"/admin/portal_accounts/family/{household.family.pk}/change/")
    assert family_page.status_code == 200
    html = family_page.content.decode()
    assert household.guardian.last_name in html  # the page works
    assert NOTES not in html and CONTACT_PHONE not in html and "Aunt Rosa" not in html
    assert "restricted" in html
    student_page = client.get(f"/admin/portal_accounts/student/{household.student.pk}/change/")
    assert student_page.status_code == 200
    assert NOTES not in student_page.content.decode()
    # Saving the student without the field keeps the notes (redacted is not erased).
    form = {
        "family": household.family.pk, "first_name": "Mia", "last_name": "Rivera",
        "date_of_birth": "2016-03-01", "gender": "female", "is_active": "on",
    }  # fmt: skip
    saved = client.post(f"/admin/portal_accounts/student/{household.student.pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert Student.objects.get(pk=household.student.pk).medical_notes == NOTES
    assert reads() == []


def test_permitted_staff_see_them_and_every_view_is_audited(household):
    desk = front_desk(household.tenant, medical=True)
    client = admin_client(household.tenant, desk)
    family_page = client.get(
        f"/admin/portal_accounts/family/{household.family.pk}/change/",
        HTTP_X_REQUEST_ID="audit-test-request-1",
    )
    html = family_page.content.decode()
    assert NOTES in html and CONTACT_PHONE in html
    # One row per child whose notes were shown (who, which student, when), one for the contacts.
    entry, child = reads()
    for row in (entry, child):
        assert row.actor_email == desk.email and row.actor_kind == "staff"
        assert row.family_id == household.family.pk and row.at is not None
        assert row.request_id == "audit-test-request-1" and row.ip_address == "198.51.100.7"
    assert entry.object_type == "portal_accounts.family"
    assert entry.object_id == str(household.family.pk)
    assert entry.fields == {"read": ["emergency_contacts"]}
    assert child.object_type == "portal_accounts.student"
    assert child.object_id == str(household.student.pk)
    assert child.fields == {"read": ["medical_notes"]}
    client.get(f"/admin/portal_accounts/student/{household.student.pk}/change/")
    assert len(reads()) == 3
    assert reads()[0].object_type == "portal_accounts.student"
    # The owner (a superuser of the schema) has the permission implicitly.
    owner = User.objects.create_superuser(email="boss@alpha.test", password=PASSWORD)
    page = admin_client(household.tenant, owner).get(
        f"/admin/portal_accounts/student/{household.student.pk}/change/"
    )
    assert NOTES in page.content.decode() and len(reads()) == 4


def test_the_audit_log_is_read_only_in_the_admin(household, staff_a):
    desk = front_desk(household.tenant, medical=True)
    admin_client(household.tenant, desk).get(
        f"/admin/portal_accounts/family/{household.family.pk}/change/"
    )
    entry = AuditEntry.objects.filter(
        action="read_medical", object_type="portal_accounts.family"
    ).get()
    client = admin_client(household.tenant, staff_a.user)
    listing = client.get("/admin/portal_privacy/auditentry/")
    assert listing.status_code == 200 and desk.email in listing.content.decode()
    assert client.get("/admin/portal_privacy/auditentry/add/").status_code == 403
    assert client.post(f"/admin/portal_privacy/auditentry/{entry.pk}/delete/",
                       {"post": "yes"}).status_code == 403  # fmt: skip
    page = client.post(f"/admin/portal_privacy/auditentry/{entry.pk}/change/", {"action": "x"})
    assert page.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "read_medical"


def test_only_the_family_reads_them_over_the_api(household, tenant_b):
    body = household.client().get(f"{API}/family").json()
    assert body["students"][0]["medical_notes"] == NOTES
    assert body["emergency_contacts"][0]["phone"] == CONTACT_PHONE
    with tenant_context(tenant_b):
        other = GuardianFactory(email="other@beta.test")
    connection.set_schema_to_public()
    assert_cross_tenant_denied(
        credentials_client=household.client(),
        target=tenant_b,
        method="get",
        path=f"{API}/family",
        forbidden_text=[other.last_name],
    )
    # Another family of the same business sees only its own.
    connection.set_tenant(household.tenant)
    neighbour = GuardianFactory(email="neighbour@alpha.test")
    client = client_for(household.tenant)
    login = client.post(f"{API}/auth/token", {"email": neighbour.email, "password": PASSWORD},
                        format="json")  # fmt: skip
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}")
    text = client.get(f"{API}/family").content.decode()
    assert NOTES not in text and CONTACT_PHONE not in text
    assert reads() == []  # the family's own reads are not staff reads


# -- money and enrollments --------------------------------------------------------------------


@pytest.fixture
def stripe_ready(family_a):
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform", STRIPE_API_BASE="", STRIPE_MAX_NETWORK_RETRIES=0
    ):
        yield family_a


def trail(object_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type).order_by("pk"))


@responses.activate
def test_checkout_payment_refund_and_drop_are_audited(stripe_ready):
    family = stripe_ready
    offering = make_offering(tuition=12000, registration_fee=0, name="Rec Gym")
    cart = family.client().post(f"{API}/cart/items",
                                {"student": family.student.pk, "offering": offering.pk},
                                format="json")  # fmt: skip
    assert cart.status_code == 201, cart.content
    checkout = family.client().post(f"{API}/checkout", {}, format="json")
    assert checkout.status_code in (200, 201), checkout.content
    order = Order.objects.get(family=family.family)
    (order_created,) = trail("portal_enrollment.order")
    assert order_created.action == "create" and order_created.actor_kind == "family"
    assert order_created.actor_email == family.guardian.email
    assert order_created.fields["total"] == 12000
    (enrolled,) = trail("portal_enrollment.enrollment")
    assert enrolled.action == "create" and enrolled.fields["status"] == "reserved"
    assert enrolled.family_id == family.family.pk and enrolled.request_id

    responses.post(f"{STRIPE}/v1/payment_intents", json={
        "id": "pi_1", "object": "payment_intent", "client_secret": "pi_1_secret",
        "status": "requires_payment_method", "amount": 12000, "currency": "usd"})  # fmt: skip
    assert family.client().post(f"{API}/orders/{order.pk}/pay").status_code == 201
    responses.get(f"{STRIPE}/v1/payment_intents/pi_1", json={
        "id": "pi_1", "object": "payment_intent", "client_secret": "pi_1_secret",
        "status": "succeeded", "amount": 12000, "currency": "usd"})  # fmt: skip
    from portal.orders.payments import payment_refresh

    payment_refresh(payment_intent_id="pi_1")
    payment = Payment.objects.get()
    steps = [(e.action, e.fields.get("status")) for e in trail("portal_billing.payment")]
    assert steps[0] == ("create", "creating")  # recorded before Stripe is called
    assert ("update", ["creating", "pending"]) in steps
    assert ("update", ["pending", "succeeded"]) in steps
    sync = [e for e in trail("portal_billing.payment") if e.action == "update"][-1]
    assert sync.actor_kind == "system"  # no request: a task or webhook
    ledger = trail("portal_billing.ledgerentry")
    assert ledger and all(e.action == "create" for e in ledger)
    assert (
        sum(e.fields["amount"] for e in ledger)
        == (LedgerEntry.objects.filter(family=family.family).aggregate(s=Sum("amount"))["s"])
    )

    staff = make_actor(family.tenant, email="desk@alpha.test", role="manager")
    connection.set_tenant(family.tenant)
    responses.post(f"{STRIPE}/v1/refunds", json={"id": "re_1", "object": "refund",
                                                 "amount": 5000})  # fmt: skip
    refund = staff.client().post(f"{API}/staff/payments/{payment.pk}/refund",
                                 {"amount": "50.00", "reason": "Missed classes"},
                                 format="json")  # fmt: skip
    assert refund.status_code == 200, refund.content
    refunded = [e for e in trail("portal_billing.payment") if "amount_refunded" in e.fields]
    assert refunded[-1].fields["amount_refunded"] == [0, 5000]
    assert refunded[-1].actor_email == "desk@alpha.test" and refunded[-1].actor_kind == "staff"
    refund_rows = [e for e in trail("portal_billing.ledgerentry") if e.fields["kind"] == "refund"]
    assert [e.fields["amount"] for e in refund_rows] == [5000]

    # A drop through the model (as the requests service and the admin do) is audited too.
    live = Enrollment.objects.get(family=family.family)
    live.status = Enrollment.Status.DROPPED
    live.save()
    last = trail("portal_enrollment.enrollment")[-1]
    assert last.action == "update" and last.fields["status"][1] == "dropped"
    # A save that changes nothing tracked writes nothing.
    before = AuditEntry.objects.count()
    live.staff_note = "called the family"
    live.save()
    assert AuditEntry.objects.count() == before


def test_a_rolled_back_change_leaves_no_audit_entry(family_a):
    from django.db import transaction

    connection.set_tenant(family_a.tenant)
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        LedgerEntry.objects.create(
            family=family_a.family,
            kind="credit",
            description="x",
            amount=-100,
            currency="usd",
            source_key="t:rollback",
        )
        raise RuntimeError
    assert AuditEntry.objects.count() == before


def _credit(family, key: str) -> LedgerEntry:
    return LedgerEntry.objects.create(
        family=family, kind="credit", description="x", amount=-100, currency="usd", source_key=key
    )


def test_a_batch_writes_its_entries_in_one_insert_at_its_end(family_a):
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from portal.privacy.audit import audit_batch, audit_record

    connection.set_tenant(family_a.tenant)
    before = AuditEntry.objects.count()
    with transaction.atomic(), CaptureQueriesContext(connection) as sql:
        with audit_batch():
            _credit(family_a.family, "t:batch1")
            _credit(family_a.family, "t:batch2")
            with audit_batch():  # a nested batch joins the outer one
                audit_record(action="note", object_type="x.y", object_id=1)
            assert AuditEntry.objects.count() == before  # nothing written yet
        inserts = [q for q in sql.captured_queries if "portal_privacy_auditentry" in q["sql"]]
    assert len(inserts) == 2  # the count above and the block's one INSERT
    assert inserts[-1]["sql"].startswith('INSERT INTO "portal_privacy_auditentry"')
    rows = list(AuditEntry.objects.order_by("pk")[before:])
    assert [(e.action, e.fields.get("source_key")) for e in rows] == [
        ("create", None),
        ("create", None),
        ("note", None),
    ]
    assert [e.fields.get("amount") for e in rows] == [-100, -100, None]
    assert rows[0].family_id == family_a.family.pk


def test_a_batch_keeps_no_entry_of_what_was_rolled_back(family_a):
    from django.db import transaction

    from portal.privacy.audit import audit_batch

    connection.set_tenant(family_a.tenant)
    before = AuditEntry.objects.count()
    # The block raising: nothing is written (the transaction is rolled back too).
    with pytest.raises(RuntimeError), transaction.atomic(), audit_batch():
        _credit(family_a.family, "t:batch-raise")
        raise RuntimeError
    assert AuditEntry.objects.count() == before
    # A savepoint rolled back inside the block: its change and its entry go; the rest stays.
    with transaction.atomic(), audit_batch():
        _credit(family_a.family, "t:batch-kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            _credit(family_a.family, "t:batch-undone")
            raise RuntimeError
    assert not LedgerEntry.objects.filter(source_key="t:batch-undone").exists()
    rows = list(AuditEntry.objects.order_by("pk")[before:])
    assert len(rows) == 1 and rows[0].object_id == str(
        LedgerEntry.objects.get(source_key="t:batch-kept").pk
    )
    # The block's error caught inside the same transaction (no savepoint): what the block did
    # before it may still commit, so its entries are written too.
    with transaction.atomic(), pytest.raises(RuntimeError), audit_batch():
        _credit(family_a.family, "t:batch-caught")
        raise RuntimeError
    caught = LedgerEntry.objects.get(source_key="t:batch-caught")
    assert AuditEntry.objects.filter(
        object_type="portal_billing.ledgerentry", object_id=str(caught.pk), action="create"
    ).exists()
    # A database error inside the block: the transaction is broken, nothing of it can commit;
    # the block's own error is the one raised (not the failed INSERT of its entries).
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic(), audit_batch():
        _credit(family_a.family, "t:batch-twice")
        _credit(family_a.family, "t:batch-twice")  # source_key is unique
    assert not LedgerEntry.objects.filter(source_key="t:batch-twice").exists()


def test_lapsed_unpaid_orders_cancelled_in_bulk_are_audited(family_a):
    from datetime import timedelta

    from django.utils import timezone

    connection.set_tenant(family_a.tenant)
    offering = make_offering(name="Lapse")
    enrollment.cart_add(family=family_a.family, student_id=family_a.student.pk,
                        offering_id=offering.pk)  # fmt: skip
    order = orders.checkout(family=family_a.family)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    enrollment.expire_due()
    cancelled = [e for e in trail("portal_enrollment.enrollment") if e.action == "update"]
    assert cancelled and cancelled[-1].fields == {"status": ["reserved", "cancelled"]}
    assert cancelled[-1].family_id == family_a.family.pk


# -- export -----------------------------------------------------------------------------------


def test_a_family_exports_everything_about_itself(household):
    LedgerEntry.objects.create(family=household.family, kind="charge", description="Tuition",
                               amount=4200, currency="usd", source_key="t:export")  # fmt: skip
    response = household.client().get(f"{API}/family/export")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["family"]["id"] == household.family.pk
    assert [g["email"] for g in data["guardians"]] == [household.guardian.email]
    assert data["logins"][0]["email"] == household.guardian.email
    assert "password" not in data["logins"][0]
    assert data["students"][0]["medical_notes"] == NOTES
    assert data["emergency_contacts"][0]["phone"] == CONTACT_PHONE
    assert [e["amount"] for e in data["ledger"]] == [4200]
    for key in ("enrollments", "orders", "order_lines", "payments", "requests",
                "policy_acceptances", "waitlist_entries"):  # fmt: skip
        assert isinstance(data[key], list), key
    assert "client_secret" not in response.content.decode()
    (entry,) = AuditEntry.objects.filter(action="export")
    assert entry.actor_kind == "family" and entry.family_id == household.family.pk


def test_export_needs_a_family_login_and_stays_in_its_tenant(household, staff_a, tenant_b):
    assert_error(client_for(household.tenant).get(f"{API}/family/export"), 401,
                 "not_authenticated")  # fmt: skip
    assert_error(staff_a.client().get(f"{API}/family/export"), 403, "not_a_family_account")
    assert_cross_tenant_denied(
        credentials_client=household.client(),
        target=tenant_b,
        method="get",
        path=f"{API}/family/export",
        forbidden_text=[NOTES, CONTACT_PHONE],
    )
    connection.set_tenant(household.tenant)
    assert household.client().post(f"{API}/family/export").status_code == 405


# -- deletion ---------------------------------------------------------------------------------


def test_deletion_request_bad_input_permissions_and_duplicates(household, tenant_b):
    client = household.client()
    url = f"{API}/family/deletion-request"
    assert_error(client.post(url, {}, format="json"), 400, "invalid_input")
    assert_error(client.post(url, {"confirm": "maybe"}, format="json"), 400, "invalid_input")
    assert_error(client.post(url, {"confirm": False}, format="json"), 400, "confirmation_required")
    assert_error(client.post(url, {"confirm": True, "reason": "x" * 2001}, format="json"), 400,
                 "invalid_input")  # fmt: skip
    assert_error(client.post(url, "[]", content_type="application/json"), 400, "invalid_input")
    assert not DeletionRequest.objects.exists()
    second = GuardianFactory(family=household.family, email="dad@alpha.test", is_primary=False)
    login = client_for(household.tenant).post(
        f"{API}/auth/token", {"email": second.email, "password": PASSWORD}, format="json"
    )
    other = client_for(household.tenant, token=login.json()["token"])
    assert_error(other.post(url, {"confirm": True}, format="json"), 403, "primary_guardian_only")
    assert_error(client_for(household.tenant).post(url, {"confirm": True}, format="json"), 401,
                 "not_authenticated")  # fmt: skip
    assert_cross_tenant_denied(credentials_client=household.client(), target=tenant_b,
                               method="post", path=url, data={"confirm": True})  # fmt: skip
    connection.set_tenant(household.tenant)
    assert not DeletionRequest.objects.exists()
    ok = client.post(url, {"confirm": True, "reason": "We moved away"}, format="json")
    assert ok.status_code == 202, ok.content
    assert ok.json()["status"] == "pending"
    assert_error(client.post(url, {"confirm": True}, format="json"), 409,
                 "deletion_already_requested")  # fmt: skip
    assert DeletionRequest.objects.filter(family=household.family).count() == 1
    (entry,) = AuditEntry.objects.filter(action="deletion_requested")
    assert entry.family_id == household.family.pk and entry.actor_kind == "family"


def _money(family) -> list[tuple]:
    return list(
        LedgerEntry.objects.filter(family=family)
        .order_by("pk")
        .values_list("pk", "kind", "amount", "currency", "order_id", "payment_id", "description")
    )


def test_staff_complete_the_deletion_and_the_ledger_is_intact(household, staff_a):
    connection.set_tenant(household.tenant)
    family = household.family
    offering = make_offering(tuition=9000, registration_fee=0, name="Tumble")
    enrollment.cart_add(family=family, student_id=household.student.pk, offering_id=offering.pk)
    order = orders.checkout(family=family)
    from portal.billing.services import ledger_record_order

    ledger_record_order(order=order)  # as on confirmation: the tuition charge
    LedgerEntry.objects.create(family=family, kind="payment", description="Cash at the desk",
                               amount=-4000, currency="usd", source_key="t:cash")  # fmt: skip
    money_before = _money(family)
    balance_before = LedgerEntry.objects.filter(family=family).aggregate(s=Sum("amount"))["s"]
    assert money_before and balance_before == 5000
    household.client().post(f"{API}/family/deletion-request", {"confirm": True}, format="json")
    deletion = DeletionRequest.objects.get(family=family)

    # While the student holds a seat, staff are told to end it first; nothing changes.
    with pytest.raises(ApplicationError) as refused:
        family_deletion_complete(deletion_request_id=deletion.pk, by=staff_a.user)
    assert refused.value.code == "family_has_live_enrollments"
    assert Family.objects.get(pk=family.pk).name == family.name
    Enrollment.objects.filter(order=order).update(status=Enrollment.Status.CANCELLED)

    client = admin_client(household.tenant, staff_a.user)
    response = client.post(
        "/admin/portal_privacy/deletionrequest/",
        {"action": "complete", "_selected_action": [deletion.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    family = Family.objects.get(pk=family.pk)
    assert family.name == f"Deleted family {family.pk}" and family.status == "inactive"
    assert family.address_line1 == "" and family.city == ""
    guardian = Guardian.objects.get(pk=household.guardian.pk)
    assert guardian.first_name == "Deleted" and guardian.phone == ""
    assert guardian.email.endswith("@deleted.invalid")
    student = Student.objects.get(pk=household.student.pk)
    assert student.first_name == "Deleted" and student.medical_notes == ""
    assert student.date_of_birth.month == 1 and student.date_of_birth.day == 1
    assert not EmergencyContact.objects.filter(family=family).exists()
    user = User.objects.get(pk=household.guardian.user_id)
    assert not user.is_active and not user.has_usable_password()
    assert user.email.endswith("@deleted.invalid") and not user.api_tokens.exists()
    # Money history: the same rows, the same amounts, the same balance; orders kept. Only the
    # child's first name left the descriptions ("Tumble — Mia" -> "Tumble — a student").
    scrubbed = [row[:-1] for row in _money(family)]
    assert scrubbed == [row[:-1] for row in money_before]
    descriptions = [row[-1] for row in _money(family)]
    assert "Tumble — a student" in descriptions and "Cash at the desk" in descriptions
    assert not any("Mia" in d for d in descriptions)
    assert not OrderLine.objects.filter(order=order, description__contains="Mia").exists()
    assert LedgerEntry.objects.filter(family=family).aggregate(s=Sum("amount"))["s"] == 5000
    assert Order.objects.filter(pk=order.pk, family=family, total=9000).exists()
    deletion.refresh_from_db()
    assert deletion.status == "completed" and deletion.completed_by_email == staff_a.user.email
    (entry,) = AuditEntry.objects.filter(action="deletion_completed")
    assert entry.actor_email == staff_a.user.email and entry.family_id == family.pk
    # The old token and password open nothing any more.
    assert_error(household.client().get(f"{API}/family"), 401, "authentication_failed")
    login = client_for(household.tenant).post(
        f"{API}/auth/token",
        {"email": "parent@alpha.test", "password": PASSWORD},
        format="json",
    )
    assert_error(login, 401, "invalid_credentials")
    # Completing twice is refused; the export no longer has anything personal.
    with pytest.raises(ApplicationError) as again:
        family_deletion_complete(deletion_request_id=deletion.pk)
    assert again.value.code == "deletion_already_completed"
    text = str(list(Family.objects.filter(pk=family.pk).values()))
    assert household.guardian.last_name not in text


def test_the_deletion_admin_is_per_tenant(household, staff_b, tenant_b):
    household.client().post(f"{API}/family/deletion-request", {"confirm": True}, format="json")
    deletion = DeletionRequest.objects.get()
    client = admin_client(tenant_b, staff_b.user)
    response = client.post(
        "/admin/portal_privacy/deletionrequest/",
        {"action": "complete", "_selected_action": [deletion.pk]},
    )
    assert response.status_code in (200, 302)
    with tenant_context(household.tenant):
        assert DeletionRequest.objects.get(pk=deletion.pk).status == "pending"
        assert Family.objects.get(pk=household.family.pk).name == household.family.name
