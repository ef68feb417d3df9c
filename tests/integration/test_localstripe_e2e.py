"""Order -> pay -> webhook -> enrolled, end to end against localstripe, a stateful fake Stripe
server (GPL: it only ever runs as a separate process, never imported).

The app talks to localstripe over real HTTP through a small recording proxy started here. The
proxy drops the PaymentIntent parameters localstripe does not implement (it answers 400
"Unexpected ..." for them) and keeps what the app sent, so the test can still check the
Connect header, the idempotency key and those parameters. localstripe ignores Stripe-Account,
so the connected account is only checked on the recorded requests.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

import pytest
import stripe
from django.db import connection
from django.test import override_settings

from portal.billing import gateway
from portal.billing.models import Payment
from portal.enrollment import services as enrollment
from portal.enrollment.models import Enrollment, Order
from portal.orders import services as orders
from tenants.models import Tenant
from tests.helpers import client_for
from tests.localstripe import KEY
from tests.portal.enrollment_helpers import make_offering

pytestmark = [pytest.mark.django_db, pytest.mark.integration]
API = "/api/v1"
WEBHOOK_SECRET = "whsec_test"
# PaymentIntent parameters localstripe 1.15 rejects; the app no longer sends them (both are
# optional with the pinned API version), the proxy still strips them should they come back.
UNSUPPORTED = {"/v1/payment_intents": ("description", "automatic_payment_methods")}
FORWARDED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Stripe-Version",
    "Stripe-Account",
    "Idempotency-Key",
)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    form: dict


@dataclass
class StripeProxy:
    url: str
    calls: list[Recorded] = field(default_factory=list)


@pytest.fixture(scope="module")
def stripe_proxy(localstripe):
    """The app's STRIPE_API_BASE: forwards to localstripe, records each request."""
    proxy = StripeProxy(url="")

    class Handler(BaseHTTPRequestHandler):
        def _forward(self):
            path = self.path.partition("?")[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {h: self.headers[h] for h in FORWARDED_HEADERS if h in self.headers}
            pairs = parse_qsl(body.decode(), keep_blank_values=True)
            proxy.calls.append(Recorded(self.command, path, headers, dict(pairs)))
            dropped = UNSUPPORTED.get(path, ()) if self.command == "POST" else ()
            if dropped:
                pairs = [(k, v) for k, v in pairs if not k.startswith(dropped)]
                body = urlencode(pairs).encode()
            request = urllib.request.Request(  # noqa: S310 (the local localstripe URL)
                f"{localstripe}{self.path}",
                data=body if self.command != "GET" else None,
                headers=headers,
                method=self.command,
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as upstream:  # noqa: S310
                    status, payload = upstream.status, upstream.read()
                    content_type = upstream.headers.get("Content-Type", "application/json")
            except urllib.error.HTTPError as exc:
                status, payload = exc.code, exc.read()
                content_type = exc.headers.get("Content-Type", "application/json")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _forward

        def log_message(self, format, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def stripe_settings(stripe_proxy):
    gateway._client.cache_clear()
    with override_settings(
        STRIPE_SECRET_KEY=KEY,
        STRIPE_API_BASE=stripe_proxy.url,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_APPLICATION_FEE_BPS=0,  # localstripe rejects application_fee_amount
    ):
        yield
    gateway._client.cache_clear()


def deliver_event(event_type: str, obj: dict, *, account: str, event_id: str):
    """POST a Stripe-signed event to the platform's webhook on the root host."""
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "account": account,
            "data": {"object": obj},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    return client_for(None).post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


@pytest.fixture
def connected(family_a):
    Tenant.objects.filter(pk=family_a.tenant.pk).update(stripe_account_id="acct_alpha")
    family_a.tenant.stripe_account_id = "acct_alpha"
    connection.set_tenant(family_a.tenant)
    return family_a


def test_order_pay_webhook_enrolls_against_localstripe(
    localstripe, stripe_proxy, stripe_settings, connected, django_capture_on_commit_callbacks
):
    family = connected
    offering = make_offering(tuition=12000, registration_fee=0, name="Rec Gym")
    enrollment.cart_add(family=family.family, student_id=family.student.pk, offering_id=offering.pk)
    order = orders.checkout(family=family.family)
    assert order.status == "awaiting_payment"

    # The family starts paying: the app creates the PaymentIntent in localstripe.
    before = len(stripe_proxy.calls)
    response = family.client().post(f"{API}/orders/{order.pk}/pay")
    assert response.status_code == 201, response.content
    assert response.json()["client_secret"]
    (create,) = stripe_proxy.calls[before:]
    assert (create.method, create.path) == ("POST", "/v1/payment_intents")
    assert create.headers["Stripe-Account"] == "acct_alpha"
    assert create.headers["Idempotency-Key"] == f"alpha:order-pay:{order.pk}:1"
    assert create.form["amount"] == "12000"
    assert "automatic_payment_methods[enabled]" not in create.form  # on by default
    assert "application_fee_amount" not in create.form
    payment = Payment.objects.get(order=order)
    pi_id = payment.stripe_payment_intent_id
    assert response.json()["client_secret"] == payment.client_secret

    stripe_server = stripe.StripeClient(
        KEY, base_addresses={"api": localstripe}, max_network_retries=0
    )
    intent = stripe_server.v1.payment_intents.retrieve(pi_id)
    assert intent.amount == 12000 and intent.currency == "usd"
    assert intent.client_secret == payment.client_secret
    assert intent.metadata["order_id"] == str(order.pk)
    assert intent.status == "requires_payment_method"

    # The browser: a card, set on the PaymentIntent, then confirmed (localstripe does not
    # implement confirming with a payment_method parameter).
    method = stripe_server.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {
                "number": "4242424242424242",
                "exp_month": 12,
                "exp_year": date.today().year + 3,
                "cvc": "123",
            },
        }
    )
    stripe_server.v1.payment_intents.update(pi_id, params={"payment_method": method.id})
    confirmed = stripe_server.v1.payment_intents.confirm(pi_id)
    assert confirmed.status == "succeeded"
    assert stripe_server.v1.payment_intents.retrieve(pi_id).status == "succeeded"

    # Stripe tells the platform; the app's task re-fetches the PaymentIntent over HTTP.
    before = len(stripe_proxy.calls)
    with django_capture_on_commit_callbacks(execute=True):
        delivered = deliver_event(
            "payment_intent.succeeded",
            {"id": pi_id, "object": "payment_intent"},
            account="acct_alpha",
            event_id=f"evt_{pi_id}",
        )
    assert delivered.status_code == 200 and delivered.json() == {"received": True}
    refetch = stripe_proxy.calls[before:]
    assert [(c.method, c.path) for c in refetch] == [("GET", f"/v1/payment_intents/{pi_id}")]
    assert refetch[0].headers["Stripe-Account"] == "acct_alpha"

    connection.set_tenant(family.tenant)
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert Order.objects.get(pk=order.pk).status == "confirmed"
    assert Enrollment.objects.get(order=order).status == "active"
    ledger = family.client().get(f"{API}/ledger?period=all")
    assert ledger.status_code == 200, ledger.content
    assert [(e["kind"], e["amount"], e["balance"]) for e in ledger.json()["entries"]] == [
        ("charge", 12000, 12000),
        ("payment", -12000, 0),
    ]
    assert ledger.json()["balance"] == 0

    # Paying again is refused and creates nothing in localstripe.
    before = len(stripe_proxy.calls)
    again = family.client().post(f"{API}/orders/{order.pk}/pay")
    assert again.status_code == 409, again.content
    assert again.json()["code"] == "order_already_paid"
    assert len(stripe_proxy.calls) == before
