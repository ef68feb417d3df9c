"""Joining and leaving a registration opening's line answered before sessions, CSRF, the audit
context and DRF (saas_platform/waiting_room_poll.py, issue 21): byte for byte the whole stack's
answers, one statement for a join and none for a leave once warm, and every request the token
authentication or the family permission would refuse left to the whole stack, which gives its
usual answer."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kernel.api.token_use import token_use_pending, token_uses_flush, token_uses_forget
from kernel.users.models import ApiToken, User
from kernel.users.services import api_token_issue
from portal.accounts.models import Family
from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from portal.config.services import portal_settings_update
from portal_api.views.openings import OpeningQueueApi
from tenants import routing
from tenants.models import Tenant
from tests.helpers import assert_error, client_for, make_actor, signed_in

pytestmark = pytest.mark.django_db

FAST = "saas_platform.waiting_room_poll.WaitingRoomPollMiddleware"
# What a response carries that differs from one request to the next whatever the path.
PER_REQUEST = {"X-Request-ID", "Content-Security-Policy"}


def _url(opening) -> str:
    return f"/api/v1/openings/{opening.pk}/queue"


@contextmanager
def whole_stack():
    """Requests sent inside go through the whole stack: the middleware is left out (a client
    made inside loads this list)."""
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != FAST]):
        yield


@contextmanager
def frozen():
    """One instant for both paths (the answer's seconds to the opening, the ticket's and the
    pass's signing timestamps)."""
    now = timezone.now()
    clock = mock.Mock(time=mock.Mock(return_value=now.timestamp()))
    with (
        mock.patch("django.utils.timezone.now", return_value=now),
        mock.patch("django.core.signing.time", clock),
    ):
        yield


@contextmanager
def drf_not_reached():
    with (
        mock.patch.object(OpeningQueueApi, "post", side_effect=AssertionError("DRF reached")),
        mock.patch.object(OpeningQueueApi, "delete", side_effect=AssertionError("DRF reached")),
    ):
        yield


def _sql(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET ")]


def _same_answer(stack, fast) -> None:
    """Status and body byte for byte; the headers too, except what the fast path has no
    reason to send: DRF's ``Allow`` and the session middleware's ``Vary: Cookie`` (the stack
    loads the session for the audit context; the fast path reads none), and its
    Both send ``Cache-Control: no-store``: every answer of the queue is one family's."""
    assert (fast.status_code, fast.content) == (stack.status_code, stack.content)
    stack_headers = {k: v for k, v in stack.headers.items() if k not in PER_REQUEST | {"Allow"}}
    fast_headers = {k: v for k, v in fast.headers.items() if k not in PER_REQUEST}
    stack_vary = [v.strip() for v in stack_headers.pop("Vary", "").split(",") if v.strip()]
    fast_vary = [v.strip() for v in fast_headers.pop("Vary", "").split(",") if v.strip()]
    assert fast_vary == [v for v in stack_vary if v != "Cookie"]
    assert fast_headers.get("Cache-Control") == stack_headers.get("Cache-Control") == "no-store"
    assert fast_headers == stack_headers


# -- the same answers ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_join_answers_as_the_whole_stack_before_and_after_the_opening(opening, family_a, language):
    url = _url(opening)
    for _ in ("before the opening", "after it: admitted at once, with a pass"):
        with frozen():
            with whole_stack():
                stack = family_a.client().post(url, HTTP_ACCEPT_LANGUAGE=language)
            with drf_not_reached():
                fast = family_a.client().post(url, HTTP_ACCEPT_LANGUAGE=language)
        assert stack.status_code == 200, stack.content
        _same_answer(stack, fast)
        assert fast["Content-Language"] == language and fast["Cache-Control"] == "no-store"
        assert fast.json()["ticket"]
        connection.set_tenant(family_a.tenant)
        RegistrationOpening.objects.filter(pk=opening.pk).update(
            opens_at=timezone.now() - timedelta(seconds=1)
        )
        waiting_room.configs_clear()
        connection.set_schema_to_public()
    assert fast.json()["state"] == "admitted" and fast.json()["pass_token"]


def test_join_refusals_of_the_opening_are_the_views(opening, family_a):
    # Unknown opening, in both languages.
    for language in ("en", "es"):
        with whole_stack():
            stack = family_a.client().post(
                "/api/v1/openings/999999/queue", HTTP_ACCEPT_LANGUAGE=language
            )
        with drf_not_reached():
            fast = family_a.client().post(
                "/api/v1/openings/999999/queue", HTTP_ACCEPT_LANGUAGE=language
            )
        _same_answer(stack, fast)
        assert_error(fast, 404, "opening_not_found")
    # An opening that has ended.
    connection.set_tenant(family_a.tenant)
    RegistrationOpening.objects.filter(pk=opening.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1)
    )
    waiting_room.configs_clear()
    connection.set_schema_to_public()
    with whole_stack():
        stack = family_a.client().post(_url(opening))
    with drf_not_reached():
        fast = family_a.client().post(_url(opening))
    _same_answer(stack, fast)
    assert_error(fast, 409, "opening_closed", "Registration for Fall registration has ended.")


def test_leave_answers_as_the_whole_stack(opening, family_a, tenant_b):
    url = _url(opening)
    ticket = family_a.client().post(url).json()["ticket"]
    anonymous = client_for(family_a.tenant)

    def leave(client, path=url, ticket=ticket, **extra):
        return client.delete(path, HTTP_X_WAITING_ROOM_TICKET=ticket, **extra)

    with whole_stack():
        stack = leave(client_for(family_a.tenant))
    assert stack.status_code == 204 and stack.content == b""
    family_a.client().post(url)  # back in line
    with drf_not_reached():
        fast = leave(anonymous)
    _same_answer(stack, fast)
    assert "Content-Type" not in fast
    connection.set_tenant(family_a.tenant)
    assert waiting_room.queue_status(opening_id=opening.pk, family_id=family_a.family.pk).state == (
        "not_joined"
    )
    connection.set_schema_to_public()
    # The errors, in both languages.
    for language in ("en", "es"):
        for path, bad_ticket in ((url, "forged"), ("/api/v1/openings/999999/queue", ticket)):
            with whole_stack():
                stack = leave(
                    client_for(family_a.tenant), path, bad_ticket, HTTP_ACCEPT_LANGUAGE=language
                )
            with drf_not_reached():
                fast = leave(anonymous, path, bad_ticket, HTTP_ACCEPT_LANGUAGE=language)
            _same_answer(stack, fast)
    assert_error(leave(anonymous, url, "forged"), 400, "invalid_ticket")
    assert_error(leave(anonymous, "/api/v1/openings/999999/queue"), 404, "opening_not_found")
    # Another tenant's ticket names another schema.
    connection.set_tenant(tenant_b)
    other = RegistrationOpening.objects.create(name="Beta day", opens_at=timezone.now())
    connection.set_schema_to_public()
    with drf_not_reached():
        cross = leave(client_for(tenant_b), f"/api/v1/openings/{other.pk}/queue")
    assert_error(cross, 400, "invalid_ticket")
    connection.set_tenant(tenant_b)
    waiting_room.queue_clear(opening=other)
    connection.set_schema_to_public()


def test_csrf_does_not_apply_to_a_bearer_token_join_on_either_path(opening, family_a):
    """DRF checks CSRF only for its session authentication; a bearer token authenticates
    first, so a browser session's cookie sent along changes nothing."""
    web = signed_in(family_a.tenant, family_a.guardian.email)
    connection.set_schema_to_public()
    for stack in (True, False):
        with whole_stack() if stack else drf_not_reached():
            client = client_for(family_a.tenant, token=family_a.token)
            client.handler.enforce_csrf_checks = True
            client.cookies = web.cookies
            answer = client.post(_url(opening))
        assert answer.status_code == 200, answer.content
    # Without the token, the session needs its CSRF token: the stack's refusal, as before.
    csrf = client_for(family_a.tenant)
    csrf.handler.enforce_csrf_checks = True
    csrf.cookies = web.cookies
    assert csrf.post(_url(opening)).status_code == 403


# -- the queries -----------------------------------------------------------------------------


def test_a_warm_join_runs_one_statement_and_a_leave_none(opening, family_a):
    url = _url(opening)
    ticket = family_a.client().post(url).json()["ticket"]  # warms; records the token's use
    client = family_a.client()
    connection.set_schema_to_public()
    with drf_not_reached(), CaptureQueriesContext(connection) as ctx:
        joined = client.post(url)
    assert joined.status_code == 200, joined.content
    statements = _sql(ctx)
    assert len(statements) == 1, statements
    # The token, its user, the guardian and the family, in one statement.
    for table in ("users_apitoken", "users_user", "accounts_guardian", "accounts_family"):
        assert table in statements[0], statements[0]
    # The token's last use is recorded at most once a minute, as the authentication does,
    # and written behind the request (kernel.api.token_use): still the one statement.
    connection.set_tenant(family_a.tenant)
    token = ApiToken.objects.get(key_hash=ApiToken.hash(family_a.token))
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    connection.set_schema_to_public()
    token_uses_forget()
    with drf_not_reached(), CaptureQueriesContext(connection) as ctx:
        assert client.post(url).status_code == 200
    assert len(_sql(ctx)) == 1, _sql(ctx)
    kept = token_use_pending(family_a.tenant.schema_name, token.pk)
    assert kept is not None and timezone.now() - kept < timedelta(seconds=30)
    assert token_uses_flush() == 1
    connection.set_tenant(family_a.tenant)
    token.refresh_from_db()
    assert token.last_used_at == kept
    connection.set_schema_to_public()
    # Leaving with the ticket: no SQL at all.
    anonymous = client_for(family_a.tenant)
    with drf_not_reached(), CaptureQueriesContext(connection) as ctx:
        left = anonymous.delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert left.status_code == 204 and _sql(ctx) == []
    # The app sends its bearer token along: checked as the authentication would, one statement.
    with drf_not_reached(), CaptureQueriesContext(connection) as ctx:
        left = client.delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert left.status_code == 204 and len(_sql(ctx)) == 1


# -- everything else: the whole stack, as before ---------------------------------------------


def _join(client, opening):
    return client.post(_url(opening))


def test_tokens_the_authentication_refuses_get_its_answers(opening, family_a, settings):
    url = _url(opening)
    ticket = family_a.client().post(url).json()["ticket"]
    connection.set_tenant(family_a.tenant)
    user = family_a.guardian.user
    # Revoked.
    ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())
    connection.set_schema_to_public()
    revoked = assert_error(_join(family_a.client(), opening), 401, "authentication_failed")
    assert revoked["message"] == "Invalid or revoked token."
    left = family_a.client().delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert_error(left, 401, "authentication_failed")
    assert left["WWW-Authenticate"] == "Bearer"
    # Malformed, and none at all.
    malformed = client_for(family_a.tenant)
    malformed.credentials(HTTP_AUTHORIZATION="Bearer two words")
    assert_error(_join(malformed, opening), 401, "authentication_failed")
    assert_error(_join(client_for(family_a.tenant), opening), 401, "not_authenticated")
    # Expired (unused for longer than the TTL): refused and revoked when presented, on a join
    # and on a leave alike.
    settings.API_TOKEN_TTL_DAYS = 30
    for send in (
        lambda client: _join(client, opening),
        lambda client: client.delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket),
    ):
        connection.set_tenant(family_a.tenant)
        ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())
        _, raw = api_token_issue(user=user, name="phone")
        ApiToken.objects.filter(key_hash=ApiToken.hash(raw)).update(
            last_used_at=timezone.now() - timedelta(days=31)
        )
        connection.set_schema_to_public()
        expired = assert_error(
            send(client_for(family_a.tenant, token=raw)), 401, "authentication_failed"
        )
        assert expired["message"] == "This token has expired. Sign in again."
        connection.set_tenant(family_a.tenant)
        assert ApiToken.objects.get(key_hash=ApiToken.hash(raw)).revoked_at is not None
        connection.set_schema_to_public()
    # An inactive user.
    connection.set_tenant(family_a.tenant)
    _, raw = api_token_issue(user=user, name="tablet")
    User.objects.filter(pk=user.pk).update(is_active=False)
    connection.set_schema_to_public()
    assert_error(
        _join(client_for(family_a.tenant, token=raw), opening), 401, "authentication_failed"
    )


def test_a_token_of_another_tenant_means_nothing_here(opening, family_a, tenant_b):
    connection.set_tenant(tenant_b)
    other = RegistrationOpening.objects.create(name="Beta day", opens_at=timezone.now())
    connection.set_schema_to_public()
    cross = family_a.client(tenant_b).post(f"/api/v1/openings/{other.pk}/queue")
    assert_error(cross, 401, "authentication_failed")
    connection.set_tenant(tenant_b)
    waiting_room.queue_clear(opening=other)
    connection.set_schema_to_public()


def test_the_family_permission_refusals_are_as_before(opening, family_a, tenant_a):
    staff = make_actor(tenant_a, email="desk@alpha.test", staff=True)
    assert_error(_join(staff.client(), opening), 403, "not_a_family_account")
    connection.set_tenant(family_a.tenant)
    Family.objects.filter(pk=family_a.family.pk).update(status=Family.Status.SUSPENDED)
    connection.set_schema_to_public()
    assert_error(_join(family_a.client(), opening), 403, "family_suspended")
    connection.set_tenant(family_a.tenant)
    Family.objects.filter(pk=family_a.family.pk).update(status=Family.Status.ACTIVE)
    portal_settings_update(mobile_app_enabled=False)
    connection.set_schema_to_public()
    assert_error(_join(family_a.client(), opening), 403, "mobile_app_disabled")


def test_a_portal_switched_off_or_not_launched_gets_its_usual_answer(opening, family_a):
    url = _url(opening)
    ticket = family_a.client().post(url).json()["ticket"]
    connection.set_tenant(family_a.tenant)
    portal_settings_update(portal_enabled=False)
    connection.set_schema_to_public()
    assert_error(_join(family_a.client(), opening), 503, "portal_disabled")
    off = client_for(family_a.tenant).delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert_error(off, 503, "portal_disabled")
    connection.set_tenant(family_a.tenant)
    portal_settings_update(portal_enabled=True)
    connection.set_schema_to_public()
    Tenant.objects.filter(pk=family_a.tenant.pk).update(launched_at=None)
    routing.router.clear()
    assert_error(_join(family_a.client(), opening), 503, "portal_not_launched")
    soon = client_for(family_a.tenant).delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert_error(soon, 503, "portal_not_launched")


def test_what_drf_would_negotiate_or_check_otherwise_goes_through_the_stack(opening, family_a):
    url = _url(opening)
    ticket = family_a.client().post(url).json()["ticket"]
    # Content negotiation: only plain JSON is answered here; the rest as DRF negotiates it.
    for path, accept in (
        (url, "text/html"),  # 406
        (url, ""),  # 406
        (url, "application/json; indent=4"),  # indented, and the content type says so
        (url + "?format=json", "*/*"),
    ):
        with frozen():
            with whole_stack():
                stack = family_a.client().post(path, HTTP_ACCEPT=accept)
            fast = family_a.client().post(path, HTTP_ACCEPT=accept)
        assert (fast.status_code, fast.content) == (stack.status_code, stack.content)
        assert fast["Content-Type"] == stack["Content-Type"]
        assert fast.has_header("Allow")  # DRF's: the stack answered
    assert fast.status_code == 200
    assert family_a.client().post(url, HTTP_ACCEPT="text/html").status_code == 406
    indented = family_a.client().post(url, HTTP_ACCEPT="application/json; indent=4")
    assert indented.status_code == 200 and b'\n    "state"' in indented.content
    # A leave from a signed-in browser: DRF's session authentication and its CSRF check.
    web = signed_in(family_a.tenant, family_a.guardian.email)
    connection.set_schema_to_public()

    def browser():
        client = client_for(family_a.tenant)
        client.handler.enforce_csrf_checks = True
        client.cookies = web.cookies
        return client

    with whole_stack():
        stack = browser().delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert stack.status_code == 403, stack.content
    fast = browser().delete(url, HTTP_X_WAITING_ROOM_TICKET=ticket)
    assert (fast.status_code, fast.content) == (403, stack.content)
    assert fast.has_header("Allow")  # DRF's: the stack answered
