"""Every public function of the money and enrollment services, walked: each is either listed
as a reader (with why it changes no audited row) or run by a scenario that must call it and
leave history rows (portal.privacy.history) for the models it changes, QuerySet.update()
included. A new public function in one of these modules fails the first test until it is
listed here."""

from __future__ import annotations

import importlib
import inspect
import sys
from contextlib import contextmanager
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.db.models import Max
from django.test import override_settings
from django.utils import timezone

from portal.attendance.models import Attendance
from portal.billing.models import (
    AutopayCharge,
    LedgerEntry,
    Payment,
    Refund,
    SavedPaymentMethod,
    StaffPosting,
    StripeCustomer,
)
from portal.config.services import portal_settings_update
from portal.enrollment import services as seats
from portal.enrollment.models import (
    Enrollment,
    Order,
    OrderLine,
    RegistrationFeeCharge,
    WaitlistEntry,
)
from portal.enrollment.pricing import Line
from portal.orders import autopay, payments, tenders
from portal.orders import services as orders
from portal.orders.models import OrderTender
from portal.privacy.history import tracked_models
from portal.requests import services as requests
from portal.requests.models import MakeupToken, Request
from portal.store import purchases
from portal.store import services as store
from portal.store.models import GiftCertificate, PunchPass, PunchPassProduct, PunchRedemption
from tenants.models import Tenant
from tests.factories import ProgramFactory
from tests.helpers import tenant_today
from tests.portal.billing_helpers import STRIPE, intent
from tests.portal.enrollment_helpers import make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db

MODULES = [
    "portal.orders.services",
    "portal.orders.payments",
    "portal.orders.autopay",
    "portal.orders.tenders",
    "portal.orders.autopay_runs",
    "portal.billing.services",
    "portal.billing.staff",
    "portal.store.services",
    "portal.store.purchases",
    "portal.requests.services",
    "portal.enrollment.services.cart",
    "portal.enrollment.services.seats",
    "portal.enrollment.services.waitlist",
    "portal.enrollment.services.staff",
    "portal.attendance.services",
    "portal.requests.tokens",
]

# Public functions that change no audited row, and why.
READERS = {
    "portal.orders.services.order_not_found": "builds an error",
    "portal.orders.services.order_not_payable": "builds an error",
    "portal.orders.tenders.amount_due": "arithmetic on an order",
    "portal.orders.tenders.credit_available": "reads the ledger",
    "portal.orders.tenders.tendered": "arithmetic on an order",
    "portal.orders.autopay.autopay_next": "reads the next charge for the app",
    "portal.orders.autopay_runs.autopay_runs_list": "reads autopay runs",
    "portal.orders.autopay_runs.autopay_charge_list": "reads autopay charges",
    "portal.orders.autopay_runs.autopay_charges_retryable": "reads autopay charges",
    "portal.billing.staff.family_not_found": "builds an error",
    "portal.billing.staff.payment_refundable": "arithmetic on a payment",
    "portal.billing.staff.receipt_resend": "emails a receipt again, writes no money row",
    "portal.billing.services.ledger_balance": "reads the ledger",
    "portal.billing.services.payment_intent_fetch": "asks Stripe, writes nothing",
    "portal.billing.services.stripe_onboarding_link": "asks Stripe for a link",
    "portal.billing.services.stripe_customer_for": "a Stripe customer record, no money",
    "portal.billing.services.payment_method_setup": "saved cards, no money moves",
    "portal.billing.services.payment_methods_refresh": "saved cards, no money moves",
    "portal.billing.services.setup_intent_sync": "saved cards, no money moves",
    "portal.billing.services.payment_method_set_default": "saved cards, no money moves",
    "portal.billing.services.payment_method_remove": "saved cards, no money moves",
    "portal.store.services.gift_certificates_enabled_check": "a settings check",
    "portal.store.services.gift_certificate_invalid": "builds an error",
    "portal.store.services.gift_certificate_lookup": "reads (and may lock) a certificate",
    "portal.store.services.punch_passes_enabled_check": "a settings check",
    "portal.store.services.punch_pass_product_list": "reads products",
    "portal.store.services.punch_pass_list": "reads passes",
    "portal.store.services.visitor_token": "signs an order id",
    "portal.store.services.visitor_order": "reads an order by token",
    "portal.requests.services.transfer_preview": "prices a transfer, writes nothing",
    "portal.attendance.services.meeting_check": "checks a meeting's date",
    "portal.enrollment.services.seats.lock_offerings": "takes row locks",
    "portal.enrollment.services.seats.recount": "recomputes seat counters from the rows",
    "portal.enrollment.services.seats.schedule_hold_expiry": "enqueues a task",
    "portal.enrollment.services.waitlist.waitlist_position": "counts places in line",
    "portal.enrollment.services.cart.warn_expiring_holds": "emails; stamps a cart hold",
}


def _public_functions() -> set[str]:
    names = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module_name and not name.startswith("_"):
                names.add(f"{module_name}.{name}")
    return names


def _event_models() -> dict:
    from pghistory.core import event_models

    return {m.pgh_tracked_model: m for m in event_models() if m.pgh_tracked_model in TRACKED}


TRACKED = set(tracked_models())


class Watch:
    """Within ``with watch():``: which functions ran, and the history rows written."""

    def __init__(self):
        self.called: set[str] = set()
        self.events: dict = {}

    @contextmanager
    def __call__(self):
        models = _event_models()
        before = {
            tracked: event.objects.aggregate(top=Max("pgh_id"))["top"] or 0
            for tracked, event in models.items()
        }
        codes = {}
        for qualified in _public_functions():
            module_name, name = qualified.rsplit(".", 1)
            codes[getattr(importlib.import_module(module_name), name).__code__] = qualified

        def profile(frame, event, arg):
            if event == "call" and frame.f_code in codes:
                self.called.add(codes[frame.f_code])

        sys.setprofile(profile)
        try:
            yield
        finally:
            sys.setprofile(None)
        for tracked, event in models.items():
            labels = set(
                event.objects.filter(pgh_id__gt=before[tracked]).values_list("pgh_label", flat=True)
            )
            if labels:
                self.events[tracked] = labels


@pytest.fixture(autouse=True)
def stripe_offline():
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform", STRIPE_API_BASE="", STRIPE_MAX_NETWORK_RETRIES=0
    ):
        yield


@pytest.fixture
def money(family_a):
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    portal_settings_update(
        gift_certificates_enabled=True,
        gift_certificates_visitors_may_buy=True,
        punch_passes_enabled=True,
    )
    return family_a


# --- scenarios -------------------------------------------------------------------------------


def checkout_with_tenders(actor, watch):
    offering = make_offering(tuition=12000, name="Rec Gym")
    seats.cart_add(family=actor.family, student_id=actor.student.pk, offering_id=offering.pk)
    with watch():
        from portal.billing.services import ledger_post

        ledger_post(
            family_id=actor.family.pk, kind=LedgerEntry.Kind.CREDIT, description="Goodwill",
            amount=-2500, currency="USD", source_key="goodwill:1",
        )  # fmt: skip
        gift = store.gift_certificate_issue(
            amount=5000, recipient_name="Mia", recipient_email="m@alpha.test"
        )
        order = orders.checkout(family=actor.family, gift_certificate_code=gift.code)
    assert tenders.amount_due(order) == 4500


def card_payment_and_refunds(actor, watch):
    offering = make_offering(tuition=12000, registration_fee=2500, name="Rec Gym")
    seats.cart_add(family=actor.family, student_id=actor.student.pk, offering_id=offering.pk)
    order = orders.checkout(family=actor.family)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stripe, watch():
        stripe.post(f"{STRIPE}/v1/payment_intents", json=intent(amount=14500))
        stripe.get(
            f"{STRIPE}/v1/payment_intents/pi_1", json=intent(status="succeeded", amount=14500)
        )
        stripe.post(f"{STRIPE}/v1/refunds", json={"id": "re_1", "object": "refund", "amount": 1000})
        payment = payments.order_pay(family=actor.family, order_id=order.pk)
        payments.order_refresh(order=order)
        payments.order_payments_refresh(order=order)
        payments.payment_refresh(payment_intent_id="pi_1")
        from portal.billing import services as billing

        billing.payment_refund(payment_id=payment.pk, amount=1000, reason="Missed a class")
        from portal.billing.staff import staff_payment_refund

        stripe.post(f"{STRIPE}/v1/refunds", json={"id": "re_3", "object": "refund", "amount": 700})
        staff_payment_refund(family_id=actor.family.pk, payment_id=payment.pk, amount=700)
        stale = Refund.objects.create(payment=payment, amount=500, status=Refund.Status.PENDING)
        Refund.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=1))
        stripe.post(f"{STRIPE}/v1/refunds", json={"id": "re_2", "object": "refund", "amount": 500})
        billing.refunds_resume()
        stripe.get(
            f"{STRIPE}/v1/charges/ch_1",
            json={"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "amount": 14500,
                  "amount_refunded": 2500},
        )  # fmt: skip
        billing.charge_refunded_sync(charge_id="ch_1")
        billing.dispute_flag(payment_intent_id="pi_1")  # a QuerySet.update()
    order.refresh_from_db()
    assert order.status == "confirmed"


def open_attempt_cancelled(actor, watch):
    offering = make_offering(tuition=12000, name="Rec Gym")
    seats.cart_add(family=actor.family, student_id=actor.student.pk, offering_id=offering.pk)
    order = orders.checkout(family=actor.family)
    from portal.billing import services as billing

    StripeCustomer.objects.create(family=actor.family, customer_id="cus_1")
    card = SavedPaymentMethod.objects.create(
        family=actor.family, stripe_payment_method_id="pm_1", brand="visa", last4="4242",
        is_default=True,
    )  # fmt: skip
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stripe, watch():
        stripe.post(f"{STRIPE}/v1/payment_intents", json=intent(pi_id="pi_9"))
        stripe.post(
            f"{STRIPE}/v1/payment_intents/pi_9/cancel", json=intent(pi_id="pi_9", status="canceled")
        )
        payment = billing.payment_attempt_open(order=order, amount=order.total)
        billing.payment_intent_send(payment=payment)
        # The family picks its saved card instead: the open attempt is cancelled first.
        payments.card_attempt(order=order, amount=order.total, method=card)
    assert Payment.objects.filter(status="canceled").exists()


def orders_lapse(actor, watch):
    today = tenant_today()
    gift = store.gift_certificate_issue(
        amount=5000, recipient_name="Mia", recipient_email="m@alpha.test"
    )
    offering = make_offering(tuition=12000, name="Rec Gym")
    seats.cart_add(family=actor.family, student_id=actor.student.pk, offering_id=offering.pk)
    order = orders.checkout(family=actor.family, gift_certificate_code=gift.code)
    family2, kid2 = make_family("second@alpha.test")
    seats.cart_add(family=family2, student_id=kid2.pk, offering_id=offering.pk)
    second = orders.checkout(family=family2)
    family3, kid3 = make_family("third@alpha.test")
    elsewhere = make_offering(tuition=0, name="Camp")
    seats.cart_add(family=family3, student_id=kid3.pk, offering_id=elsewhere.pk)
    third = orders.checkout(family=family3)
    orders.order_confirm(order_id=third.pk)
    ended = Enrollment.objects.get(order=third)
    Enrollment.objects.filter(pk=ended.pk).update(end_date=today - timedelta(days=1))
    Order.objects.filter(pk__in=[order.pk, second.pk]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with watch():
        orders.orders_refresh(family=actor.family)
        orders.order_expire(order_id=second.pk)
        orders.orders_expire_due()
        seats.expire_due()  # the ended enrollment is dropped by a QuerySet.update()
    ended.refresh_from_db()
    assert ended.status == "dropped"
    gift.refresh_from_db()
    assert gift.balance == 5000


def invoices_and_balance(actor, watch):
    from portal.billing.services import ledger_record_order, ledger_record_payment

    StripeCustomer.objects.create(family=actor.family, customer_id="cus_1")
    card = SavedPaymentMethod.objects.create(
        family=actor.family, stripe_payment_method_id="pm_1", brand="visa", last4="4242",
        is_default=True,
    )  # fmt: skip
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stripe, watch():
        stripe.post(f"{STRIPE}/v1/payment_intents", json=intent(pi_id="pi_b", amount=3000))
        stripe.get(f"{STRIPE}/v1/payment_intents/pi_b", json=intent(pi_id="pi_b", amount=3000))
        invoice = orders.invoice_create(
            family=actor.family,
            kind=Order.Kind.ADJUSTMENT,
            lines=[Line(OrderLine.Kind.TRANSFER, "Difference", 3000, None, None)],
            idempotency_key="adjust:1",
        )
        ledger_record_order(order=invoice)  # idempotent: already in the ledger
        balance = orders.balance_order_create(family=actor.family)
        payment = payments.balance_pay(family=actor.family, saved_method_id=card.pk)
        Payment.objects.filter(pk=payment.pk).update(status="succeeded")
        payment.refresh_from_db()
        ledger_record_payment(payment=payment)
    assert balance.kind == "balance"


def seats_and_waitlists(actor, watch):
    portal_settings_update(pending_requests_count_against_openings=True)
    offering = make_offering(capacity=1, tuition=5000, name="Level 2")
    other, other_kid = make_family("waiter@alpha.test")
    third, third_kid = make_family("third@alpha.test")
    fourth, fourth_kid = make_family("fourth@alpha.test")
    approval = make_offering(capacity=3, tuition=0, name="Team", registration_mode="request")
    with watch():
        hold = seats.cart_add(
            family=actor.family, student_id=actor.student.pk, offering_id=offering.pk
        )
        seats.cart_refresh(family=actor.family)
        order = orders.checkout(family=actor.family)
        orders.order_confirm(order_id=order.pk)
        entry = seats.waitlist_join(family=other, student_id=other_kid.pk, offering_id=offering.pk)
        third_entry = seats.waitlist_join(
            family=third, student_id=third_kid.pk, offering_id=offering.pk
        )
        fourth_entry = seats.waitlist_join(
            family=fourth, student_id=fourth_kid.pk, offering_id=offering.pk
        )
        enrollment = Enrollment.objects.get(order=order)
        seats.enrollment_staff_drop(enrollment_id=enrollment.pk)  # offers the seat to `other`
        offered = seats.waitlist_accept(family=other, entry_id=entry.pk)
        seats.cart_remove(family=other, hold_id=offered.pk)  # the seat goes to `third`
        seats.waitlist_decline(family=third, entry_id=third_entry.pk)  # and to `fourth`
        fourth_entry.refresh_from_db()
        seats.staff_hold_delete(hold_id=fourth_entry.hold_id)
        seats.waitlist_advance_for(offering_id=offering.pk)
        seats.offering_seats_changed(offering_id=offering.pk)
        seats.cart_hold_again(family=other, items=[(other_kid.pk, offering.pk)])
        seats.cart_clear(family=other)
        hold = seats.cart_add(family=third, student_id=third_kid.pk, offering_id=offering.pk)
        again = seats.waitlist_join(family=other, student_id=other_kid.pk, offering_id=offering.pk)
        seats.waitlist_staff_remove(entry_id=again.pk)
        back = seats.waitlist_join(family=other, student_id=other_kid.pk, offering_id=offering.pk)
        seats.waitlist_staff_move(entry_id=back.pk, position=1, by=actor.guardian.user)
        seats.waitlist_staff_offer(
            entry_id=back.pk, by=actor.guardian.user, override_reason="sibling"
        )
        seats.hold_expire_if_due(hold_id=hold.pk)
        seats.cart_add(family=fourth, student_id=fourth_kid.pk, offering_id=approval.pk)
        pending_order = orders.checkout(family=fourth)
        pending = Enrollment.objects.get(order=pending_order)
        seats.enrollment_staff_cancel(enrollment_id=pending.pk)
    pending.refresh_from_db()
    assert pending.status == "cancelled"


def family_requests(actor, watch):
    today = tenant_today()
    program = ProgramFactory(name="Gymnastics")
    offering = make_offering(
        name="Rec Gym", program=program, tuition=10000, start_date=next_weekday(0, 1)
    )
    dearer = make_offering(
        name="Rec Gym Thu", program=program, tuition=20000, weekdays=[3],
        start_date=next_weekday(3, 1),
    )  # fmt: skip
    other = make_offering(name="Rec Gym Fri", program=program, weekdays=[4],
                          start_date=next_weekday(4, 1))  # fmt: skip
    seats.cart_add(family=actor.family, student_id=actor.student.pk, offering_id=offering.pk)
    orders.order_confirm(order_id=orders.checkout(family=actor.family).pk)
    enrollment = Enrollment.objects.get(offering=offering)
    with watch():
        absence = requests.absence_request(
            family=actor.family, enrollment_id=enrollment.pk,
            meeting_date=offering.meetings()[1],
        )  # fmt: skip
        requests.makeup_request(
            family=actor.family, token_id=absence.issued_token_id, offering_id=other.pk,
            meeting_date=other.meetings()[1],
        )  # fmt: skip
        drop = requests.drop_request(
            family=actor.family, enrollment_id=enrollment.pk,
            effective_date=today + timedelta(days=30), reason="Moving",
        )  # fmt: skip
        requests.request_cancel(family=actor.family, request_id=drop.pk)
        transfer = requests.transfer_request(
            family=actor.family, enrollment_id=enrollment.pk, offering_id=dearer.pk
        )
        requests.request_decide(request_id=transfer.pk, approve=True, note="Welcome")
        MakeupToken.objects.create(
            family=actor.family, student=actor.student, program=program, kind="class",
            expires_on=today - timedelta(days=1),
        )  # fmt: skip
        requests.makeup_tokens_expire()  # a QuerySet.update()
    assert Order.objects.filter(kind="adjustment").exists()


def attendance_marks(actor, watch):
    today = tenant_today()
    from kernel.users.models import User
    from portal.attendance import services as attendance
    from portal.catalog.models import StaffProfile

    start = today - timedelta(days=14)
    offering = make_offering(name="Rec Gym", start_date=start, weekdays=[today.weekday()])
    Enrollment.objects.create(
        family=actor.family,
        student=actor.student,
        offering=offering,
        status="active",
        start_date=start,
    )
    coach = User.objects.create_user(
        email="walk-coach@alpha.test", is_staff=True, is_superuser=True
    )
    offering.instructors.add(StaffProfile.objects.create(display_name="Coach", user=coach))
    with watch():
        for status in ("excused", "present"):  # a token issued, then revoked
            attendance.attendance_mark(
                offering_id=offering.pk,
                meeting_date=today - timedelta(days=7),
                student_id=actor.student.pk,
                status=status,
                by=coach,
            )
        attendance.attendance_mark_all_present(
            offering_id=offering.pk, meeting_date=today, by=coach
        )


def store_purchases(actor, watch):
    product = PunchPassProduct.objects.create(
        name="10 open gym visits", visits=10, price=15000, valid_days=90
    )
    offering = make_offering(tuition=0, name="Open Gym")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stripe, watch():
        stripe.post(f"{STRIPE}/v1/payment_intents", json=intent(pi_id="pi_v", amount=5000))
        gift_order = purchases.gift_certificate_buy(
            family=actor.family, amount=5000, recipient_name="Ana", recipient_email="a@x.test"
        )
        pass_order = purchases.punch_pass_buy(family=actor.family, product_id=product.pk)
        purchases.gift_certificate_buy_as_visitor(
            buyer_name="Vic Visitor", buyer_email="v@x.test", amount=5000,
            recipient_name="Ana", recipient_email="a@x.test",
        )  # fmt: skip
        orders.order_confirm(order_id=gift_order.pk)
        orders.order_confirm(order_id=pass_order.pk)
        punch = PunchPass.objects.get(order=pass_order)
        store.punch_pass_redeem(
            family=actor.family, pass_id=punch.pk, offering_id=offering.pk,
            meeting_date=offering.start_date, student_id=actor.student.pk,
        )  # fmt: skip
        store.punch_pass_void(pass_id=punch.pk)
        certificate = GiftCertificate.objects.get(order=gift_order)
        store.gift_certificate_void(certificate_id=certificate.pk)
        unpaid_gift = purchases.gift_certificate_buy(
            family=actor.family, amount=5000, recipient_name="Bo", recipient_email="b@x.test"
        )
        unpaid_pass = purchases.punch_pass_buy(family=actor.family, product_id=product.pk)
        orders.order_expire(order_id=unpaid_gift.pk, now=timezone.now() + timedelta(days=2))
        orders.order_expire(order_id=unpaid_pass.pk, now=timezone.now() + timedelta(days=2))
    assert PunchRedemption.objects.exists()


def staff_postings(actor, watch):
    from portal.billing import staff

    with watch():
        staff.ledger_charge_post(family_id=actor.family.pk, amount=2000, description="Leotard")
        staff.ledger_credit_post(family_id=actor.family.pk, amount=500, description="Goodwill")
        staff.offline_payment_record(family_id=actor.family.pk, amount=1500, method="cash")
    assert StaffPosting.objects.filter(family_id=actor.family.pk).count() == 3


def monthly_autopay(actor, watch):
    today = tenant_today()
    day = today.replace(day=min(today.day, 28))
    portal_settings_update(billing_day=day.day)
    start = day.replace(day=1) - timedelta(days=20)
    offering = make_offering(
        name="Team Gym", tuition=9500, tuition_billing="monthly", start_date=start,
        end_date=start + timedelta(days=200),
    )  # fmt: skip
    Enrollment.objects.create(
        family=actor.family, student=actor.student, offering=offering, status="active",
        start_date=start,
    )  # fmt: skip
    StripeCustomer.objects.create(family=actor.family, customer_id="cus_1")
    SavedPaymentMethod.objects.create(
        family=actor.family, stripe_payment_method_id="pm_1", brand="visa", last4="4242",
        is_default=True,
    )  # fmt: skip
    auto = {"id": "pi_auto", "object": "payment_intent", "status": "succeeded", "amount": 9500,
            "currency": "usd", "client_secret": "s"}  # fmt: skip
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stripe, watch():
        stripe.post(f"{STRIPE}/v1/payment_intents", json=auto)
        stripe.get(f"{STRIPE}/v1/payment_intents/pi_auto", json=auto)
        assert autopay.autopay_run(today=day) == {"billed": 1, "attempted": 1}
        charge = AutopayCharge.objects.get()
        autopay.autopay_attempt(charge_id=charge.pk)  # already paid: records nothing new
        from portal.orders.autopay_runs import autopay_retry

        AutopayCharge.objects.filter(pk=charge.pk).update(status="failed")
        autopay_retry(charge_id=charge.pk)
    assert charge.order.status == "confirmed"


SCENARIOS = {
    "checkout_with_tenders": (
        checkout_with_tenders,
        {
            "portal.billing.services.ledger_post",
            "portal.store.services.gift_certificate_issue",
            "portal.orders.services.checkout",
            "portal.orders.services.order_create",
            "portal.orders.tenders.tender_gift_certificate",
            "portal.orders.tenders.tender_account_credit",
            "portal.store.services.gift_certificate_draw",
        },
        {LedgerEntry, GiftCertificate, Order, OrderLine, OrderTender, Enrollment},
    ),
    "card_payment_and_refunds": (
        card_payment_and_refunds,
        {
            "portal.orders.payments.order_pay",
            "portal.orders.payments.order_refresh",
            "portal.orders.payments.order_payments_refresh",
            "portal.orders.payments.payment_refresh",
            "portal.billing.services.payment_apply_intent",
            "portal.orders.services.order_confirm_locked",
            "portal.enrollment.services.seats.enrollments_confirm",
            "portal.billing.services.ledger_record_order",
            "portal.orders.tenders.tenders_consume",
            "portal.billing.services.payment_refund",
            "portal.billing.staff.staff_payment_refund",
            "portal.billing.services.refunds_resume",
            "portal.billing.services.charge_refunded_sync",
            "portal.billing.services.dispute_flag",
        },
        {Payment, Refund, LedgerEntry, Order, Enrollment, RegistrationFeeCharge},
    ),
    "open_attempt_cancelled": (
        open_attempt_cancelled,
        {
            "portal.billing.services.payment_attempt_open",
            "portal.billing.services.payment_intent_send",
            "portal.billing.services.payment_cancel",
            "portal.orders.payments.card_attempt",
        },
        {Payment},
    ),
    "orders_lapse": (
        orders_lapse,
        {
            "portal.orders.services.orders_refresh",
            "portal.orders.services.order_expire",
            "portal.orders.services.order_expire_locked",
            "portal.orders.services.orders_expire_due",
            "portal.orders.tenders.tenders_release",
            "portal.store.services.gift_certificate_restore",
            "portal.enrollment.services.seats.expire_due",
            "portal.enrollment.services.seats.settle_offerings",
            "portal.enrollment.services.seats.settle",
            "portal.enrollment.services.seats.expire_lapsed",
        },
        {Order, OrderTender, GiftCertificate, Enrollment},
    ),
    "invoices_and_balance": (
        invoices_and_balance,
        {
            "portal.orders.services.invoice_create",
            "portal.orders.services.balance_order_create",
            "portal.orders.payments.balance_pay",
            "portal.billing.services.ledger_record_payment",
        },
        {Order, OrderLine, LedgerEntry, Payment},
    ),
    "seats_and_waitlists": (
        seats_and_waitlists,
        {
            "portal.enrollment.services.cart.cart_add",
            "portal.enrollment.services.cart.cart_refresh",
            "portal.enrollment.services.cart.cart_remove",
            "portal.enrollment.services.cart.cart_clear",
            "portal.enrollment.services.cart.cart_hold_again",
            "portal.enrollment.services.cart.staff_hold_delete",
            "portal.enrollment.services.cart.hold_expire_if_due",
            "portal.orders.services.order_confirm",
            # A free checkout (the "Team" class) writes its order and enrollment confirmed.
            "portal.orders.services.order_confirmed",
            "portal.enrollment.services.seats.enrollment_confirmed",
            "portal.enrollment.services.waitlist.waitlist_join",
            "portal.enrollment.services.waitlist.waitlist_accept",
            "portal.enrollment.services.waitlist.waitlist_decline",
            "portal.enrollment.services.waitlist.waitlist_advance_for",
            "portal.enrollment.services.seats.waitlist_offer_seats",
            "portal.enrollment.services.seats.offering_seats_changed",
            "portal.enrollment.services.seats.hold_release",
            "portal.enrollment.services.staff.enrollment_staff_drop",
            "portal.enrollment.services.staff.enrollment_staff_cancel",
            "portal.enrollment.services.staff.waitlist_staff_remove",
            "portal.enrollment.services.staff.waitlist_staff_move",
            "portal.enrollment.services.staff.waitlist_staff_offer",
            "portal.enrollment.services.seats.waitlist_offer_make",
        },
        {Order, OrderLine, Enrollment, WaitlistEntry},
    ),
    "family_requests": (
        family_requests,
        {
            "portal.requests.services.absence_request",
            "portal.requests.services.makeup_request",
            "portal.requests.services.drop_request",
            "portal.requests.services.request_cancel",
            "portal.requests.services.transfer_request",
            "portal.requests.services.request_decide",
            "portal.requests.services.makeup_tokens_expire",
        },
        {Request, MakeupToken, Enrollment, Order, OrderLine, LedgerEntry},
    ),
    "attendance_marks": (
        attendance_marks,
        {
            "portal.attendance.services.attendance_mark",
            "portal.attendance.services.attendance_mark_all_present",
            "portal.requests.tokens.makeup_token_for_absence",
        },
        {Attendance, MakeupToken},
    ),
    "store_purchases": (
        store_purchases,
        {
            "portal.store.purchases.gift_certificate_buy",
            "portal.store.purchases.punch_pass_buy",
            "portal.store.purchases.gift_certificate_buy_as_visitor",
            # Confirming an order only activates what it bought (docs/rush.md, "Checkout
            # profile"): certificates and passes are activated by these orders' confirmations.
            "portal.store.services.gift_certificates_activate",
            "portal.store.services.punch_passes_activate",
            "portal.store.services.punch_pass_redeem",
            "portal.store.services.punch_pass_void",
            "portal.store.services.gift_certificate_void",
            "portal.store.services.gift_certificates_void_unpaid",
            "portal.store.services.punch_passes_void_unpaid",
        },
        {Order, OrderLine, GiftCertificate, PunchPass, PunchRedemption, Enrollment, Payment},
    ),
    "staff_postings": (
        staff_postings,
        {
            "portal.billing.staff.ledger_charge_post",
            "portal.billing.staff.ledger_credit_post",
            "portal.billing.staff.offline_payment_record",
        },
        {StaffPosting, LedgerEntry},
    ),
    "monthly_autopay": (
        monthly_autopay,
        {
            "portal.orders.autopay.autopay_run",
            "portal.orders.autopay.autopay_attempt",
            "portal.orders.autopay_runs.autopay_retry",
        },
        {AutopayCharge, Order, OrderLine, LedgerEntry, Payment},
    ),
}


def test_every_public_service_function_is_listed():
    listed = set(READERS)
    for _, functions, _ in SCENARIOS.values():
        assert not functions & listed, functions & listed
        listed |= functions
    public = _public_functions()
    assert public - listed == set(), "new service functions: list them in SCENARIOS or READERS"
    assert listed - public == set(), "listed functions that no longer exist"


def test_every_tracked_model_is_seen_by_some_scenario():
    seen = set().union(*(models for _, _, models in SCENARIOS.values()))
    assert {m._meta.label for m in TRACKED - seen} == set()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_money_change_leaves_its_audit_rows(name, money):
    scenario, functions, models = SCENARIOS[name]
    watch = Watch()
    scenario(money, watch)
    assert functions - watch.called == set(), "not called"
    missing = {m._meta.label for m in models} - {m._meta.label for m in watch.events}
    assert missing == set(), (missing, {m._meta.label: v for m, v in watch.events.items()})
