"""Audit every change to money (ledger entries, payments and refunds, orders) and to
enrollments, wherever it is made (services, admin, tasks, webhooks). Each instance remembers
its tracked values when loaded (post_init), so an update records exactly what changed without
reading the row again; a save that changes none of them writes nothing."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_init, post_save

from portal.billing.models import LedgerEntry, Payment
from portal.enrollment.models import Enrollment, Order

from .audit import audit_record

TRACKED = {
    LedgerEntry: ("kind", "amount", "currency", "order_id", "payment_id", "description"),
    Payment: ("status", "amount", "amount_refunded", "currency", "order_id", "disputed"),
    Order: ("status", "total", "discount_total", "currency"),
    Enrollment: ("status", "student_id", "offering_id", "order_id", "start_date", "end_date"),
}
_SNAPSHOT = "_audit_snapshot"


def _values(instance) -> dict:
    return {name: getattr(instance, name, None) for name in TRACKED[type(instance)]}


def _jsonable(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _remember(sender, instance, **kwargs) -> None:
    instance.__dict__[_SNAPSHOT] = _values(instance)


def _saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    now = _values(instance)
    if created:
        audit_record(
            action="create", obj=instance, fields={k: _jsonable(v) for k, v in now.items()}
        )
    else:
        before = instance.__dict__.get(_SNAPSHOT) or {}
        changed = {
            name: [_jsonable(before.get(name)), _jsonable(value)]
            for name, value in now.items()
            if before.get(name) != value
        }
        if changed:
            audit_record(action="update", obj=instance, fields=changed)
    instance.__dict__[_SNAPSHOT] = now


def _deleted(sender, instance, **kwargs) -> None:
    audit_record(
        action="delete",
        obj=instance,
        fields={k: _jsonable(v) for k, v in _values(instance).items()},
    )


for _model in TRACKED:
    uid = f"privacy_audit_{_model._meta.label_lower}"
    post_init.connect(_remember, sender=_model, dispatch_uid=f"{uid}_init")
    post_save.connect(_saved, sender=_model, dispatch_uid=f"{uid}_save")
    post_delete.connect(_deleted, sender=_model, dispatch_uid=f"{uid}_delete")
