"""Push tasks. Each runs in the tenant schema it was enqueued from, takes ids and is safe to run
twice (messages are unique per event and device, and claimed before they are sent)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="push.send", acks_late=True)
def push_send_task(message_ids: list[int] | None = None) -> dict:
    from .services import push_send

    return push_send(message_ids=message_ids)


@shared_task(name="push.relay")
def push_relay_task() -> int:
    from .services import push_relay

    return push_relay()


@shared_task(name="push.receipts")
def push_receipts_task() -> dict:
    from .services import push_receipts_check

    return push_receipts_check()


@shared_task(name="push.announcements")
def push_announcements_task() -> int:
    from .services import announcements_push_due

    return announcements_push_due()
