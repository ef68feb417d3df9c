"""API fuzzing: schemathesis generates requests from the OpenAPI schemas and sends them
in-process to Django's WSGI application, on a tenant host as a family (bearer token) and, for
the staff routes, as staff; on the platform host as a platform admin.

Checks on every answer: no 5xx; the status code and the body are documented in the schema
(every operation documents its success response and the shared ``4XX`` Error schema,
kernel/api/openapi.py, whose ``code`` is the enum of the registered error codes);
input the schema forbids is refused with a 4xx (``negative_data_rejection``); every 4xx
carries ``code``, ``message`` and ``fields``.

Bounded for CI: ``FUZZ_EXAMPLES`` examples per operation and generation mode (positive: valid
input; negative: input the schema forbids), seed ``FUZZ_SEED`` (``random`` for a fresh one).
The whole run is inside the test's transaction, so the session tenants are left as they were.
Figures (operations, examples) are printed and recorded in docs/security.md."""

from __future__ import annotations

import os
import random
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import assert_error, client_for, host_of

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
_SEED = os.environ.get("FUZZ_SEED", "20261124")
SEED = random.randrange(2**32) if _SEED == "random" else int(_SEED)


@schemathesis.check
def error_has_code(ctx, response, case):
    """Every 4xx is the API's error shape with a non-empty stable code."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert isinstance(body.get("code"), str) and body["code"], f"error without code: {body!r}"
    assert isinstance(body.get("message"), str), f"error without message: {body!r}"
    assert isinstance(body.get("fields"), dict), f"error without fields: {body!r}"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_has_code,
]


@dataclass
class Run:
    operations: int = 0
    total: int = 0  # operations in the schema (every shard)
    examples: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


@contextmanager
def in_process_wsgi():
    """Django's WSGI app, called in this thread on the test's connection. Like Django's test
    client, the per-request connection clean-up is off while it runs (it would close the
    connection that holds the test's transaction; the test client turns it back on after each
    of its own requests, so no test client request may happen inside)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(_keep_traceback)
    try:
        yield WSGIHandler()
    finally:
        got_request_exception.disconnect(_keep_traceback)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        connection.set_schema_to_public()


SERVER_TRACEBACKS: list[str] = []


def _keep_traceback(sender, request=None, **kwargs) -> None:
    """A 5xx's traceback goes into the failure report (the fuzz log shows the cause)."""
    SERVER_TRACEBACKS.append(traceback.format_exc())


def load_schema(tenant, path: str):
    response = client_for(tenant).get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(response.json())


def fuzz(schema, *, host: str, token_for, run: Run, shard: int = 0, shards: int = 1) -> None:
    """Every operation of the schema (of this shard: every ``shards``-th, from ``shard``),
    EXAMPLES positive and EXAMPLES negative cases each."""
    base_url = f"http://{host}"
    operations = [result.ok() for result in schema.get_all_operations()]
    # Signing out revokes the family's token the fuzzer uses: that operation goes near the end;
    # changing the portal's settings can switch the portal or the app off for every later
    # request (503 portal_disabled, 403 mobile_app_disabled), so it goes last (a staff token).
    # Each shard is its own test (its own family, token and rolled-back transaction), and
    # keeps this order among its own operations.
    operations.sort(
        key=lambda operation: (
            operation.path.endswith("/staff/settings") and operation.method.upper() != "GET",
            operation.path.endswith("/auth/logout"),
        )
    )
    run.total = len(operations)
    operations = operations[shard::shards]
    for operation in operations:
        run.operations += 1
        # identity: the in-process WSGI transport hands back the body as sent, and the server
        # gzips text answers for clients that accept it (saas_platform/compression.py).
        headers = {
            "Authorization": f"Bearer {token_for(operation.path)}",
            "Accept-Encoding": "identity",
        }
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.method.upper()} {operation.path} ({mode.value})"
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception as exc:  # e.g. nothing to negate
                run.failures.append(f"{label}: no strategy: {exc}")
                continue
            failed: list[str] = []
            check = _example_test(strategy, base_url, headers, label, run, failed)
            try:
                check()
            except Exception as exc:  # generation impossible (unsatisfiable negative schema)
                if "Unsatisfiable" not in type(exc).__name__:
                    raise
            run.failures.extend(failed)


def _example_test(strategy, base_url: str, headers: dict, label: str, run: Run, failed: list):
    """A Hypothesis test over one operation's cases; the first failure is kept, the rest of
    the operation's examples are skipped (no shrinking: the figures stay bounded)."""

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        if failed:
            return
        # The generated case may carry credentials of its own (the schema's security
        # schemes): the actor's token replaces them.
        case.headers = {**(case.headers or {}), **headers}
        response = case.call(base_url=base_url)
        run.examples += 1
        run.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as exc:  # the checks that failed
            cause = (
                SERVER_TRACEBACKS[-1] if response.status_code >= 500 and SERVER_TRACEBACKS else ""
            )
            failed.append(f"{label}: {case.method} {case.formatted_path}\n{exc}\n{cause}")

    return check


def report(name: str, run: Run) -> None:
    print(
        f"\n[fuzz] {name}: {run.operations} operations, {run.examples} examples "
        f"in {time.monotonic() - run.started:.0f} s "
        f"(seed {SEED}, {EXAMPLES} per operation and mode), statuses {dict(run.statuses)}, "
        f"{len(run.failures)} failures"
    )


# The tenant API's operations are split into shards, every shard its own test, so the run's
# workers share the minute of fuzzing instead of one worker taking it all.
SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS))
def test_tenant_api_fuzz(shard, tenant_a, family_a, staff_a):
    schema = load_schema(tenant_a, "/api/v1/schema")
    run = Run()

    def token_for(path: str) -> str:
        return staff_a.token if path.startswith("/api/v1/staff") else family_a.token

    with in_process_wsgi() as app:
        schema.app = app
        fuzz(
            schema, host=host_of(tenant_a), token_for=token_for, run=run, shard=shard, shards=SHARDS
        )
    report(f"tenant API, shard {shard + 1} of {SHARDS}", run)
    assert run.total >= 80
    assert run.operations == len(range(shard, run.total, SHARDS))  # together: every operation
    assert run.examples >= run.operations * 2
    # The credentials held: the requests reached the views (a revoked or refused token
    # would make this a fuzz of the authentication layer only).
    assert run.statuses[401] <= run.examples // 20, run.statuses
    assert not run.failures, "\n\n".join(run.failures)


def test_platform_api_fuzz(platform_admin):
    schema = load_schema(None, "/api/platform/v1/schema")
    run = Run()
    with in_process_wsgi() as app:
        schema.app = app
        fuzz(schema, host=host_of(None), token_for=lambda path: platform_admin.token, run=run)
    report("platform API", run)
    assert run.operations >= 10
    assert not run.failures, "\n\n".join(run.failures)


# --- what the fuzzer found, pinned ------------------------------------------------------------


def test_an_unknown_makeup_token_is_a_404_not_a_500(family_a):
    """Found by fuzzing: the error's status was passed positionally (a TypeError, 500)."""
    response = family_a.client().post(
        "/api/v1/requests",
        {"type": "makeup", "makeup_token": 999_999, "offering": 1, "meeting_date": "2030-01-07"},
        format="json",
    )
    assert_error(response, 404, "makeup_token_not_found")
