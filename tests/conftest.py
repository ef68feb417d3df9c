"""Test harness: the real PostgreSQL and Redis, two tenants provisioned once per session
(cloned from the template, committed), and clients bound to a host.

Tests run inside a transaction that is rolled back, so anything a test creates, including
schemas (PostgreSQL DDL is transactional), disappears afterwards while the session tenants stay.
"""

from __future__ import annotations

import gc
import os

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from rest_framework.test import APIClient

from kernel.api.token_use import token_uses_forget
from kernel.process_cache import tenant_config
from kernel.users.models import User
from kernel.users.services import api_token_issue
from portal.catalog.availability import availability_clear_touched
from portal.catalog.search_cache import search_cache_clear_touched
from portal.staff.roles import ROLES
from saas_platform.admission import controller as admission_controller
from saas_platform.admission import floor_reset_touched
from tenants import routing
from tenants.models import Tenant
from tenants.schema_clone import template_refresh
from tenants.schema_pool import pool_drain, pool_fill
from tenants.services import tenant_provision
from tests import database as test_databases
from tests.helpers import (
    SESSION_TENANTS,
    Actor,
    FamilyActor,
    client_for,
    make_actor,
    session_tenant,
)

# The s3_server and s3_storage fixtures, and a localstripe process (integration, e2e).
pytest_plugins = ["tests.s3", "tests.localstripe"]


# Suites marked by folder; `make test-fast` leaves these out (pyproject.toml lists the markers).
_FOLDER_MARKS = {"e2e": "e2e", "fuzz": "fuzz", "faults": "faults", "integration": "integration"}
# Tests that share one expensive resource per process run on one pytest-xdist worker
# (--dist loadgroup), so a run starts one SeaweedFS server, not one per worker. The browser tests
# are not grouped: each worker starts its own live server and Chromium (~2 s), and spread over
# the workers they take a third of the time they would on one.
_GROUPS = {"s3": "s3"}
# Where a test starts in the run: the slowest kinds first, so that the workers end together,
# with the many short tests filling in behind them, instead of one worker finishing a
# 60-second test while the others sit idle (xdist hands out tests in collection order).
_START_ORDER = ("fuzz", "e2e", "s3", "integration", "faults")


def _start_rank(item) -> int:
    for rank, marker in enumerate(_START_ORDER):
        if item.get_closest_marker(marker):
            return rank
    return len(_START_ORDER)


# tryfirst: pytest-xdist reads the xdist_group markers in its own hook of the same name, so
# they must be set before it runs.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    tests_dir = os.path.dirname(__file__)
    for item in items:
        folder = os.path.relpath(str(item.path), tests_dir).split(os.sep)[0]
        if folder in _FOLDER_MARKS:
            item.add_marker(_FOLDER_MARKS[folder])
        if {"s3_server", "s3_storage", "s3_backups"} & set(getattr(item, "fixturenames", ())):
            item.add_marker("s3")
        for marker, group in _GROUPS.items():
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.xdist_group(group))
                break
    items.sort(key=_start_rank)  # stable: the order within each kind stays the files'


def pytest_collection_finish(session):
    """Modules, settings and the collected tests live as long as the run: freeze them out of
    the garbage collector's reach, so neither its full collections during the run nor pytest's
    at the end walk them again (seconds per process on this suite's heap)."""
    gc.freeze()


def _prepare_database() -> None:
    """Fill a freshly migrated test database: the template schema, the spare pool and the two
    session tenants (tests/database.py clones the result for each test process)."""
    connection.set_schema_to_public()
    template_refresh()
    pool_drain()
    pool_fill()
    for spec in SESSION_TENANTS.values():
        tenant_provision(**spec, exist_ok=True)
    # The session tenants stand for businesses Stripe has enabled: a test that sets their
    # account id may take payments; tests of onboarding turn it off (portal.billing.connect).
    Tenant.objects.filter(
        schema_name__in=[spec["slug"] for spec in SESSION_TENANTS.values()]
    ).update(stripe_charges_enabled=True)
    connection.set_schema_to_public()


def _reuse_db(config) -> bool:
    return bool(config.getvalue("reuse_db")) and not config.getvalue("create_db")


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_modify_db_settings, django_db_blocker
):
    """This process's own copy of the prepared test database (tests/database.py): kept for the
    next run with ``--reuse-db``, else copied afresh and dropped at the end.

    Replaces pytest-django's fixture, which sets up only the databases that tests marked
    ``django_db`` ask for: tests that need committed data (``committed``) are not marked, and
    running them alone must still use the test database, never the development one."""
    reuse = _reuse_db(request.config)
    with django_db_blocker.unblock():
        names = test_databases.set_up(
            reuse=reuse,
            verbosity=request.config.option.verbose,
            prepare=_prepare_database,
            # The role groups are written when the template is migrated: a change of roles
            # (code, no migration) must rebuild the prepared database too.
            shape=repr(SESSION_TENANTS)
            + "stripe-charges-enabled"
            + repr(sorted((k, sorted(r.permissions)) for k, r in ROLES.items())),
        )
        connection.set_schema_to_public()
    yield
    with django_db_blocker.unblock():
        # Under pytest-xdist the controller drops the prepared database (pytest_sessionfinish).
        test_databases.tear_down(names, reuse=reuse, last=not os.environ.get("PYTEST_XDIST_WORKER"))


def pytest_sessionfinish(session):
    """The xdist controller (it runs no tests) drops the run's prepared database unless it is
    to be reused."""
    if hasattr(session.config, "workerinput") or not session.config.pluginmanager.hasplugin(
        "dsession"
    ):
        return
    if not _reuse_db(session.config):
        test_databases.drop_prepared()


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """For the few tests that need committed data (another connection must see it: pg_dump, a
    Celery worker thread). Not wrapped in a transaction; tenants whose slugs the test appends
    to the yielded list, and public users it creates, are removed afterwards."""
    from tenants.models import Domain
    from tenants.schema_clone import schema_drop

    created: list[str] = []
    with django_db_blocker.unblock():
        users_before = set(User.objects.values_list("pk", flat=True))
        yield created
        connection.set_schema_to_public()
        for slug in created:
            # Provisioning committed here enqueued a pool refill; the pool is back to size.
            Domain.objects.filter(tenant__schema_name=slug).delete()
            Tenant.objects.filter(schema_name=slug).delete()
            schema_drop(schema_name=slug)
        User.objects.exclude(pk__in=users_before).delete()


@pytest.fixture
def in_test_transaction(monkeypatch):
    """The production WSGI application (``saas_platform.wsgi``) called directly in the test's
    transaction: without the handler's closing of old connections when a request starts and
    ends (as Django's test client does) nor ``kernel.after_response``'s after its deferred
    work, and with the warm-up's closing of this thread's connections recorded instead of
    done (the test's transaction lives on them)."""
    import django.db
    from django.core import signals
    from django.db import close_old_connections, connections

    closed: list = []
    monkeypatch.setattr(connections, "close_all", lambda: closed.append(True))
    monkeypatch.setattr(django.db, "close_old_connections", lambda: None)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield closed
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _public_schema_and_fresh_routes():
    routing.router.clear()
    tenant_config.clear()
    connection.set_schema_to_public()
    translation.activate(settings.LANGUAGE_CODE)
    yield
    connection.set_schema_to_public()
    timezone.deactivate()  # a zone a test activated (tenant_in_zone) ends with it
    # A Spanish request leaves its language active in this thread; the next test starts in
    # English (services' refusal messages are read in the active language).
    translation.activate(settings.LANGUAGE_CODE)
    routing.router.clear()
    # Per-process and Redis caches of data a test made (and rolled back), and search counts.
    tenant_config.clear()
    availability_clear_touched()
    floor_reset_touched()
    admission_controller.reset()
    search_cache_clear_touched()
    token_uses_forget()  # uses of tokens whose rows the test rolled back


@pytest.fixture
def tenant_a(db) -> Tenant:
    return session_tenant("a")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return session_tenant("b")


@pytest.fixture
def platform_admin(db) -> Actor:
    return make_actor(None, email="root@platform.test", staff=True, superuser=True)


@pytest.fixture
def platform_client(db) -> APIClient:
    return client_for(None)


@pytest.fixture
def staff_a(tenant_a) -> Actor:
    return make_actor(tenant_a, email="staff@alpha.test", staff=True, superuser=True)


@pytest.fixture
def staff_b(tenant_b) -> Actor:
    return make_actor(tenant_b, email="staff@beta.test", staff=True, superuser=True)


@pytest.fixture
def in_tenant_a(tenant_a):
    """Run the test body in tenant A's schema (factories create there) and time zone, as a
    request on its host or a task in its schema would: services the test calls count the
    business's days (docs/tenancy.md, "Time"); tenant_in_zone() moves both."""
    connection.set_tenant(tenant_a)
    with timezone.override(tenant_a.zone):
        yield tenant_a
    connection.set_schema_to_public()


@pytest.fixture
def family_a(in_tenant_a):
    """A family in tenant A: a primary guardian with a login and a token, and a student."""
    from tests.factories import GuardianFactory, StudentFactory

    guardian = GuardianFactory(email="parent@alpha.test", first_name="Dana", last_name="Rivera")
    student = StudentFactory(family=guardian.family, first_name="Mia", last_name="Rivera")
    _, raw = api_token_issue(user=guardian.user, name="tests")
    connection.set_tenant(in_tenant_a)
    return FamilyActor(guardian=guardian, student=student, token=raw, tenant=in_tenant_a)
