"""The transactional outbox.

``outbox_enqueue(task, *args, **kwargs)`` is called inside the transaction that makes the
business change: it writes an OutboxMessage row in the tenant's schema, so the message commits
with the change or not at all. Then:

- right after the commit, one attempt publishes it (``outbox.deliver`` with the row id) to the
  broker; if the broker is down, the row just stays pending;
- ``outbox.relay`` (beat, every ``OUTBOX_RELAY_INTERVAL`` seconds, per tenant) publishes the
  rows still pending, and again those published ``OUTBOX_REDELIVER_AFTER`` seconds ago that
  never ran (a message the broker lost);
- ``outbox.deliver`` locks the row, runs the task unless the row is already done, and marks it
  done in the same transaction, so a message published twice (relay and on-commit attempt, or a
  broker redelivery) runs once.

Why hand-written: the outbox libraries publish to a message broker of their own
(django-outbox-pattern: STOMP/RabbitMQ), not Celery tasks; Celery itself has no outbox. Ours is
one table per tenant schema, two tasks and the on-commit hook, so messages commit in the
tenant's own transaction and run through the tenant-aware Celery app like every other task.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import tenant_context

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# A message whose task keeps failing is published again every OUTBOX_REDELIVER_AFTER seconds,
# up to this many times; then it stays in the table (with its last error) for an operator.
# A broker that is down does not count: nothing was published.
MAX_ATTEMPTS = 50


def outbox_enqueue(
    task: Any, *args: Any, eta: datetime | None = None, **kwargs: Any
) -> OutboxMessage:
    """Queue ``task(*args, **kwargs)`` with the current transaction (arguments must be JSON).
    Outside a transaction the row commits at once and is published straight away."""
    name = task if isinstance(task, str) else task.name
    message = OutboxMessage.objects.create(task=name, args=list(args), kwargs=kwargs, eta=eta)
    tenant = connection.tenant

    def publish() -> None:
        # The row just committed is in hand: published as it is, not read back.
        with tenant_context(tenant):
            _publish([message])

    transaction.on_commit(publish)
    return message


def _queue_for(task_name: str) -> str:
    """The queue the message's own task is routed to (emails: notifications)."""
    return current_app.amqp.router.route({}, task_name)["queue"].name


def outbox_publish(*, limit: int = 500) -> int:
    """Hand every due message to the broker (the relay); returns how many were published. A
    broker error leaves the rest pending for the next relay run."""
    now = timezone.now()
    redeliver = now - timedelta(seconds=settings.OUTBOX_REDELIVER_AFTER)
    pending = OutboxMessage.objects.filter(
        Q(sent_at__isnull=True)
        | Q(sent_at__lt=redeliver, eta__isnull=True)
        | Q(sent_at__lt=redeliver, eta__lt=redeliver),
        done_at__isnull=True,
        attempts__lt=MAX_ATTEMPTS,
    )
    return _publish(list(pending.order_by("created_at", "pk")[:limit]), now=now)


def _publish(messages: list[OutboxMessage], *, now: datetime | None = None) -> int:
    """Hand ``messages`` to the broker in turn; the published ones are marked sent (one
    statement). A broker error notes it on that message and stops: the rest stay pending for
    the next relay run. A message published but not marked (the process stopped between the
    two) is published again by the relay and runs once (``outbox_deliver``)."""
    from .tasks import outbox_deliver_task

    now = now or timezone.now()
    sent: list[int] = []
    for message in messages:
        try:
            outbox_deliver_task.apply_async(
                args=[message.pk],
                eta=message.eta if message.eta and message.eta > now else None,
                queue=_queue_for(message.task),
            )
        except Exception as exc:  # the broker is down: the relay tries again later
            logger.warning(
                "outbox: could not publish %s #%s in %s: %s",
                message.task,
                message.pk,
                connection.schema_name,
                exc,
            )
            OutboxMessage.objects.filter(pk=message.pk).update(
                last_error=f"not published: {exc}"[:2000]
            )
            break  # the broker is down for the others as well
        sent.append(message.pk)
    if sent:
        _mark_sent(sent)
    return len(sent)


def _mark_sent(ids: list[int]) -> None:
    """``sent_at`` now and one more attempt on these rows: a fixed statement (what
    ``filter(pk__in=ids).update(sent_at=now(), attempts=F("attempts") + 1)`` does, without
    compiling it after every checkout that sends an email)."""
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SENT, [timezone.now(), ids])


_MARK_SENT = (
    f'UPDATE "{OutboxMessage._meta.db_table}" SET "sent_at" = %s, "attempts" = "attempts" + 1 '
    'WHERE "id" = ANY(%s)'
)


def outbox_deliver(*, message_id: int) -> str:
    """Run one message's task once: the row is locked while it runs and marked done with it.
    A failure rolls back, is noted on the row and raised; the relay publishes it again after
    OUTBOX_REDELIVER_AFTER seconds."""
    try:
        return _deliver(message_id)
    except Exception as exc:
        OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(
            last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise


def _deliver(message_id: int) -> str:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return "missing"
        if message.done_at is not None:
            return "duplicate"
        task = current_app.tasks[message.task]
        task(*message.args, **message.kwargs)  # in this process, in this schema
        message.done_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["done_at", "last_error"])
    return "done"
