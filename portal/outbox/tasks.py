from celery import shared_task


@shared_task(name="outbox.deliver", acks_late=True)
def outbox_deliver_task(message_id: int) -> str:
    from .services import outbox_deliver

    return outbox_deliver(message_id=message_id)


@shared_task(name="outbox.relay")
def outbox_relay_task() -> int:
    """Every OUTBOX_RELAY_INTERVAL seconds, per tenant: publish what is still pending."""
    from .services import outbox_publish

    return outbox_publish()
