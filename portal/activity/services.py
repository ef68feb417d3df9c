"""Writing the inbox: ``activity_record`` from the services families act through (one INSERT
in the caller's transaction, so an action rolled back leaves no item), and staff marking items
processed or not (audited)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from kernel.errors import ApplicationError
from kernel.users.models import User
from portal.privacy.audit import audit_record

from .models import ActivityItem


def activity_record(
    *,
    kind: str,
    family_id: int,
    summary: str,
    obj: Model | None = None,
    processed_by: User | None = None,
    processed: bool = False,
) -> ActivityItem:
    """One inbox item for a family's action. ``obj`` names what it is about. An item that
    records what staff already handled (a request they decided) is written ``processed``, by
    ``processed_by``, so the inbox keeps it without asking anyone to process it."""
    if kind not in ActivityItem.Kind.values:
        raise ValueError(f"unknown activity kind {kind!r}")
    done = processed or processed_by is not None
    return ActivityItem.objects.create(
        kind=kind,
        family_id=family_id,
        summary=summary[:255],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        processed_at=timezone.now() if done else None,
        processed_by=processed_by if getattr(processed_by, "pk", None) else None,
    )


def activity_process_about(*, obj: Model, by: User | None, via: str) -> int:
    """Mark the unprocessed items about ``obj`` processed (staff handled what they were about,
    e.g. decided the request), each audited (``activity_processed`` with ``via``). Runs in the
    caller's transaction; returns how many items it marked."""
    items = list(
        ActivityItem.objects.select_for_update(of=("self",)).filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk), processed_at__isnull=True
        )
    )
    now = timezone.now()
    user = by if getattr(by, "pk", None) else None
    for item in items:
        item.processed_at = now
        item.processed_by = user
        item.save(update_fields=["processed_at", "processed_by"])
        audit_record(
            action="activity_processed", obj=item, user=user, fields={"kind": item.kind, "via": via}
        )
    return len(items)


def activity_mark(*, item_id: int, processed: bool, by: User | None) -> ActivityItem:
    """Mark an item processed (by whom, when) or back to unprocessed. Marking it as it already
    is changes nothing and writes nothing. Audited (``activity_processed`` /
    ``activity_unprocessed``)."""
    if not isinstance(processed, bool):
        raise ApplicationError(
            "invalid_input",
            "Say whether the item is processed.",
            fields={"processed": ["true or false."]},
        )
    with transaction.atomic():
        item = ActivityItem.objects.select_for_update(of=("self",)).filter(pk=item_id).first()
        if item is None:
            raise ApplicationError(
                "activity_not_found", "We could not find that activity item.", status=404
            )
        if item.processed == processed:
            return item
        item.processed_at = timezone.now() if processed else None
        item.processed_by = by if processed else None
        item.save(update_fields=["processed_at", "processed_by"])
        audit_record(
            action="activity_processed" if processed else "activity_unprocessed",
            obj=item,
            user=by,
            fields={"kind": item.kind},
        )
    return item
