"""The client address: derived from X-Forwarded-For only as far as the trusted proxies, by one
helper that every caller uses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from kernel.api.throttling import ClientAddressThrottleMixin
from kernel.client_address import client_address, derive, parse_address
from tests.helpers import api_routes

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("saas_platform", "tenants", "portal", "portal_api", "portal_web", "theming")


@pytest.mark.parametrize(
    "remote, xff, expected",
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # no proxy trusted: the header is ignored
        ("::ffff:203.0.113.9", None, "203.0.113.9"),
        ("", None, None),
        ("garbage", "1.2.3.4", None),
    ],
)
def test_without_trusted_proxies_only_remote_addr_counts(remote, xff, expected):
    with override_settings(TRUSTED_PROXY_COUNT=0, TRUSTED_PROXY_CIDRS=[]):
        assert derive(remote, xff) == expected


@pytest.mark.parametrize(
    "count, xff, expected",
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # The client wrote the first entry itself; the proxy appended what it saw.
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6,7.7.7.7 , 198.51.100.7", "198.51.100.7"),
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.5", "198.51.100.7"),
        (1, None, "10.0.0.2"),  # did not pass the proxy: REMOTE_ADDR
        (2, "198.51.100.7", "10.0.0.2"),  # fewer hops than proxies: REMOTE_ADDR
        (1, "6.6.6.6, not-an-address", "10.0.0.2"),  # garbage where the proxy writes
        (1, "6.6.6.6, 198.51.100.7:4711", "198.51.100.7"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_a_proxy_count_reads_that_many_entries_from_the_right(count, xff, expected):
    with override_settings(TRUSTED_PROXY_COUNT=count, TRUSTED_PROXY_CIDRS=[]):
        assert derive("10.0.0.2", xff) == expected


@pytest.mark.parametrize(
    "remote, xff, count, expected",
    [
        # REMOTE_ADDR is not one of our proxies: whatever the header says is ignored.
        ("203.0.113.9", "198.51.100.7", 0, "203.0.113.9"),
        ("10.0.0.2", "198.51.100.7", 0, "198.51.100.7"),
        # Two proxies of ours (10.x), the client before them; the forged entry is never reached.
        ("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9", 0, "198.51.100.7"),
        # Every hop ours: the left-most.
        ("10.0.0.2", "10.0.0.8, 10.0.0.9", 0, "10.0.0.8"),
        # With a count as well, at most that many entries are consumed.
        ("10.0.0.2", "198.51.100.7, 10.0.0.9", 1, "10.0.0.9"),
        ("10.0.0.2", "6.6.6.6, bogus", 0, "10.0.0.2"),
    ],
)
def test_trusted_networks_walk_back_over_our_own_proxies_only(remote, xff, count, expected):
    with override_settings(TRUSTED_PROXY_COUNT=count, TRUSTED_PROXY_CIDRS=["10.0.0.0/8"]):
        assert derive(remote, xff) == expected


def test_parse_address_refuses_what_is_not_an_address():
    for value in ("", "x", "1.2.3", "1.2.3.4.5", "a" * 200, "[::1", "1.2.3.4:80:90", "\x00"):
        assert parse_address(value) is None, value


def test_client_address_reads_the_request_and_unwraps_drf_requests():
    from rest_framework.request import Request

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    with override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXY_CIDRS=[]):
        assert client_address(Request(request)) == "198.51.100.7"
        assert client_address(request) == "198.51.100.7"
    assert client_address(None) is None


def _reads_of_the_raw_headers() -> list[str]:
    """Every string literal naming REMOTE_ADDR or the forwarding header, outside the helper."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "client_address.py" or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    value = node.value.upper().replace("-", "_")
                    if value in {"REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "X_FORWARDED_FOR"}:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_module_but_the_helper_reads_remote_addr_or_the_forwarding_header():
    assert _reads_of_the_raw_headers() == []


@pytest.mark.parametrize(
    "urlconf, prefix",
    [("saas_platform.urls_tenant", "/api/v1/"), ("saas_platform.urls_public", "/api/platform/v1/")],
)
def test_every_rate_limited_route_counts_per_derived_client_address(urlconf, prefix):
    limited = 0
    for path, view in api_routes(urlconf, prefix).items():
        for throttle in getattr(getattr(view, "cls", None), "throttle_classes", []):
            assert issubclass(throttle, ClientAddressThrottleMixin), (path, throttle)
            limited += 1
    assert limited >= 1
