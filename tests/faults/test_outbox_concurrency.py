"""Exactly once under a real race: the same outbox message delivered by two workers at the
same moment (a broker redelivery after a visibility timeout, or the relay and the on-commit
attempt both publishing). Needs committed data (each worker has its own connection), so the
row is committed in tenant A's schema and removed afterwards."""

from __future__ import annotations

import threading
import time

from celery import shared_task
from django.db import connections
from django_tenants.utils import tenant_context

from portal.outbox.models import OutboxMessage
from portal.outbox.services import outbox_deliver
from tenants.models import Tenant
from tests.helpers import SESSION_TENANTS

RAN: list[int] = []


@shared_task(name="tests.faults.slow_send")
def slow_send_task(n: int) -> int:
    time.sleep(0.3)  # wide enough for the second delivery to arrive while this one runs
    RAN.append(n)
    return n


def test_two_deliveries_at_once_run_the_task_once(committed, faults):
    """The broker hands the same message to two workers at the same moment (a redelivery after
    a visibility timeout): the row lock makes one run it and the other skip it."""
    tenant = Tenant.objects.get(schema_name=SESSION_TENANTS["a"]["slug"])
    with tenant_context(tenant):
        message = OutboxMessage.objects.create(task=slow_send_task.name, args=[7])
    results: list[str] = []

    def worker() -> None:
        try:
            with tenant_context(tenant):
                results.append(outbox_deliver(message_id=message.pk))
        finally:
            connections.close_all()

    RAN.clear()
    faults.inject("concurrent duplicate delivery")
    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == ["done", "duplicate"]
        faults.check_lost("task runs (concurrent delivery)", 1, len(RAN))
        assert RAN == [7]
    finally:
        with tenant_context(tenant):
            OutboxMessage.objects.filter(pk=message.pk).delete()
