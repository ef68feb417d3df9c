"""API tokens' last use written behind the requests (kernel/api/token_use.py): kept in the
process, written with the others in one statement per schema when due, never into a
transaction, at once near the token's expiry, at a gunicorn worker's exit; each schema's uses to
its own rows."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from kernel.api import token_use
from kernel.api.token_use import (
    token_use_pending,
    token_use_record,
    token_uses_due,
    token_uses_flush,
)
from kernel.users.models import ApiToken, User
from kernel.users.services import api_token_issue
from saas_platform import gunicorn_conf
from tests.helpers import client_for, session_tenant

DEVICES = "/api/v1/auth/devices"


def _row(tenant, raw: str) -> ApiToken:
    with tenant_context(tenant):
        return ApiToken.objects.get(key_hash=ApiToken.hash(raw))


def _updates(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]


@pytest.mark.django_db
def test_uses_are_kept_then_written_in_one_statement_per_schema_each_to_its_own_rows(
    family_a, staff_a, staff_b
):
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as ctx:
        for actor in (family_a, staff_a, staff_b):
            assert actor.client().get(DEVICES).status_code == 200
    assert _updates(ctx) == []  # nothing written by the requests themselves
    for actor in (family_a, staff_a, staff_b):
        assert _row(actor.tenant, actor.token).last_used_at is None
        assert token_use_pending(actor.tenant.schema_name, _row(actor.tenant, actor.token).pk)
    # Every other row of both schemas as it was: each schema's uses go to its own rows (a
    # token of tenant B may share its id with one of tenant A's).
    actors = (family_a, staff_a, staff_b)
    used = {(a.tenant.schema_name, _row(a.tenant, a.token).pk) for a in actors}

    def others() -> dict:
        rows = {}
        for tenant in (family_a.tenant, staff_b.tenant):
            with tenant_context(tenant):
                for pk, at in ApiToken.objects.values_list("pk", "last_used_at"):
                    if (tenant.schema_name, pk) not in used:
                        rows[(tenant.schema_name, pk)] = at
        connection.set_schema_to_public()
        return rows

    before = others()
    with CaptureQueriesContext(connection) as ctx:
        assert token_uses_flush() == 3
    updates = _updates(ctx)
    assert len(updates) == 2, updates
    assert sorted(u.split(".")[0] for u in updates) == sorted(
        f'UPDATE "{t.schema_name}"' for t in (family_a.tenant, staff_b.tenant)
    )
    for actor in (family_a, staff_a, staff_b):
        at = _row(actor.tenant, actor.token).last_used_at
        assert at is not None and timezone.now() - at < timedelta(seconds=30)
    assert others() == before
    assert token_uses_flush() == 0  # nothing kept any more


@pytest.mark.django_db
def test_a_write_never_moves_a_later_use_back(family_a):
    later = timezone.now() + timedelta(minutes=5)
    with tenant_context(family_a.tenant):
        token = ApiToken.objects.get(key_hash=ApiToken.hash(family_a.token))
        token_use_record(token, timezone.now(), None)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=later)  # another process's
    assert token_uses_flush() == 1
    assert _row(family_a.tenant, family_a.token).last_used_at == later


@pytest.mark.django_db
def test_a_use_near_the_expiry_is_written_at_once(family_a, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    with tenant_context(family_a.tenant):
        # Last used 30 days less 2 minutes ago: it expires in 2 minutes.
        ApiToken.objects.filter(key_hash=ApiToken.hash(family_a.token)).update(
            last_used_at=timezone.now() - timedelta(days=30) + timedelta(minutes=2)
        )
    connection.set_schema_to_public()
    assert family_a.client().get(DEVICES).status_code == 200
    row = _row(family_a.tenant, family_a.token)
    assert timezone.now() - row.last_used_at < timedelta(seconds=30)
    assert token_use_pending(family_a.tenant.schema_name, row.pk) is None


@pytest.mark.django_db
def test_the_process_reads_its_own_kept_use(family_a, settings):
    """A use kept here counts for the token's expiry and for the once-a-minute rule."""
    settings.API_TOKEN_TTL_DAYS = 30
    other = _issue_second_device(family_a)  # used before, written
    connection.set_schema_to_public()
    listed = family_a.client().get(DEVICES)
    assert listed.status_code == 200
    row = _row(family_a.tenant, family_a.token)
    kept = token_use_pending(family_a.tenant.schema_name, row.pk)
    assert kept is not None and row.last_used_at is None
    # The device list shows this device's use, kept here, and puts it first.
    devices = listed.json()
    assert [d["current"] for d in devices] == [True, False]
    assert datetime.fromisoformat(devices[0]["last_used_at"]) == kept
    assert devices[1]["id"] == other.pk
    with tenant_context(family_a.tenant):  # as if the written use were long ago
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now() - timedelta(days=31))
    connection.set_schema_to_public()
    assert family_a.client().get(DEVICES).status_code == 200
    assert token_use_pending(family_a.tenant.schema_name, row.pk) == kept  # within the minute
    assert _row(family_a.tenant, family_a.token).revoked_at is None


@pytest.mark.django_db
def test_the_device_list_puts_the_latest_use_first_and_the_never_used_last(family_a):
    from kernel.users.services import api_token_list

    now = timezone.now()
    with tenant_context(family_a.tenant):
        user = family_a.guardian.user
        made = {}
        for name, used, created in [
            ("hour ago", now - timedelta(hours=1), now - timedelta(days=4)),
            ("never, older", None, now - timedelta(days=3)),
            ("minute ago", now - timedelta(minutes=1), now - timedelta(days=5)),
            ("never, newer", None, now - timedelta(days=2)),
        ]:
            token, _ = api_token_issue(user=user, name=name)
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=used, created_at=created)
            made[token.pk] = name
        # A use this process kept and has not written yet counts: it is the latest of all.
        current = _row(family_a.tenant, family_a.token)
        ApiToken.objects.filter(pk=current.pk).update(last_used_at=now - timedelta(days=1))
        token_use_record(current, now, None)
        made[current.pk] = "kept here"
        listed = [made[t.pk] for t in api_token_list(user=user) if t.pk in made]
    assert listed == ["kept here", "minute ago", "hour ago", "never, newer", "never, older"]


def _issue_second_device(actor) -> ApiToken:
    with tenant_context(actor.tenant):
        token, _ = api_token_issue(user=actor.guardian.user, name="tablet")
        ApiToken.objects.filter(pk=token.pk).update(
            last_used_at=timezone.now() - timedelta(hours=1)
        )
    return token


@pytest.mark.django_db
def test_the_middleware_writes_nothing_inside_a_transaction(family_a, settings):
    settings.API_TOKEN_USE_FLUSH_SECONDS = 0  # due at once: the test's transaction holds it
    connection.set_schema_to_public()
    assert family_a.client().get(DEVICES).status_code == 200
    assert connection.in_atomic_block and token_uses_due()
    assert _row(family_a.tenant, family_a.token).last_used_at is None


@pytest.mark.django_db
def test_many_uses_are_due_however_recent(family_a, settings, monkeypatch):
    settings.API_TOKEN_USE_FLUSH_SECONDS = 3600
    monkeypatch.setattr(token_use, "MAX_PENDING", 2)
    with tenant_context(family_a.tenant):
        token = ApiToken.objects.get(key_hash=ApiToken.hash(family_a.token))
        token_use_record(token, timezone.now(), None)
        assert not token_uses_due()
        token_use_record(ApiToken(pk=token.pk + 1_000_000), timezone.now(), None)
        assert token_uses_due()


@pytest.mark.django_db
def test_a_schema_whose_write_fails_is_logged_and_the_others_written(family_a, caplog):
    with tenant_context(family_a.tenant):
        token = ApiToken.objects.get(key_hash=ApiToken.hash(family_a.token))
        token_use_record(token, timezone.now(), None)
    with schema_context("public"):
        token_use_record(ApiToken(pk=1), timezone.now(), None)
    token_use._pending[("no_such_schema", 7)] = timezone.now()
    with caplog.at_level(logging.WARNING, logger="kernel.api.token_use"):
        # Each write its own savepoint here (the test's transaction), as in autocommit each is
        # its own statement: a failed one leaves the others.
        assert token_uses_flush() == 2
    assert "1 token uses in schema no_such_schema not recorded" in caplog.text
    assert _row(family_a.tenant, family_a.token).last_used_at is not None


@pytest.fixture
def committed_token(committed):
    """A user of tenant A with an app's token, committed (another thread must see it), removed
    afterwards: (tenant, token, raw key)."""
    tenant = session_tenant("a")
    with tenant_context(tenant):
        user = User.objects.create_user(email="behind@alpha.test")
        token, raw = api_token_issue(user=user, name="phone")
    connection.set_schema_to_public()
    yield tenant, token, raw
    token_use.flusher_stop()
    with tenant_context(tenant):
        ApiToken.objects.filter(user=user).delete()
        user.delete()
    connection.set_schema_to_public()


def test_written_at_the_end_of_the_first_request_once_due_and_at_a_workers_exit(
    committed_token,
):
    """Outside a transaction, as in production: kept while not due, written by the end of the
    request that finds them due (any request, here one without a token), and by the gunicorn
    worker's exit hook."""
    tenant, token, raw = committed_token
    with override_settings(API_TOKEN_USE_FLUSH_SECONDS=3600):
        assert client_for(tenant, token=raw).get(DEVICES).status_code == 200
        assert _row(tenant, raw).last_used_at is None  # kept, not due
        assert client_for(tenant).get("/api/v1/portal").status_code == 200
        assert _row(tenant, raw).last_used_at is None
    with override_settings(API_TOKEN_USE_FLUSH_SECONDS=0):
        assert client_for(tenant).get("/api/v1/portal").status_code == 200
    first = _row(tenant, raw).last_used_at
    assert first is not None and token_use_pending(tenant.schema_name, token.pk) is None
    # A worker exiting writes what it kept.
    with tenant_context(tenant):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=None)
        token_use_record(token, timezone.now(), None)
    gunicorn_conf.worker_exit(None, None)
    assert _row(tenant, raw).last_used_at is not None
    assert token_use_pending(tenant.schema_name, token.pk) is None


def test_a_gunicorn_workers_own_thread_writes_them_and_requests_never_do(committed_token):
    """In a worker the uses are written by its thread (``flusher_start``, from
    ``post_worker_init``): a request finding them due leaves them to it, so no client waits on
    the write; the thread writes each batch once due, and stops with the worker."""
    import time

    tenant, token, raw = committed_token
    with override_settings(API_TOKEN_USE_FLUSH_SECONDS=3600):
        assert token_use.flusher_start() and token_use.flusher_running()
        assert not token_use.flusher_start()  # one a process
    with override_settings(API_TOKEN_USE_FLUSH_SECONDS=0):
        # Due at once, but the thread (asleep for the hour) is the one that writes.
        assert client_for(tenant, token=raw).get(DEVICES).status_code == 200
        assert token_uses_due()
        assert _row(tenant, raw).last_used_at is None
    token_use.flusher_stop()
    assert not token_use.flusher_running()
    assert token_use_pending(tenant.schema_name, token.pk) is not None  # left for the exit
    token_uses_flush()
    with override_settings(API_TOKEN_USE_FLUSH_SECONDS=0.2):
        with tenant_context(tenant):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=None)
        assert token_use.flusher_start()
        assert client_for(tenant, token=raw).get(DEVICES).status_code == 200
        deadline = time.monotonic() + 10
        while _row(tenant, raw).last_used_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _row(tenant, raw).last_used_at is not None  # the thread wrote it
        assert token_use_pending(tenant.schema_name, token.pk) is None
