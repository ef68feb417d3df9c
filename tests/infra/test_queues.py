"""Every task lands on a queue that infra/ runs a worker for."""

from saas_platform.celery import app
from tests.infra.project import configured_queues


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_every_registered_task_routes_to_a_configured_queue():
    app.loader.import_default_modules()
    names = [name for name in app.tasks if not name.startswith("celery.")]
    assert len(names) >= 10
    queues = configured_queues()
    for name in names:
        assert _queue_of(name) in queues, name


def test_urgent_slow_and_bulk_work_are_kept_apart():
    assert _queue_of("enrollment.hold_expire") == "checkout"
    assert _queue_of("orders.stripe_event_process") == "checkout"
    assert _queue_of("orders.autopay_attempt") == "checkout"
    assert _queue_of("enrollment.send_family_email") == "notifications"
    assert _queue_of("store.send_gift_certificate") == "notifications"
    assert _queue_of("outbox.deliver") == "notifications"
    assert _queue_of("branded_apps.build_run") == "builds"
    assert _queue_of("tenants.tasks.tenant_provision_task") == "default"
    assert _queue_of("some.unrouted_task") == "default"
