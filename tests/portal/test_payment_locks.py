"""No network call while holding a row lock (issue 15): paying an order, refunding a payment
and autopay record their attempt, commit, call Stripe, and record the answer in a new
transaction. Against a Stripe stand-in that answers after a delay, the rows they touch can be
locked by others meanwhile (``FOR UPDATE NOWAIT`` succeeds) and other families check out on the
same offering while the call is still in flight."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import date, timedelta
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.accounts.models import Family, Student
from portal.billing.models import AutopayCharge, Payment, SavedPaymentMethod, StripeCustomer
from portal.catalog.models import Offering, Program
from portal.enrollment import services as enrollment
from portal.enrollment.models import Order
from portal.orders import autopay, payments
from portal.orders import services as orders
from tenants.models import Tenant
from tenants.services import tenant_provision

pytestmark = pytest.mark.integration
DELAY = 2.0


class SlowStripe:
    """PaymentIntents and refunds, answered after ``DELAY`` seconds; ``called`` is set when a
    slow request arrives and ``answered`` once it has been answered."""

    def __init__(self) -> None:
        self.intents: dict[str, dict] = {}
        self.called = threading.Event()
        self.answered = threading.Event()
        stripe = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                stripe.called.set()
                time.sleep(DELAY)
                if self.path == "/v1/refunds":
                    body = {"id": f"re_{len(stripe.intents)}", "object": "refund"}
                    body["amount"] = int(form["amount"])
                else:
                    body = {
                        "id": f"pi_{len(stripe.intents) + 1}",
                        "object": "payment_intent",
                        "status": "succeeded",
                        "amount": int(form["amount"]),
                        "currency": "usd",
                        "client_secret": "secret",
                    }
                    stripe.intents[body["id"]] = body
                self._reply(body)
                stripe.answered.set()

            def do_GET(self):
                self._reply(stripe.intents[self.path.rsplit("/", 1)[-1]])

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        self.called.clear()
        self.answered.clear()


@pytest.fixture
def slow_stripe():
    stripe = SlowStripe()
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_platform",
        STRIPE_API_BASE=stripe.url,
        STRIPE_MAX_NETWORK_RETRIES=0,
    ):
        yield stripe
    stripe.server.shutdown()


@pytest.fixture
def shop(committed):
    committed.append("locks")
    tenant = tenant_provision(slug="locks", name="Locks Gym", owner_email="o@locks.test").tenant
    Tenant.objects.filter(pk=tenant.pk).update(
        stripe_account_id="acct_locks", stripe_charges_enabled=True
    )
    tenant.refresh_from_db()
    with tenant_context(tenant):
        program = Program.objects.create(name="Gym")
        start = timezone.localdate() + timedelta(days=10)
        offering = Offering.objects.create(
            name="Busy class",
            program=program,
            capacity=10,
            start_date=start,
            end_date=start + timedelta(weeks=6),
            start_time=clock(16),
            end_time=clock(17),
            weekdays=[start.weekday()],
            tuition=5000,
        )
    connection.set_schema_to_public()
    return tenant, offering


def _family(name: str, card: bool = True) -> tuple[Family, Student]:
    family = Family.objects.create(name=name)
    student = Student.objects.create(
        family=family, first_name=name, last_name="X", date_of_birth=date(2015, 5, 5)
    )
    if card:
        StripeCustomer.objects.create(family=family, customer_id=f"cus_{name}")
        SavedPaymentMethod.objects.create(
            family=family, stripe_payment_method_id=f"pm_{name}", is_default=True
        )
    return family, student


def _in_thread(tenant, fn) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run():
        try:
            connection.set_tenant(tenant)
            out["result"] = fn()
        except Exception as exc:  # reported by the test's assertions
            out["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _lockable(model, pk) -> bool:
    """Another transaction can lock the row at once (nobody holds it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {model._meta.db_table} WHERE id = %s FOR UPDATE NOWAIT",
            [pk],
        )
        return cursor.fetchone() is not None


def test_paying_with_a_saved_card_holds_no_lock_while_stripe_answers(shop, slow_stripe):
    tenant, offering = shop
    with tenant_context(tenant):
        payer, kid = _family("payer")
        other, other_kid = _family("other")
        enrollment.cart_add(family=payer, student_id=kid.pk, offering_id=offering.pk)
        order = orders.checkout(family=payer)
        method = SavedPaymentMethod.objects.get(family=payer)
    thread, out = _in_thread(
        tenant,
        lambda: payments.order_pay(family=payer, order_id=order.pk, saved_method_id=method.pk),
    )
    assert slow_stripe.called.wait(10)
    with tenant_context(tenant):
        assert _lockable(Order, order.pk)
        assert _lockable(Payment, Payment.objects.get(order=order).pk)
        assert _lockable(Offering, offering.pk)
        # Another family checks out on the same offering while Stripe is still thinking.
        enrollment.cart_add(family=other, student_id=other_kid.pk, offering_id=offering.pk)
        theirs = orders.checkout(family=other)
        assert theirs.status == "awaiting_payment"
    assert not slow_stripe.answered.is_set(), "the call had already returned: nothing was proven"
    thread.join(30)
    assert "error" not in out, out
    with tenant_context(tenant):
        order.refresh_from_db()
        assert order.status == "confirmed"
        assert Payment.objects.get(order=order).status == "succeeded"


def test_a_refund_holds_no_lock_while_stripe_answers(shop, slow_stripe):
    tenant, offering = shop
    with tenant_context(tenant):
        payer, kid = _family("refunded")
        enrollment.cart_add(family=payer, student_id=kid.pk, offering_id=offering.pk)
        order = orders.checkout(family=payer)
        method = SavedPaymentMethod.objects.get(family=payer)
    thread, _ = _in_thread(
        tenant,
        lambda: payments.order_pay(family=payer, order_id=order.pk, saved_method_id=method.pk),
    )
    thread.join(30)
    with tenant_context(tenant):
        payment = Payment.objects.get(order=order, status="succeeded")
    slow_stripe.reset()
    from portal.billing.services import payment_refund

    thread, out = _in_thread(tenant, lambda: payment_refund(payment_id=payment.pk, amount=1000))
    assert slow_stripe.called.wait(10)
    with tenant_context(tenant):
        assert _lockable(Payment, payment.pk)
        assert _lockable(Order, order.pk)
    assert not slow_stripe.answered.is_set()
    thread.join(30)
    assert "error" not in out, out
    with tenant_context(tenant):
        payment.refresh_from_db()
        assert payment.amount_refunded == 1000
        assert payment.refunds.get().status == "succeeded"


def test_autopay_holds_no_lock_while_stripe_answers(shop, slow_stripe):
    tenant, _ = shop
    with tenant_context(tenant):
        family, _ = _family("monthly")
        from portal.enrollment.models import OrderLine
        from portal.enrollment.pricing import Line

        with transaction.atomic():
            invoice = orders.invoice_create(
                family=family,
                kind="tuition",
                lines=[Line(OrderLine.Kind.TUITION, "Team — May", 9500)],
                idempotency_key="autopay:2026-05",
                period=date(2026, 5, 1),
            )
        charge = AutopayCharge.objects.get(order=invoice)
    thread, out = _in_thread(tenant, lambda: autopay.autopay_attempt(charge_id=charge.pk))
    assert slow_stripe.called.wait(10)
    with tenant_context(tenant):
        assert _lockable(AutopayCharge, charge.pk)
        assert _lockable(Order, invoice.pk)
        # A second run meanwhile sees the attempt claimed and does not charge again.
        assert autopay.autopay_attempt(charge_id=charge.pk) == "in progress"
    assert not slow_stripe.answered.is_set()
    thread.join(30)
    assert out.get("result") == "succeeded", out
    with tenant_context(tenant):
        charge.refresh_from_db()
        assert (charge.status, charge.attempts) == ("succeeded", 1)
        assert len(slow_stripe.intents) == 1
