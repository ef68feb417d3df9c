"""The request id crosses the broker: a task sent during a request logs that request's id (and
runs in its tenant), through a real worker consuming from Redis."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django_tenants.utils import tenant_context

from kernel import observability
from saas_platform.celery import app as celery_app

pytestmark = pytest.mark.integration

_seen_by_task: dict = {}


@celery_app.task(name="tests.production.record_request_id", bind=True)
def _record_request_id(self):
    _seen_by_task["header"] = getattr(self.request, "request_id", None)
    _seen_by_task["context"] = observability.current_request_id()
    _seen_by_task["tenant"] = observability.current_tenant()


def test_a_task_logs_the_request_id_of_the_request_that_enqueued_it(committed):
    from tenants.models import Tenant

    tenant_a = Tenant.objects.get(schema_name="alpha")
    queue = f"test-rid-{os.getpid()}"
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    _seen_by_task.clear()
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, queues=[queue], loglevel="WARNING"
        ):
            observability.set_request_id("rid-across-the-broker")
            with tenant_context(tenant_a):
                _record_request_id.apply_async(queue=queue)
            observability.set_request_id(None)
            deadline = time.monotonic() + 20
            while not _seen_by_task and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        celery_app.conf.task_always_eager = saved
    assert _seen_by_task == {
        "header": "rid-across-the-broker",
        "context": "rid-across-the-broker",
        "tenant": tenant_a.schema_name,
    }
    assert observability.current_request_id() is None
