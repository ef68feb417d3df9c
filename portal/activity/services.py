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
    *, kind: str, family_id: int, summary: str, obj: Model | None = None
) -> ActivityItem:
    """One inbox item for a family's action. ``obj`` names what it is about."""
    if kind not in ActivityItem.Kind.values:
        raise ValueError(f"unknown activity kind {kind!r}")
    return ActivityItem.objects.create(
        kind=kind,
        family_id=family_id,
        summary=summary[:255],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )


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
