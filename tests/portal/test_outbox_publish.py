"""portal.outbox: what publishing costs the request that committed the message (the row in
hand is published, not read back, and marked sent in one fixed statement) and the relay's
batch (published in order, marked sent together, stopped at the first broker error).
tests/faults/test_broker_down.py covers the broker down and duplicate deliveries end to end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.outbox import services
from portal.outbox.models import OutboxMessage
from portal.outbox.tasks import outbox_deliver_task

pytestmark = pytest.mark.django_db
TASK = "enrollment.send_family_email"


@pytest.fixture
def broker(monkeypatch):
    """The broker's side of ``apply_async``: each message handed over, in order; a message id
    in ``broker.refuse`` raises as a broker that is down does."""

    class Broker:
        published: list[tuple[list, str, object]] = []
        refuse: set[int] = set()

    def apply_async(*, args, eta=None, queue=None, **_):
        if args[0] in Broker.refuse:
            raise ConnectionError("broker down")
        Broker.published.append((args, queue, eta))

    Broker.published, Broker.refuse = [], set()
    monkeypatch.setattr(outbox_deliver_task, "apply_async", apply_async)
    return Broker


def test_the_committed_message_is_published_without_reading_it_back(
    tenant_a, broker, django_capture_on_commit_callbacks
):
    connection.set_tenant(tenant_a)
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        message = services.outbox_enqueue(TASK, 7, "enrolled", {"a": 1})
    assert broker.published == []  # nothing before the commit
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    assert broker.published == [([message.pk], services._queue_for(TASK), None)]
    statements = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(statements) == 1 and statements[0].startswith("UPDATE"), statements
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1 and message.done_at is None


def test_a_future_eta_goes_to_the_broker_and_a_past_one_does_not(tenant_a, broker):
    connection.set_tenant(tenant_a)
    later = timezone.now() + timedelta(hours=1)
    due = OutboxMessage.objects.create(task=TASK, eta=timezone.now() - timedelta(minutes=1))
    future = OutboxMessage.objects.create(task=TASK, eta=later)
    assert services._publish([due, future]) == 2
    assert [eta for _, _, eta in broker.published] == [None, later]


def test_the_relay_publishes_in_order_marks_sent_together_and_stops_at_a_broker_error(
    tenant_a, broker
):
    connection.set_tenant(tenant_a)
    first, second, third = (OutboxMessage.objects.create(task=TASK, args=[i]) for i in range(3))
    broker.refuse = {second.pk}
    assert services.outbox_publish() == 1
    assert [args for args, _, _ in broker.published] == [[first.pk]]
    rows = {m.pk: m for m in OutboxMessage.objects.all()}
    assert rows[first.pk].sent_at is not None and rows[first.pk].attempts == 1
    assert rows[second.pk].sent_at is None and rows[second.pk].attempts == 0
    assert rows[second.pk].last_error == "not published: broker down"
    assert rows[third.pk].sent_at is None and rows[third.pk].last_error == ""
    # The broker back: the two left go out, in order, and the first is not sent again.
    broker.refuse = set()
    assert services.outbox_publish() == 2
    assert [args for args, _, _ in broker.published] == [[first.pk], [second.pk], [third.pk]]
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_marking_sent_does_what_the_orm_update_did(tenant_a):
    connection.set_tenant(tenant_a)
    a, b, c = (OutboxMessage.objects.create(task=TASK, attempts=n) for n in (0, 2, 5))
    before = timezone.now()
    services._mark_sent([a.pk, b.pk])
    rows = {m.pk: m for m in OutboxMessage.objects.all()}
    assert (rows[a.pk].attempts, rows[b.pk].attempts, rows[c.pk].attempts) == (1, 3, 5)
    assert rows[a.pk].sent_at >= before and rows[b.pk].sent_at == rows[a.pk].sent_at
    assert rows[c.pk].sent_at is None
