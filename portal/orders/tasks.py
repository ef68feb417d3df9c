"""Celery tasks of the orders app. Each takes ids, runs in the tenant schema it was enqueued
from (tenant-schemas-celery), and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


class EventNotReady(Exception):
    """The event is about a payment not recorded yet (the order has not committed)."""


@shared_task(
    name="orders.stripe_event_process",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
)
def stripe_event_process_task(event_id: str) -> str:
    from .events import WAITING, event_apply

    result = event_apply(event_id=event_id)
    if result == WAITING:  # its payment is not committed yet: retried with backoff
        raise EventNotReady(event_id)
    return result


@shared_task(name="orders.stripe_events_retry")
def stripe_events_retry_task() -> int:
    """Every minute, per tenant: events still waiting for their payment (or whose task was
    lost) are applied again, and refunds a dead process left half-way are completed."""
    from portal.billing.services import refunds_resume

    from .events import events_retry

    refunds_resume()
    return events_retry()


@shared_task(name="orders.expire_due")
def orders_expire_due_task() -> int:
    """Every minute, per tenant: lapse unpaid orders past their deadline (releasing what they
    tendered) in case the check on read has not."""
    from .services import orders_expire_due

    return orders_expire_due()


@shared_task(name="orders.autopay_run")
def autopay_run_task() -> dict:
    """Hourly, per tenant: bill monthly tuition on the billing day and retry failed charges."""
    from .autopay import autopay_run

    return autopay_run()


@shared_task(name="orders.autopay_attempt", acks_late=True)
def autopay_attempt_task(charge_id: int) -> str:
    """Collect one invoice from the saved card now (a transfer's price difference)."""
    from .autopay import autopay_attempt

    return autopay_attempt(charge_id=charge_id)
