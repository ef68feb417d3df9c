"""Clients of other services that give their thread's running place back while they wait
(``kernel.cpu_slots``): a request waiting on Stripe costs the server no running place."""

from __future__ import annotations

from typing import Any

import stripe

from kernel.cpu_slots import waiting_on_network


class StripeHTTPClient(stripe.RequestsClient):
    """stripe's default client (requests), each call and its retries as a network wait."""

    def request_with_retries(self, *args: Any, **kwargs: Any) -> Any:
        with waiting_on_network():
            return super().request_with_retries(*args, **kwargs)

    def request_stream_with_retries(self, *args: Any, **kwargs: Any) -> Any:
        with waiting_on_network():
            return super().request_stream_with_retries(*args, **kwargs)


def stripe_client(key: str, **options: Any) -> stripe.StripeClient:
    """A StripeClient whose calls wait on the network as above."""
    return stripe.StripeClient(key, http_client=StripeHTTPClient(), **options)
