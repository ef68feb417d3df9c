"""The Celery broker down while a family checks out: the order commits, its email waits in
the transactional outbox (portal.outbox) and goes out once the broker is back, exactly once
however many times it is published or delivered."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from portal.enrollment.models import Enrollment, Order
from portal.enrollment.notifications import notify_family
from portal.outbox.models import OutboxMessage
from portal.outbox.services import outbox_publish
from portal.outbox.tasks import outbox_deliver_task, outbox_relay_task
from saas_platform.celery import app
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1"
ENROLLED = "You're enrolled at Alpha Gymnastics"
HOLD_CONTEXT = {"minutes": 5, "offering": "Rec Gym", "student": "Mia", "url": "/cart"}


@contextmanager
def broker_down():
    """Celery for real (not eager) against a broker address nothing listens on."""
    keys = ("task_always_eager", "broker_url", "task_publish_retry", "broker_connection_timeout")
    saved = {key: app.conf[key] for key in keys}

    def reset_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.update(
        task_always_eager=False,
        broker_url="redis://127.0.0.1:9/0",
        task_publish_retry=False,
        broker_connection_timeout=1,
    )
    reset_pools()
    try:
        yield
    finally:
        app.conf.update(saved)
        reset_pools()


def enrolled_emails() -> int:
    return sum(1 for m in mail.outbox if m.subject == ENROLLED)


def test_checkout_commits_with_the_broker_down_and_the_email_goes_out_once_later(
    family_a, faults, django_capture_on_commit_callbacks
):
    offering = make_offering(tuition=0, name="Open House")
    connection.set_schema_to_public()
    family = family_a.client()
    assert (
        family.post(
            f"{API}/cart/items",
            {"offering": offering.pk, "student": family_a.student.pk},
            format="json",
        ).status_code
        == 201
    )
    with broker_down():
        faults.inject("broker down at checkout")
        with django_capture_on_commit_callbacks(execute=True):
            response = family.post(f"{API}/checkout", {}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "confirmed"
        connection.set_tenant(family_a.tenant)
        # The order committed; its email is kept back, not lost.
        faults.check_lost(
            "orders (broker down)", 1, Order.objects.filter(status="confirmed").count()
        )
        assert Enrollment.objects.get().status == "active"
        assert enrolled_emails() == 0
        (message,) = OutboxMessage.objects.all()
        assert message.task == "enrollment.send_family_email"
        assert message.sent_at is None and message.done_at is None and message.attempts == 0
        assert message.last_error.startswith("not published")
        # The relay while the broker is still down: still pending.
        assert outbox_relay_task() == 0
        faults.inject("relay with broker down")

    # The broker is back: the next relay run sends it.
    assert outbox_relay_task() == 1
    message.refresh_from_db()
    assert message.done_at is not None and message.sent_at is not None
    faults.check_lost("emails (broker down)", 1, enrolled_emails())

    # Redelivered by the broker, published again by a relay: never sent twice.
    faults.inject("duplicate delivery", 2)
    assert outbox_deliver_task.apply(args=[message.pk]).get() == "duplicate"
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(days=1))
    assert outbox_relay_task() == 0
    assert outbox_deliver_task.apply(args=[message.pk]).get() == "duplicate"
    assert enrolled_emails() == 1


def test_a_message_the_broker_lost_is_published_again_and_runs_once(family_a, faults):
    """Published, then lost by the broker (never delivered): after OUTBOX_REDELIVER_AFTER the
    relay publishes it again; both deliveries arriving in the end still send one email."""
    notify_family(family_a.family.pk, "hold_expiring", HOLD_CONTEXT)
    (message,) = OutboxMessage.objects.all()
    lost_at = timezone.now() - timedelta(hours=1)
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=lost_at, attempts=1)
    faults.inject("message lost by the broker")
    with override_settings(OUTBOX_REDELIVER_AFTER=600):
        delivered = []
        original = outbox_deliver_task.apply_async

        def record(*args, **kwargs):
            delivered.append(kwargs["args"][0])
            return original(*args, **kwargs)

        outbox_deliver_task.apply_async = record
        try:
            assert outbox_publish() == 1
        finally:
            del outbox_deliver_task.apply_async
    assert delivered == [message.pk]
    message.refresh_from_db()
    assert message.done_at is not None and message.attempts == 2
    assert outbox_deliver_task.apply(args=[message.pk]).get() == "duplicate"
    faults.check_lost("emails (lost message)", 1, len(mail.outbox))


def test_a_rolled_back_change_sends_nothing(family_a):
    """The message is part of the transaction: no order, no email."""

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        notify_family(family_a.family.pk, "hold_expiring", HOLD_CONTEXT)
        raise Abort
    assert not OutboxMessage.objects.exists()
    assert outbox_relay_task() == 0
    assert mail.outbox == []


def test_a_failing_task_stays_pending_and_is_retried(family_a, faults, monkeypatch):
    notify_family(family_a.family.pk, "hold_expiring", HOLD_CONTEXT)
    (message,) = OutboxMessage.objects.all()
    from portal.enrollment import tasks

    def smtp_down(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(tasks, "send_mail", smtp_down)
    faults.inject("mail server down")
    with pytest.raises(ConnectionRefusedError):
        outbox_deliver_task.apply(args=[message.pk]).get()
    message.refresh_from_db()
    assert message.done_at is None and "SMTP down" in message.last_error
    monkeypatch.undo()
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    assert outbox_relay_task() == 1
    message.refresh_from_db()
    assert message.done_at is not None
    faults.check_lost("emails (mail server down)", 1, len(mail.outbox))
