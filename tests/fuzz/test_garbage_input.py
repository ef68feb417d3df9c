"""Garbage input is a 4xx, never a 5xx, on every route of both URL maps (tenant and platform,
web pages, the admin and the API, path parameters filled): NUL bytes in the path, the query
string and form fields, lone surrogates in JSON strings, JSON nested thousands deep, wrong
types inside nested fields, non-JSON bodies, and a form post with every field garbage. Each is
sent anonymously and with a family's and a staff member's credentials. A NUL in the query
string is always exactly 400."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django_tenants.utils import tenant_context

from kernel.users.models import User
from kernel.users.services import api_token_issue
from tests.factories import PASSWORD
from tests.helpers import host_of, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "1", "uuid": "0" * 32,
           "isodate": "2026-01-05"}  # fmt: skip
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
SURROGATE = '{"email": "\\ud800@x.test", "name": "\\udfff", "password": "\\ud83d", "q": "\\ud800"}'
NUL_JSON = '{"email": "a\\u0000@x.test", "name": "\\u0000", "password": "x\\u0000y"}'
WRONG_TYPES = (
    '{"font": [1], "email": [1], "password": {"a": 1}, "name": [[]], "first_name": {}, '
    '"policies": [{"policy": [1], "version": {}}], "students": {"x": 1}, "amount": "lots", '
    '"offering": [1], "student": {"id": 1}, "items": 7, "device": [null], "token": [1], '
    '"confirm": [true], "primary": [1], "corner_radius": "round", "date": 20260101}'
)
GARBAGE_FORM = {"email": "a\x00b", "password": "\x00", "name": "\x00", "q": "\x00"}


def _routes(urlconf: str) -> tuple[list[str], int]:
    """Every route as a concrete path (converters filled with samples), and how many regex
    routes were left out (the admin's per-app index, which its own pages link to)."""
    paths: list[str] = []
    skipped = 0

    def walk(patterns, base: str, regex: bool) -> None:
        nonlocal skipped
        for pattern in patterns:
            is_route = isinstance(pattern.pattern, RoutePattern)
            route = str(pattern.pattern)
            if not is_route and route not in ("^", ""):
                literal = route.lstrip("^").rstrip("$")
                if re.search(r"[\\(\[\]|?*+]", literal):
                    skipped += 1
                    continue
                route = literal
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, base + route, regex)
            elif isinstance(pattern, URLPattern):
                paths.append(
                    "/"
                    + re.sub(
                        r"<(?:(\w+):)?\w+>",
                        lambda m: SAMPLES.get(m.group(1) or "str", "x"),
                        base + route,
                    )
                )

    walk(get_resolver(urlconf).url_patterns, "", False)
    # Signing out ends the session the clients carry: the sign-out routes go last, so every
    # other route is tried with the family's and the staff member's session still signed in.
    return sorted(set(paths), key=lambda path: ("logout" in path, path)), skipped


def _clients(tenant) -> dict[str, Client]:
    with tenant_context(tenant):
        from tests.factories import GuardianFactory

        guardian = GuardianFactory(email="fuzz-parent@alpha.test")
        _, family_token = api_token_issue(user=guardian.user, name="fuzz")
        staff = User.objects.create_user(
            email="fuzz-staff@alpha.test", password=PASSWORD, is_staff=True, is_superuser=True
        )
        _, staff_token = api_token_issue(user=staff, name="fuzz")
    connection.set_schema_to_public()
    family_web = signed_in(tenant, "fuzz-parent@alpha.test")
    staff_web = signed_in(tenant, "fuzz-staff@alpha.test")
    connection.set_schema_to_public()
    host = host_of(tenant)
    return {
        "visitor": Client(HTTP_HOST=host),
        "family token": Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {family_token}"),
        "staff token": Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {staff_token}"),
        "family session": family_web,
        "staff session": staff_web,
    }


def _attacks(path: str):
    yield "GET NUL query", "get", {"path": f"{path}?q=%00&email=a%00b&page=%00"}, 400
    yield "GET NUL path", "get", {"path": path + "%00"}, None
    yield "POST NUL form", "post", {"path": path, "data": GARBAGE_FORM}, None
    for name, body in (
        ("surrogates", SURROGATE),
        ("NUL in JSON", NUL_JSON),
        ("deep array", DEEP),
        ("deep object", DEEP_OBJECT),
        ("wrong types", WRONG_TYPES),
        ("not JSON", "{'a': 1,"),
        ("NaN", '{"amount": NaN}'),
    ):
        for method in ("post", "patch") if path.startswith("/api/") else ("post",):
            yield (
                f"{method.upper()} {name}",
                method,
                {"path": path, "data": body, "content_type": "application/json"},
                None,
            )


def _fuzz(clients: dict[str, Client], paths: list[str], stats: Counter) -> list[str]:
    failures = []
    for path in paths:
        api = path.startswith("/api/")
        for who, client in clients.items():
            if ("token" in who and not api) or ("session" in who and api and "staff" in who):
                continue  # tokens mean nothing to pages; the family session covers the API
            for name, method, kwargs, expected in _attacks(path):
                request = dict(kwargs)
                target = request.pop("path")
                try:
                    response = getattr(client, method)(target, **request)
                except Exception as exc:  # an exception through the test client is a 500
                    failures.append(f"{who} {name} {target}: raised {exc!r}")
                    continue
                stats[response.status_code // 100 * 100] += 1
                if response.status_code >= 500:
                    failures.append(f"{who} {name} {target}: {response.status_code}")
                elif expected is not None and response.status_code != expected:
                    failures.append(f"{who} {name} {target}: {response.status_code} != {expected}")
                connection.set_schema_to_public()
    return failures


# The tenant routes are split into shards, every shard its own test, so the run's workers
# share the ~40 s of requests instead of one worker taking them all.
SHARDS = 3


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_garbage_input_is_a_5xx_on_any_tenant_route(shard, tenant_a, capsys):
    all_paths, skipped = _routes("saas_platform.urls_tenant")
    assert len(all_paths) > 100
    paths = all_paths[shard::SHARDS]  # together the shards take every route once
    clients = _clients(tenant_a)
    stats: Counter = Counter()
    failures = _fuzz(clients, paths, stats)
    with capsys.disabled():
        print(
            f"\n[garbage] tenant, shard {shard + 1} of {SHARDS}: {len(paths)} of "
            f"{len(all_paths)} routes ({skipped} regex routes left out), "
            f"{sum(stats.values())} requests, {dict(sorted(stats.items()))}"
        )
    assert not failures, "\n".join(failures[:40])


def test_no_garbage_input_is_a_5xx_on_any_platform_route(platform_admin, capsys, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_fuzz"  # configured, so bodies reach the checks
    paths, skipped = _routes("saas_platform.urls_public")
    host = host_of(None)
    clients = {
        "visitor": Client(HTTP_HOST=host),
        "platform token": Client(
            HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {platform_admin.token}"
        ),
    }
    stats: Counter = Counter()
    failures = _fuzz(clients, paths, stats)
    with capsys.disabled():
        print(
            f"\n[garbage] platform: {len(paths)} routes ({skipped} regex routes left out), "
            f"{sum(stats.values())} requests, {dict(sorted(stats.items()))}"
        )
    assert not failures, "\n".join(failures[:40])
