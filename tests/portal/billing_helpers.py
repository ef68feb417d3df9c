"""Stripe as the billing tests see it: the API address `responses` mocks, PaymentIntent
bodies, webhook events signed with the stripe library's own helper, and their delivery to the
platform's webhook endpoint."""

from __future__ import annotations

import json

import stripe

from tests.helpers import client_for

STRIPE = "https://api.stripe.com"
SECRET = "whsec_test_secret"


def intent(pi_id="pi_1", status="requires_payment_method", amount=12000, **extra):
    return {
        "id": pi_id,
        "object": "payment_intent",
        "client_secret": f"{pi_id}_secret_x",
        "status": status,
        "amount": amount,
        "currency": "usd",
        **extra,
    }


def signed_event(event_type, obj, account="acct_alpha", event_id="evt_1", timestamp=None):
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "account": account,
            "data": {"object": obj},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp=timestamp)
    return payload, header


def deliver(payload, header):
    return client_for(None).post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
