"""DRF rate limits keyed by the client address of ``kernel.client_address``.

DRF's own ``get_ident`` trusts ``X-Forwarded-For`` as the client sends it unless ``NUM_PROXIES``
is set, so rotating the header gave unlimited sign-ups and reset emails. Every throttle the
project uses derives from :class:`ClientAddressThrottleMixin` (tests/saas_platform checks)."""

from __future__ import annotations

from rest_framework import throttling

from kernel.client_address import client_address


class ClientAddressThrottleMixin:
    def get_ident(self, request) -> str:
        return client_address(request) or "unknown"


class ScopedRateThrottle(ClientAddressThrottleMixin, throttling.ScopedRateThrottle):
    pass


class SimpleRateThrottle(ClientAddressThrottleMixin, throttling.SimpleRateThrottle):
    pass
