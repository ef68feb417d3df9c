"""The beat scheduler sends public-schema chores once and per-tenant work to active portals."""

from types import SimpleNamespace

import pytest

from saas_platform.celery import app as celery_app
from saas_platform.celery_beat import PlatformScheduler
from tenants.services import tenant_register, tenant_suspend

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduler(tmp_path, monkeypatch):
    sent = []
    beat = PlatformScheduler(app=celery_app, schedule_filename=str(tmp_path / "beat"), lazy=True)

    def fake_apply_async(entry, producer=None, advance=True, **kwargs):
        from django.db import connection

        sent.append((entry.task, connection.schema_name))
        return SimpleNamespace(id="fake-task-id")

    monkeypatch.setattr(beat, "apply_async", fake_apply_async)
    beat.sent = sent
    return beat


def _entry(beat, tenant_schemas=None):
    schedule = {"chore": {"task": "tests.chore", "schedule": 60.0}}
    if tenant_schemas is not None:
        schedule["chore"]["tenant_schemas"] = tenant_schemas
    (entry,) = beat._tenant_aware_beat_schedule_to_dict(schedule).values()
    return beat.Entry(name="chore", app=celery_app, **entry)


def test_public_entries_run_once_in_the_public_schema(scheduler):
    scheduler.apply_entry(_entry(scheduler, ["public"]))
    assert scheduler.sent == [("tests.chore", "public")]


def test_tenant_entries_run_in_each_active_portal(scheduler, tenant_a, tenant_b):
    tenant_register(name="Half", slug="half", owner_email="o@half.test")
    tenant_suspend(slug=tenant_b.schema_name)
    scheduler.apply_entry(_entry(scheduler))
    assert scheduler.sent == [("tests.chore", "alpha")]


def test_the_configured_schedule_uses_public_chores():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULER == "saas_platform.celery_beat:PlatformScheduler"
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry.get("tenant_schemas", ["public"]) == ["public"]  # public, or every tenant
        assert entry["task"] in celery_app.tasks
