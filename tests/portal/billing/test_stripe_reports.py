"""Payouts and fees read from Stripe for the business's connected account, from recorded
responses (the offline Stripe stand-in has no payouts or balance transactions)."""

import pytest
import responses
from django.db import connection
from django.test import override_settings

from kernel.errors import ApplicationError
from portal.billing.stripe_reports import balance_transactions_list, payouts_list
from tenants.models import Tenant
from tests.portal.billing_helpers import STRIPE

pytestmark = pytest.mark.django_db

# Shaped like Stripe's answers (API 2025-09-30), trimmed to the fields we read and a few more.
PAYOUTS = {
    "object": "list",
    "url": "/v1/payouts",
    "has_more": True,
    "data": [
        {
            "id": "po_1",
            "object": "payout",
            "amount": 48210,
            "arrival_date": 1780531200,  # 2026-06-04 00:00 UTC: the 3rd in New York
            "created": 1780358400,
            "currency": "usd",
            "method": "standard",
            "status": "paid",
            "type": "bank_account",
            "description": "STRIPE PAYOUT",
            "failure_message": None,
        }
    ],
}
BALANCE = {
    "object": "list",
    "url": "/v1/balance_transactions",
    "has_more": False,
    "data": [
        {
            "id": "txn_1",
            "object": "balance_transaction",
            "amount": 12000,
            "available_on": 1780531200,
            "created": 1780358400,
            "currency": "usd",
            "description": "Payment for order 7",
            "fee": 678,
            "fee_details": [
                {"amount": 378, "currency": "usd", "description": "Stripe processing fees",
                 "type": "stripe_fee", "application": None},
                {"amount": 300, "currency": "usd", "description": "Platform fee",
                 "type": "application_fee", "application": "ca_1"},
            ],
            "net": 11322,
            "reporting_category": "charge",
            "status": "available",
            "type": "charge",
        },
        {
            "id": "txn_2",
            "object": "balance_transaction",
            "amount": -4000,
            "available_on": 1780531200,
            "created": 1780358400,
            "currency": "usd",
            "description": "REFUND FOR CHARGE",
            "fee": 0,
            "fee_details": [],
            "net": -4000,
            "reporting_category": "refund",
            "status": "available",
            "type": "refund",
        },
    ],
}  # fmt: skip


@pytest.fixture
def connected(in_tenant_a):
    Tenant.objects.filter(pk=in_tenant_a.pk).update(stripe_account_id="acct_alpha")
    in_tenant_a.stripe_account_id = "acct_alpha"
    connection.set_tenant(in_tenant_a)
    with override_settings(STRIPE_SECRET_KEY="sk_test_platform", STRIPE_MAX_NETWORK_RETRIES=0):
        yield in_tenant_a


@responses.activate
def test_payouts_come_from_the_connected_account_and_are_cached(connected):
    responses.get(f"{STRIPE}/v1/payouts", json=PAYOUTS)
    first = payouts_list(limit=10, refresh=True)
    (payout,) = first["payouts"]
    assert (payout["id"], payout["amount"], payout["currency"], payout["status"]) == (
        "po_1",
        48210,
        "USD",
        "paid",
    )
    assert str(payout["arrival_date"]) == "2026-06-03"  # the business's day (New York)
    assert first["has_more"] is True
    (call,) = responses.calls
    assert call.request.headers["Stripe-Account"] == "acct_alpha"
    assert "limit=10" in call.request.url
    assert payouts_list(limit=10) == first and len(responses.calls) == 1  # cached
    payouts_list(limit=10, refresh=True)
    assert len(responses.calls) == 2


@responses.activate
def test_fees_are_split_into_stripes_and_the_platforms(connected):
    responses.get(f"{STRIPE}/v1/balance_transactions", json=BALANCE)
    page = balance_transactions_list(payout="po_1", refresh=True)
    assert "payout=po_1" in responses.calls[0].request.url
    assert [t["type"] for t in page["transactions"]] == ["charge", "refund"]
    assert page["totals"] == {
        "amount": 8000,
        "fee": 678,
        "net": 7322,
        "stripe_fee": 378,
        "application_fee": 300,
    }


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"starting_after": "po_1; drop"}, "starting_after"),
        ({"starting_after": "x" * 65}, "starting_after"),
        ({"payout": "txn_1"}, "payout"),
    ],
)
def test_bad_paging_is_refused_before_stripe_is_called(connected, kwargs, field):
    with responses.RequestsMock() as mock:
        with pytest.raises(ApplicationError) as caught:
            balance_transactions_list(**kwargs)
        assert len(mock.calls) == 0
    assert caught.value.code == "invalid_filter" and field in caught.value.fields


def test_without_a_connected_account_there_is_nothing_to_read(in_tenant_a):
    with (
        override_settings(STRIPE_SECRET_KEY="sk_test_platform"),
        pytest.raises(ApplicationError) as caught,
    ):
        payouts_list()
    assert (caught.value.code, caught.value.status) == ("payments_not_configured", 409)


@responses.activate
def test_stripe_down_is_a_502(connected):
    responses.get(f"{STRIPE}/v1/payouts", status=500, json={"error": {"type": "api_error"}})
    with pytest.raises(ApplicationError) as caught:
        payouts_list(refresh=True)
    assert (caught.value.code, caught.value.status) == ("payment_provider_error", 502)
