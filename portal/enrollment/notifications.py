"""Family emails, rendered from templates and sent by Celery after the change commits, through
the transactional outbox (portal.outbox): a broker that is down delays them, never loses them."""

from __future__ import annotations

from portal.outbox.services import outbox_enqueue
from portal.push.services import push_family


def notify_family(family_id: int, template: str, context: dict) -> None:
    """Queue ``emails/<template>.txt`` for the family's guardians with the transaction: sent
    once it commits (and pushed to the family app for the events portal.push names).
    ``context`` must be JSON-serialisable (it is stored in the outbox)."""
    from .tasks import send_family_email_task

    outbox_enqueue(send_family_email_task, family_id, template, context)
    push_family(family_id, template, context)  # and to the family's phones, for some events
