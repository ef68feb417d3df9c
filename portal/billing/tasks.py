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
