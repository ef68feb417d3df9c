"""Deploy-time migrations for thousands of tenant schemas (``manage.py deploy_migrate``).

``migrate_schemas`` runs Django's migrate once per schema, one after another: loading the
migration graph, reading the schema's history and rendering the project state costs ~0.5-1 s
even when nothing is to apply (public reports: 12 minutes for 900 tenants). Here:

1. the public schema is migrated (``migrate_schemas --shared``);
2. the provisioning template is refreshed when its migrations differ from the code's, and the
   spare schemas cloned from the old template are dropped and re-cloned (``pool_fill``);
3. every tenant schema is checked against the migration graph in a few queries (one per
   ``CHECK_CHUNK`` schemas): a schema whose ``django_migrations`` holds every node of the graph
   is current and skipped;
4. the others are migrated in parallel worker processes, each with its own connection;
5. each finished schema is recorded in ``tenants_deployrunschema`` under the run's id, so a
   run that was interrupted (or had failures) continues where it stopped when started again.

Why hand-written: django-tenants' ``migrate_schemas --executor=multiprocessing`` runs the same
per-schema migrate in parallel, but still pays the ~0.5-1 s for every schema that is already
current, keeps no record to resume a failed or interrupted run from, and knows nothing of the
provisioning template and spare pool that must move with the code.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections, connection, connections
from django.db.models import Count
from django.utils import timezone
from django_tenants.utils import quote_schema_name
from tqdm import tqdm

from kernel.errors import ApplicationError

from . import schema_clone
from .models import DeployRun, DeployRunSchema, SchemaTemplate, SpareSchema, Tenant

logger = logging.getLogger(__name__)

CHECK_CHUNK = 200


@dataclass
class DeployReport:
    run: DeployRun
    resumed: bool
    public_seconds: float = 0.0
    template_refreshed: bool = False
    template_seconds: float = 0.0
    spares_dropped: int = 0
    spares_cloned: int = 0
    total: int = 0
    already_done: int = 0
    current: int = 0
    migrated: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    check_seconds: float = 0.0
    migrate_seconds: float = 0.0


def migration_target() -> tuple[frozenset[str], str]:
    """Every migration of the code as ``app.name``, and its fingerprint, read from disk now
    (not the per-process cache: a deploy may run right after new files appeared)."""
    schema_clone._expected = None
    nodes, fingerprint = schema_clone.expected_migrations()
    return frozenset(f"{app}.{name}" for app, name in nodes), fingerprint


def tenant_schemas() -> list[str]:
    """Schemas of tenants that exist in the database (provisioning ones included: their
    schema is used once they resume), in a stable order."""
    names = list(
        Tenant.objects.exclude(status=Tenant.Status.OFFBOARDED)
        .exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    if not names:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [names])
        existing = {row[0] for row in cursor.fetchall()}
    return [name for name in names if name in existing]


def schemas_current(schema_names: Iterable[str], target: frozenset[str]) -> set[str]:
    """The schemas whose migration history holds every migration of ``target``: one query per
    ``CHECK_CHUNK`` schemas, each counting the schema's rows that match the target."""
    names = list(schema_names)
    expected = sorted(target)
    current: set[str] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(names), CHECK_CHUNK):
            chunk = names[start : start + CHECK_CHUNK]
            # Schemas without a django_migrations table (never migrated) are simply not current.
            cursor.execute(
                "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
                "WHERE n.nspname = ANY(%s) AND c.relname = 'django_migrations' "
                "AND c.relkind = 'r'",
                [chunk],
            )
            with_table = [row[0] for row in cursor.fetchall()]
            if not with_table:
                continue
            parts = [
                f"SELECT %s, (SELECT count(*) FROM {quote_schema_name(name)}.django_migrations m "
                "WHERE m.app || '.' || m.name = ANY(%s))"
                for name in with_table
            ]
            params: list = []
            for name in with_table:
                params += [name, expected]
            cursor.execute(" UNION ALL ".join(parts), params)
            current |= {name for name, count in cursor.fetchall() if count >= len(expected)}
    return current


# The project state before the pending migrations, rendered once per process and reused for
# every schema that starts from the same applied set (at deploy time: nearly all of them).
_rendered_states: dict[frozenset, object] = {}


def _executor_for(schema_name: str):
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    # As django-tenants does: make sure the schema has its own history table before Django
    # could find public's through the search path.
    connection.set_schema(schema_name, include_public=False)
    MigrationRecorder(connection).ensure_schema()
    connection.set_schema(schema_name)
    return MigrationExecutor(connection)


def _state_before(executor):
    key = frozenset(executor.loader.applied_migrations)
    state = _rendered_states.get(key)
    if state is None:
        state = executor._create_project_state(with_applied_migrations=True)
        state.apps  # noqa: B018 - render the models once (the expensive part of migrate)
        _rendered_states.clear()
        _rendered_states[key] = state
    return state.clone()


def warm_state(schema_name: str) -> None:
    """Render the starting state in this process (before forking workers, which inherit it)."""
    try:
        executor = _executor_for(schema_name)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            _state_before(executor)
    finally:
        connection.set_schema_to_public()


def _apply_pending(schema_name: str) -> None:
    """Django's migrate for one schema, minus what a deploy repeats for nothing: the models are
    rendered once per process (not three times per schema), and the pre/post-migrate signals
    (content types, permissions, contenttype renames) get the project's own models, which are
    the target state. Anything other than a plain forward plan goes through migrate_schemas."""
    from django.apps import apps as global_apps
    from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal

    executor = _executor_for(schema_name)
    executor.loader.check_consistent_history(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    if not plan:
        return
    if any(backwards for _, backwards in plan) or executor.loader.detect_conflicts():
        connection.set_schema_to_public()
        call_command(
            "migrate_schemas",
            schema_name=schema_name,
            tenant=True,
            interactive=False,
            verbosity=0,
            stdout=io.StringIO(),
        )
        return
    state = _state_before(executor)
    emit_pre_migrate_signal(0, False, connection.alias, apps=global_apps, plan=plan)
    executor.migrate(targets, plan=plan, state=state)
    emit_post_migrate_signal(0, False, connection.alias, apps=global_apps, plan=plan)


def schema_migrate_existing(schema_name: str) -> tuple[str, str | None, float]:
    """Run the tenant migrations of one existing schema. Returns (schema, error, seconds)."""
    started = time.perf_counter()
    error = None
    try:
        _apply_pending(schema_name)
    except Exception as exc:  # recorded per schema; the run goes on with the others
        logger.exception("migrating %s failed", schema_name)
        error = f"{type(exc).__name__}: {exc}"[:4000]
    finally:
        try:
            connection.set_schema_to_public()
        except Exception:  # the connection broke with the migration; the next call reconnects
            close_old_connections()
    return schema_name, error, time.perf_counter() - started


def _worker_init() -> None:
    # A forked child must never use the parent's socket: drop the inherited handles (the
    # parent closed them before forking) so the first query opens this process's own.
    for conn in connections.all():
        conn.connection = None
        conn.close()


def _migrate_parallel(
    schemas: list[str], workers: int, on_result: Callable[[str, str | None, float], None]
) -> None:
    if not schemas:
        return
    try:
        warm_state(schemas[0])
    except Exception:  # that schema's own run will report it
        logger.warning("could not prepare the migration state from %s", schemas[0], exc_info=True)
    if workers <= 1 or len(schemas) <= 1:
        for name in schemas:
            on_result(*schema_migrate_existing(name))
        return
    connections.close_all()  # children must open their own connections
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes=min(workers, len(schemas)), initializer=_worker_init) as pool:
        for result in pool.imap_unordered(schema_migrate_existing, schemas):
            on_result(*result)
        pool.close()
        pool.join()


def _refresh_template_if_stale(fingerprint: str, report: DeployReport, force: bool) -> None:
    schema = settings.TENANT_TEMPLATE_SCHEMA
    stored = SchemaTemplate.objects.filter(schema_name=schema, fingerprint=fingerprint).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        exists = cursor.fetchone() is not None
    if force or not stored or not exists:
        started = time.perf_counter()
        schema_clone.template_forget()
        schema_clone.template_refresh()
        report.template_refreshed = True
        report.template_seconds = time.perf_counter() - started
    # Spares cloned from an older template would hand out schemas missing the new migrations:
    # pool_fill drops them and clones replacements from the template just refreshed.
    from .schema_pool import pool_fill

    report.spares_dropped = SpareSchema.objects.exclude(fingerprint=fingerprint).count()
    report.spares_cloned = pool_fill()


def _run_for(fingerprint: str, *, run_id: int | None, new_run: bool) -> tuple[DeployRun, bool]:
    if run_id is not None:
        run = DeployRun.objects.filter(pk=run_id).first()
        if run is None:
            raise ApplicationError("deploy_run_not_found", f"No deploy run {run_id}.", status=404)
        if run.fingerprint != fingerprint:
            raise ApplicationError(
                "deploy_run_stale",
                f"Deploy run {run_id} targeted other migrations; start a new run.",
                status=409,
            )
        return run, True
    if not new_run:
        run = (
            DeployRun.objects.filter(fingerprint=fingerprint)
            .exclude(status=DeployRun.Status.DONE)
            .order_by("-started_at", "-pk")
            .first()
        )
        if run is not None:
            return run, True
    return DeployRun.objects.create(fingerprint=fingerprint), False


def deploy_migrate(
    *,
    workers: int | None = None,
    run_id: int | None = None,
    new_run: bool = False,
    skip_public: bool = False,
    force_template: bool = False,
    progress_stream=None,
    log: Callable[[str], None] = lambda message: None,
) -> DeployReport:
    """Bring the public schema, the template, the spare pool and every tenant schema to the
    code's migrations. Resumes the latest unfinished run for the same migrations unless
    ``new_run``; ``run_id`` resumes a given run."""
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    connection.set_schema_to_public()
    public_seconds = 0.0
    if not skip_public:
        started = time.perf_counter()
        call_command(
            "migrate_schemas", shared=True, interactive=False, verbosity=0, stdout=io.StringIO()
        )
        connection.set_schema_to_public()
        public_seconds = time.perf_counter() - started
        log(f"public schema migrated in {public_seconds:.2f}s")

    target, fingerprint = migration_target()
    run, resumed = _run_for(fingerprint, run_id=run_id, new_run=new_run)
    report = DeployReport(run=run, resumed=resumed, public_seconds=public_seconds)
    log(f"{'resuming' if resumed else 'starting'} deploy run {run.pk} ({fingerprint[:12]})")

    _refresh_template_if_stale(fingerprint, report, force_template)
    template_state = (
        f"refreshed in {report.template_seconds:.2f}s" if report.template_refreshed else "current"
    )
    log(
        f"template {template_state}; "
        f"spares: {report.spares_dropped} dropped, {report.spares_cloned} cloned"
    )

    started = time.perf_counter()
    schemas = tenant_schemas()
    report.total = len(schemas)
    finished = set(
        run.schemas.exclude(outcome=DeployRunSchema.Outcome.FAILED).values_list(
            "schema_name", flat=True
        )
    )
    todo = [name for name in schemas if name not in finished]
    report.already_done = len(schemas) - len(todo)
    current = schemas_current(todo, target)
    pending = [name for name in todo if name not in current]
    report.current = len(current)
    now = timezone.now()
    DeployRunSchema.objects.bulk_create(
        [
            DeployRunSchema(
                run=run, schema_name=name, outcome=DeployRunSchema.Outcome.CURRENT, finished_at=now
            )
            for name in sorted(current)
        ],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["run", "schema_name"],
        update_fields=["outcome", "error", "seconds", "finished_at"],
    )
    report.check_seconds = time.perf_counter() - started
    log(
        f"{len(schemas)} tenant schemas: {report.already_done} done earlier in this run, "
        f"{len(current)} current, {len(pending)} to migrate "
        f"(checked in {report.check_seconds:.2f}s)"
    )

    stream = progress_stream if progress_stream is not None else sys.stderr
    bar = tqdm(
        total=len(pending),
        desc="migrating tenant schemas",
        unit="schema",
        file=stream,
        # Redrawn in place on a terminal; in logs (a Job's, CI's) a redraw every 10 s at most.
        mininterval=0.1 if getattr(stream, "isatty", lambda: False)() else 10,
        ascii=True,
    )

    def record(name: str, error: str | None, seconds: float) -> None:
        outcome = DeployRunSchema.Outcome.FAILED if error else DeployRunSchema.Outcome.MIGRATED
        DeployRunSchema.objects.update_or_create(
            run=run,
            schema_name=name,
            defaults={
                "outcome": outcome,
                "error": error or "",
                "seconds": seconds,
                "finished_at": timezone.now(),
            },
        )
        if error:
            report.failed[name] = error
        else:
            report.migrated += 1
        if report.failed:
            bar.set_postfix_str(f"failed {len(report.failed)}", refresh=False)
        bar.update(1)

    started = time.perf_counter()
    try:
        _migrate_parallel(pending, workers, record)
    finally:
        bar.close()
        report.migrate_seconds = time.perf_counter() - started
        connection.set_schema_to_public()
        outcomes = dict(run.schemas.order_by().values_list("outcome").annotate(n=Count("pk")))
        run.schemas_total = len(schemas)
        run.schemas_skipped = outcomes.get(DeployRunSchema.Outcome.CURRENT, 0)
        run.schemas_migrated = outcomes.get(DeployRunSchema.Outcome.MIGRATED, 0)
        run.schemas_failed = outcomes.get(DeployRunSchema.Outcome.FAILED, 0)
        complete = run.schemas_failed == 0 and (
            run.schemas_skipped + run.schemas_migrated >= len(schemas)
        )
        run.status = DeployRun.Status.DONE if complete else DeployRun.Status.FAILED
        run.finished_at = timezone.now()
        run.save()
    return report
