"""Build tasks run on their own queue ("builds", see CELERY_TASK_ROUTES), so a slow render
never delays checkout or email."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="branded_apps.build_run", acks_late=True)
def build_run_task(build_id: int) -> str:
    """Idempotent: a duplicate delivery finds the build taken or done and leaves it."""
    return services.build_run(build_id).status
