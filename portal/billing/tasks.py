from celery import shared_task


@shared_task(
    name="billing.stripe_event_process",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
)
def stripe_event_process_task(event_id: str) -> str:
    from .webhooks import WAITING, event_apply

    result = event_apply(event_id=event_id)
    if result == WAITING:  # its payment is not committed yet: retried with backoff
        raise EventNotReady(event_id)
    return result


class EventNotReady(Exception):
    """The event is about a payment not recorded yet (the order has not committed)."""


@shared_task(name="billing.stripe_events_retry")
def stripe_events_retry_task() -> int:
    """Every minute, per tenant: events still waiting for their payment (or whose task was
    lost) are applied again."""
    from .webhooks import events_retry

    return events_retry()


@shared_task(name="billing.autopay_run")
def autopay_run_task() -> dict:
    """Daily, per tenant: bill monthly tuition on the billing day and retry failed charges."""
    from .autopay import autopay_run

    return autopay_run()
