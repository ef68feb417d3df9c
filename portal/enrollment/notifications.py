"""Family emails, rendered from templates and sent by Celery after the change commits."""

from __future__ import annotations

from saas_platform.tasks import enqueue_on_commit


def notify_family(family_id: int, template: str, context: dict) -> None:
    """Queue ``emails/<template>.txt`` for the family's guardians once the transaction commits.
    ``context`` must be JSON-serialisable (it travels through the broker)."""
    from .tasks import send_family_email_task

    enqueue_on_commit(send_family_email_task, family_id, template, context)
