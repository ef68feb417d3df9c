"""Calls to Stripe and to S3 give their thread's running place back while they wait
(kernel.cpu_slots, kernel.network, kernel.storage): the production worker lets fewer threads
run than wait, so a payment waiting on Stripe does not keep a checkout from computing."""

from __future__ import annotations

import io

import pytest

from kernel import cpu_slots
from kernel.network import stripe_client
from kernel.storage import MediaS3Storage
from portal.billing import gateway
from tests.localstripe import KEY

pytestmark = pytest.mark.integration


@pytest.fixture
def places():
    """Bind a recorder as the worker would: what the code gave back and took again."""
    calls: list[str] = []
    cpu_slots.bind(lambda: calls.append("release"), lambda: calls.append("take"))
    yield calls
    cpu_slots.unbind()


def test_a_stripe_call_waits_on_the_network_without_a_running_place(localstripe, places):
    client = stripe_client(KEY, base_addresses={"api": localstripe}, max_network_retries=0)
    customer = client.v1.customers.create(params={"email": "wait@example.test"})
    assert customer.id.startswith("cus_")
    assert places == ["release", "take"]


def test_a_failed_stripe_call_takes_its_place_again(places):
    client = stripe_client(KEY, base_addresses={"api": "http://127.0.0.1:9"}, max_network_retries=0)
    with pytest.raises(Exception):  # noqa: B017 - stripe's connection error, whatever its class
        client.v1.customers.create(params={"email": "down@example.test"})
    assert places == ["release", "take"]


def test_the_payments_gateway_uses_the_waiting_client(settings, localstripe, places):
    settings.STRIPE_SECRET_KEY = KEY
    settings.STRIPE_API_BASE = localstripe
    gateway.client().v1.customers.create(params={"email": "gw@example.test"})
    assert places == ["release", "take"]


def test_media_storage_waits_on_s3_without_a_running_place(s3_storage, places):
    server = s3_storage.server
    storage = MediaS3Storage(
        bucket_name=s3_storage.name,
        endpoint_url=server.endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region_name="us-east-1",
        signature_version="s3v4",
        addressing_style="path",
        querystring_auth=False,
        file_overwrite=False,
    )
    name = storage.save("acme/students/1-photo.jpg", io.BytesIO(b"jpeg bytes"))
    with storage.open(name) as handle:
        assert handle.read() == b"jpeg bytes"
    storage.delete(name)
    assert places == ["release", "take"] * 3
    assert not storage.exists(name)
