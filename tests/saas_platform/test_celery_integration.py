"""The platform API provisions through a real Celery worker consuming from Redis."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker

from saas_platform.celery import app as celery_app
from tenants.models import Tenant
from tests.helpers import client_for, make_actor

pytestmark = pytest.mark.integration


@pytest.fixture
def real_worker():
    queue = f"test-{os.getpid()}"
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, queues=[queue], loglevel="WARNING"
        ) as worker:
            yield worker
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = saved


def test_api_provisions_a_third_tenant_that_then_routes(committed, real_worker):
    admin = make_actor(None, email="ops@platform.test", staff=True)
    committed.append("omega")
    response = admin.client().post(
        "/api/platform/v1/tenants",
        {"name": "Omega Martial Arts", "slug": "omega", "owner_email": "sensei@omega.test"},
        format="json",
    )
    assert response.status_code == 202
    status_url = response.json()["status_url"]
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        status = admin.client().get(status_url).json()["status"]
        if status == "active":
            break
        time.sleep(0.1)
    assert status == "active"
    tenant = Tenant.objects.get(schema_name="omega")
    page = client_for(tenant).get("/")
    # It routes: onboarded unlaunched, its family portal says it is opening soon.
    assert page.status_code == 503
    assert b"Omega Martial Arts" in page.content and b"opening soon" in page.content


def test_beat_task_resumes_stalled_provisioning(committed, real_worker):
    from datetime import timedelta

    from django.utils import timezone

    from tenants.services import tenant_register
    from tenants.tasks import tenant_resume_stalled_task

    committed.append("stalled")
    tenant = tenant_register(name="Stalled School", slug="stalled", owner_email="o@stalled.test")
    Tenant.objects.filter(pk=tenant.pk).update(created_at=timezone.now() - timedelta(hours=1))
    # Beat runs this on a schedule; here it runs inline and enqueues onto the real worker.
    assert tenant_resume_stalled_task() == ["stalled"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tenant.refresh_from_db()
        if tenant.status == "active":
            break
        time.sleep(0.1)
    assert tenant.status == "active"


ZONES_SEEN: list[str] = []


@celery_app.task(name="tests.record_zone")
def record_zone_task() -> None:
    from django.utils import timezone

    ZONES_SEEN.append(timezone.get_current_timezone_name())


def test_a_worker_runs_a_tenants_task_in_the_tenants_time_zone(committed, real_worker):
    """On a real worker the tenant comes from the task's schema header (tenant-schemas-celery
    switches the schema in task_prerun, then TenantZoneTask activates its zone)."""
    from django_tenants.utils import tenant_context

    from tests.helpers import session_tenant

    tenant = session_tenant("a")
    before = tenant.timezone
    Tenant.objects.filter(pk=tenant.pk).update(timezone="Pacific/Auckland")  # committed
    tenant.timezone = "Pacific/Auckland"
    ZONES_SEEN.clear()
    try:
        with tenant_context(tenant):
            record_zone_task.delay()
        record_zone_task.delay()  # from the public schema: UTC
        deadline = time.monotonic() + 30
        while len(ZONES_SEEN) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        Tenant.objects.filter(pk=tenant.pk).update(timezone=before)
    assert sorted(ZONES_SEEN) == ["Pacific/Auckland", "UTC"]
