"""The audit trail of money and enrollments, written by PostgreSQL itself.

``audited()`` marks a model for django-pghistory: AFTER INSERT / UPDATE / DELETE row triggers
(installed by the model's app migrations, so they exist in every tenant schema: the template,
its clones and the spare pool) copy each changed row into an append-only ``<Model>Event``
table beside it. Saves, ``QuerySet.update()``, ``bulk_create``, cascades and raw SQL are all
recorded; nothing in Django can skip them. Each event links to a ``pghistory.Context`` row
saying who acted: the request's user, address, method and path and request id
(``HistoryContextMiddleware``), or the Celery task's name, id and the request id that
enqueued it (``task_history_context``).

Personal free text (reasons, notes, descriptions naming a student, gift recipients) and
bearer secrets (client secrets, gift codes) are left out of the copies, so a family's
anonymisation (portal.privacy.services) leaves nothing personal behind in the history."""

from __future__ import annotations

import functools
import re

import pghistory
import pghistory.runtime

# Columns never copied into the history (see above).
PRIVATE_FIELDS = {
    "reason",
    "staff_note",
    "note",
    "description",
    "client_secret",
    "code",
    "recipient_name",
    "recipient_email",
    "message",
    "failure_message",
    "last_error",
}


def audited():
    """Class decorator: record every insert, update and delete of the model by trigger."""

    def wrap(model):
        names = {f.name for f in model._meta.local_fields}
        return pghistory.track(
            pghistory.InsertEvent(),
            pghistory.UpdateEvent(),
            pghistory.DeleteEvent(),
            exclude=sorted(names & PRIVATE_FIELDS),
            append_only=True,
        )(model)

    return wrap


def tracked_models() -> list:
    """Every model whose changes the database records, with its event model."""
    from pghistory.core import event_models

    return sorted(
        {m.pgh_tracked_model for m in event_models() if m._meta.app_label.startswith("portal_")},
        key=lambda m: m._meta.label,
    )


# Statements that can never fire a row trigger, and the table a plain INSERT, UPDATE or DELETE
# writes (an optional schema and quotes around either name; ``ONLY``; ``AS alias`` after).
_NEVER_TRIGGERS = re.compile(r"\s*(?:SAVEPOINT|RELEASE|ROLLBACK|SET|SHOW)\b", re.IGNORECASE)
_DML_TABLE = re.compile(
    r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?(?:"?[\w-]+"?\.)?"?(\w+)"?',
    re.IGNORECASE,
)


@functools.cache
def _tracked_tables() -> frozenset[str]:
    """Every table with history triggers (all apps' tracked models, not only the portal's)."""
    from pghistory.core import event_models

    return frozenset(m.pgh_tracked_model._meta.db_table for m in event_models())


def context_needed(sql: str | bytes) -> bool:
    """Whether a statement run inside a ``pghistory.context`` may fire a history trigger, so
    needs the context's ``set_config`` pair in front of it.

    pghistory puts that pair (and the context's metadata, serialised to JSON again) in front
    of every statement but a ``SELECT`` while a context is open: in a checkout 21 of its 29
    statements, of which six write a tracked table. The rest (savepoints, ``SET LOCAL``, the
    audit entries, the seat counters, the outbox, the activity feed) cannot fire a history
    trigger; leaving the pair out of them saved 0.4-0.6 ms of CPU on each of a hold and a
    checkout in one process (docs/rush.md, "Tenth pass"). A statement whose table cannot be
    read from its first words (a ``WITH``, ``MERGE``, ``COPY``, anything unusual) keeps the
    context, as before: the shortcut only leaves out statements that certainly write no
    tracked table. The settings are transaction-local, so a tracked write later in the same
    transaction still gets its own."""
    if isinstance(sql, bytes):
        sql = sql.decode()
    if _NEVER_TRIGGERS.match(sql):
        return False
    target = _DML_TABLE.match(sql)
    return target is None or target.group(1) in _tracked_tables()


_inject_everywhere = pghistory.runtime._inject_history_context


def _inject_where_needed(execute, sql, params, many, context):
    """pghistory's execute wrapper, for the statements that may fire a history trigger."""
    if context_needed(sql):
        return _inject_everywhere(execute, sql, params, many, context)
    return execute(sql, params, many, context)


def inject_context_where_needed() -> None:
    """Install ``_inject_where_needed`` as the wrapper ``pghistory.context`` enters (it looks
    the function up in its module each time a context opens). Called from the app's
    ``ready()``; tests/portal/privacy/test_audit_trail.py holds it in place."""
    pghistory.runtime._inject_history_context = _inject_where_needed


_open_contexts: dict[str, object] = {}


def _task_started(task_id=None, task=None, **kwargs) -> None:
    """Celery: the changes a task makes are recorded under a context naming the task and the
    request id that enqueued it (the header kernel.observability adds)."""
    from kernel.observability import TASK_HEADER, current_request_id

    request_id = getattr(getattr(task, "request", None), TASK_HEADER, None)
    context = pghistory.context(
        task=getattr(task, "name", "") or "",
        task_id=task_id or "",
        request_id=request_id or current_request_id() or "",
        actor="system",
    )
    context.__enter__()
    _open_contexts[task_id or ""] = context


def _task_finished(task_id=None, **kwargs) -> None:
    context = _open_contexts.pop(task_id or "", None)
    if context is not None:
        context.__exit__(None, None, None)


def connect_task_history() -> None:
    from celery import signals

    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="history_task_started")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="history_task_done")
