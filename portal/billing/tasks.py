from celery import shared_task


@shared_task(
    name="billing.stripe_event_process",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
)
def stripe_event_process_task(event_id: str) -> str:
    from .webhooks import event_apply

    return event_apply(event_id=event_id)


@shared_task(name="billing.autopay_run")
def autopay_run_task() -> dict:
    """Daily, per tenant: bill monthly tuition on the billing day and retry failed charges."""
    from .autopay import autopay_run

    return autopay_run()
