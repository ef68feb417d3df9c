"""Family emails, rendered from templates and sent by Celery after the change commits."""

from __future__ import annotations

from django.db import transaction


def notify_family(family_id: int, template: str, context: dict) -> None:
    """Queue ``emails/<template>.txt`` for the family's guardians once the transaction commits.
    ``context`` must be JSON-serialisable (it travels through the broker)."""
    from .tasks import send_family_email_task

    transaction.on_commit(lambda: send_family_email_task.delay(family_id, template, context))
