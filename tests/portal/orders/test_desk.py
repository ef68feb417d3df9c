"""Front-desk enrollment: the family's rules and prices, an override only with a reason (and
recorded), the seat under the offering's lock, cash or owed; staff drops (reason, proration),
transfers, and waitlist offers and order by hand. Refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import Sum

from kernel.errors import ApplicationError
from kernel.users.models import User
from portal.billing.models import LedgerEntry, StaffPosting
from portal.enrollment import services
from portal.enrollment.models import Enrollment, Order, WaitlistEntry
from portal.orders.desk import desk_enroll
from portal.privacy.models import AuditEntry
from portal.requests.models import Request
from portal.requests.staff import enrollment_desk_drop, enrollment_desk_transfer
from portal.staff.services import staff_role_set
from tests.helpers import tenant_today
from tests.portal.enrollment_helpers import enroll, make_family, make_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(in_tenant_a):
    user = User.objects.create_user(email="desk@alpha.test", password="x", is_staff=True)
    staff_role_set(user=user, role="front_desk")
    return user


def balance(family_id) -> int:
    return LedgerEntry.objects.filter(family_id=family_id).aggregate(s=Sum("amount"))["s"] or 0


def refused(code: str, fn, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        fn(**kwargs)
    assert error.value.code == code, error.value
    return error.value


def test_cash_enrollment_prices_like_checkout_and_settles_the_account(
    desk, django_capture_on_commit_callbacks
):
    offering = make_offering(name="Tumble", tuition=12000, registration_fee=2500)
    family, kid = make_family("phone@alpha.test", first_name="Mia")
    with django_capture_on_commit_callbacks(execute=True):
        result = desk_enroll(
            family_id=family.pk, student_id=kid.pk, offering_id=offering.pk, by=desk,
            payment="cash", reference="R-1",
        )  # fmt: skip
    enrollment = result.enrollment
    assert enrollment.status == "active" and enrollment.enrolled_by_id == desk.pk
    assert enrollment.override_rules == [] and enrollment.override_reason == ""
    assert result.amount == 14500 and result.paid_with == "cash" and result.owed == 0
    assert Order.objects.get(pk=result.order.pk).status == "confirmed"
    offering.refresh_from_db()
    assert offering.seats_taken == 1
    assert balance(family.pk) == 0  # charged 145.00, paid 145.00 in cash
    posting = StaffPosting.objects.get(family=family)
    assert posting.method == "cash" and posting.reference == "R-1" and posting.amount == 14500
    assert AuditEntry.objects.filter(
        action="enrollment_staff_enroll", object_id=str(enrollment.pk), actor_id=desk.pk
    ).exists()
    assert any("Tumble" in m.body for m in mail.outbox)
    # The registration fee is charged once a year: a second class has no fee.
    second = make_offering(name="Vault", tuition=5000, registration_fee=2500, weekdays=[2])
    again = desk_enroll(family_id=family.pk, student_id=kid.pk, offering_id=second.pk, by=desk)
    assert again.amount == 5000 and again.paid_with == "owed" and again.owed == 5000
    assert balance(family.pk) == 5000
    assert Order.objects.get(pk=again.order.pk).status == "awaiting_payment"
    assert Order.objects.get(pk=again.order.pk).expires_at is None  # owed, never lapses


def test_rules_refuse_without_override_and_a_reason_records_it(desk):
    offering = make_offering(name="Big kids", min_age=9, capacity=1)
    family, kid = make_family(
        "young@alpha.test",
        first_name="Leo",
        born=tenant_today().replace(year=tenant_today().year - 5),
    )
    error = refused(
        "too_young", desk_enroll, family_id=family.pk, student_id=kid.pk,
        offering_id=offering.pk, by=desk,
    )  # fmt: skip
    assert "override" in error.message and "override_reason" in error.fields
    assert not Enrollment.objects.exists() and not Order.objects.exists()
    result = desk_enroll(
        family_id=family.pk, student_id=kid.pk, offering_id=offering.pk, by=desk,
        override_reason="Coach assessed him, ready for the older group",
    )  # fmt: skip
    enrollment = Enrollment.objects.get(pk=result.enrollment.pk)
    assert enrollment.override_rules == ["too_young"]
    assert enrollment.override_reason.startswith("Coach assessed")
    assert enrollment.override_at is not None and enrollment.enrolled_by_id == desk.pk
    entry = AuditEntry.objects.get(action="enrollment_staff_enroll")
    assert entry.fields["override_rules"] == ["too_young"]


def test_full_class_needs_an_override_and_stale_input_is_refused(desk):
    offering = make_offering(name="Tiny", capacity=1)
    first_family, first_kid = make_family("first@alpha.test")
    enroll(first_family, first_kid, offering)
    family, kid = make_family("second@alpha.test")
    refused(
        "offering_full", desk_enroll, family_id=family.pk, student_id=kid.pk,
        offering_id=offering.pk, by=desk,
    )  # fmt: skip
    assert Enrollment.objects.filter(student=kid).count() == 0
    result = desk_enroll(
        family_id=family.pk, student_id=kid.pk, offering_id=offering.pk, by=desk,
        override_reason="Sibling already in class",
    )  # fmt: skip
    assert result.overridden == ["offering_full"]
    offering.refresh_from_db()
    assert offering.seats_taken == 2 and offering.openings == 0
    # Already enrolled: no override changes that.
    refused(
        "already_enrolled", desk_enroll, family_id=family.pk, student_id=kid.pk,
        offering_id=offering.pk, by=desk, override_reason="again",
    )  # fmt: skip
    # Bad input.
    refused(
        "invalid_input", desk_enroll, family_id=family.pk, student_id=kid.pk,
        offering_id=offering.pk, by=desk, payment="bitcoin",
    )  # fmt: skip
    refused(
        "student_not_found", desk_enroll, family_id=family.pk, student_id=first_kid.pk,
        offering_id=offering.pk, by=desk,
    )  # fmt: skip
    refused(
        "offering_not_found", desk_enroll, family_id=family.pk, student_id=kid.pk,
        offering_id=999999, by=desk,
    )  # fmt: skip
    refused(
        "family_not_found", desk_enroll, family_id=999999, student_id=kid.pk,
        offering_id=offering.pk, by=desk,
    )  # fmt: skip
    other = make_offering(name="Other")
    refused(
        "payment_method_not_found", desk_enroll, family_id=family.pk, student_id=kid.pk,
        offering_id=other.pk, by=desk, payment="card", saved_method_id=123,
    )  # fmt: skip
    assert Enrollment.objects.filter(offering=other).count() == 0
    assert Enrollment.objects.count() == 2


def test_account_credit_pays_first(desk):
    offering = make_offering(name="Swim", tuition=4000)
    family, kid = make_family("credit@alpha.test")
    LedgerEntry.objects.create(
        family=family, kind="credit", description="Goodwill", amount=-5000, currency="USD",
        source_key="test:credit",
    )  # fmt: skip
    result = desk_enroll(
        family_id=family.pk, student_id=kid.pk, offering_id=offering.pk, by=desk, payment="cash"
    )
    assert result.paid_with == "credit" and result.owed == 0
    assert not StaffPosting.objects.exists()
    assert balance(family.pk) == -1000


def test_staff_drop_with_reason_frees_the_seat_and_credits_unused(
    desk, django_capture_on_commit_callbacks
):
    today = tenant_today()
    offering = make_offering(
        name="Ballet", capacity=1, tuition=10000, start_date=today - timedelta(weeks=5),
        weekdays=[today.weekday()],
    )  # fmt: skip
    offering.end_date = today + timedelta(weeks=4, days=1)
    offering.save(update_fields=["end_date"])
    family, kid = make_family("drop@alpha.test")
    enrollment = desk_enroll(
        family_id=family.pk, student_id=kid.pk, offering_id=offering.pk, by=desk,
        override_reason="Joining mid-term",
    ).enrollment  # fmt: skip
    waiting_family, waiting_kid = make_family("waits@alpha.test")
    services.waitlist_join(
        family=waiting_family, student_id=waiting_kid.pk, offering_id=offering.pk
    )
    refused(
        "drop_reason_required",
        enrollment_desk_drop,
        enrollment_id=enrollment.pk,
        reason=" ",
        by=desk,
    )
    refused(
        "invalid_input", enrollment_desk_drop, enrollment_id=enrollment.pk, reason="Moving",
        by=desk, effective_date=today - timedelta(days=1),
    )  # fmt: skip
    owed_before = balance(family.pk)
    with django_capture_on_commit_callbacks(execute=True):
        req = enrollment_desk_drop(
            enrollment_id=enrollment.pk, reason="Moving away", by=desk, credit_unused=True
        )
    assert req.type == "drop" and req.status == "approved" and req.decided_by_id == desk.pk
    assert Enrollment.objects.get(pk=enrollment.pk).status == "dropped"
    # 10 meetings (5 before, today, 4 after); 4 unused: 40.00 credited.
    meetings = offering.meetings()
    unused = len([d for d in meetings if d > today])
    assert balance(family.pk) == owed_before - 10000 * unused // len(meetings)
    assert WaitlistEntry.objects.get(student=waiting_kid).status == "offered"  # seat passed on
    refused(
        "enrollment_not_active",
        enrollment_desk_drop,
        enrollment_id=enrollment.pk,
        reason="x",
        by=desk,
    )
    assert Request.objects.filter(type="drop").count() == 1


def test_staff_transfer_moves_with_the_prorated_difference(desk):
    source = make_offering(name="Level 1", tuition=10000)
    target = make_offering(name="Level 1 Sat", tuition=10000, weekdays=[5])
    full = make_offering(name="Full", capacity=0)
    family, kid = make_family("move@alpha.test")
    enrollment = enroll(family, kid, source)
    refused(
        "offering_full", enrollment_desk_transfer, enrollment_id=enrollment.pk,
        offering_id=full.pk, by=desk,
    )  # fmt: skip
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active"
    assert not Request.objects.filter(type="transfer").exists()
    req = enrollment_desk_transfer(enrollment_id=enrollment.pk, offering_id=target.pk, by=desk)
    assert req.status == "approved" and req.decided_by_id == desk.pk
    assert Enrollment.objects.get(pk=enrollment.pk).status == "transferred"
    moved = Enrollment.objects.get(offering=target, student=kid)
    assert moved.status == "active" and moved.transferred_from_id == enrollment.pk
    refused(
        "enrollment_not_active", enrollment_desk_transfer, enrollment_id=enrollment.pk,
        offering_id=target.pk, by=desk,
    )  # fmt: skip


def test_offer_a_waitlist_seat_by_hand_and_reorder(desk, django_capture_on_commit_callbacks):
    offering = make_offering(name="Gym Tots", capacity=1)
    family, kid = make_family("seat@alpha.test")
    enroll(family, kid, offering)
    entries = []
    for n in range(3):
        f, k = make_family(f"w{n}@alpha.test", first_name=f"W{n}")
        entries.append(services.waitlist_join(family=f, student_id=k.pk, offering_id=offering.pk))
    moved = services.waitlist_staff_move(entry_id=entries[2].pk, position=1, by=desk)
    order = list(
        WaitlistEntry.objects.filter(offering=offering)
        .order_by("priority")
        .values_list("pk", flat=True)
    )
    assert order == [entries[2].pk, entries[0].pk, entries[1].pk] and moved.priority == 10
    refused("invalid_input", services.waitlist_staff_move, entry_id=entries[0].pk, position=0)
    # No free seat: an offer by hand needs a reason.
    refused("offering_full", services.waitlist_staff_offer, entry_id=entries[1].pk, by=desk)
    assert WaitlistEntry.objects.get(pk=entries[1].pk).status == "waiting"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        offered = services.waitlist_staff_offer(
            entry_id=entries[1].pk, by=desk, override_reason="Extra coach today"
        )
    assert offered.status == "offered" and offered.hold.status == "offer"
    assert "Extra coach today" in offered.note
    assert len(mail.outbox) == 1 and "Gym Tots" in mail.outbox[0].body  # the usual offer email
    refused(
        "waitlist_not_waiting", services.waitlist_staff_offer, entry_id=entries[1].pk, by=desk,
        override_reason="again",
    )  # fmt: skip
    services.waitlist_staff_remove(entry_id=entries[0].pk)
    refused("not_on_waitlist", services.waitlist_staff_move, entry_id=entries[0].pk, position=1)
    refused("waitlist_entry_not_found", services.waitlist_staff_offer, entry_id=999999, by=desk)
