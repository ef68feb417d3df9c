"""Reading the inbox: filtered lists, counts, and one item's audit trail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from kernel.errors import ApplicationError

from .models import ActivityItem

STATUSES = ("unprocessed", "processed", "all")


def _bad(field: str, message: str) -> ApplicationError:
    return ApplicationError("invalid_filter", message, fields={field: [message]})


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _bad(field, "Give a date as YYYY-MM-DD.") from exc


def activity_list(
    *,
    kind: str = "",
    status: str = "unprocessed",
    family_id: int | None = None,
    since: str = "",
    until: str = "",
) -> QuerySet[ActivityItem]:
    """Items newest first, filtered by kind, status (unprocessed, processed, all), family and
    the business's days ``since``..``until`` (YYYY-MM-DD, inclusive). Bad filters:
    ``invalid_filter``."""
    status = status or "unprocessed"
    if status not in STATUSES:
        raise _bad("status", "Status is unprocessed, processed or all.")
    if kind and kind not in ActivityItem.Kind.values:
        raise _bad("kind", "Unknown kind of activity.")
    items = ActivityItem.objects.select_related("family", "processed_by")
    if kind:
        items = items.filter(kind=kind)
    if status == "unprocessed":
        items = items.filter(processed_at__isnull=True)
    elif status == "processed":
        items = items.filter(processed_at__isnull=False)
    if family_id is not None:
        items = items.filter(family_id=family_id)
    zone = timezone.get_current_timezone()
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and first > last:
        raise _bad("until", "The end is before the start.")
    if first:
        items = items.filter(created_at__gte=datetime.combine(first, time.min, tzinfo=zone))
    if last:
        items = items.filter(
            created_at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        )
    return items.order_by("-created_at", "-pk")


def activity_unprocessed_count() -> int:
    return ActivityItem.objects.filter(processed_at__isnull=True).count()


def activity_trail(item: ActivityItem) -> list:
    """Who marked the item processed or not, and when (the audit log), oldest first."""
    from portal.privacy.models import AuditEntry

    return list(
        AuditEntry.objects.filter(
            object_type=ActivityItem._meta.label_lower, object_id=str(item.pk)
        ).order_by("at", "pk")
    )


def activity_trails(items: list[ActivityItem]) -> dict[int, list]:
    """The audit trails of a page of items in one query: item id -> entries, oldest first."""
    from portal.privacy.models import AuditEntry

    trails: dict[int, list] = {item.pk: [] for item in items}
    if not trails:
        return trails
    entries = AuditEntry.objects.filter(
        object_type=ActivityItem._meta.label_lower, object_id__in=[str(pk) for pk in trails]
    ).order_by("at", "pk")
    for entry in entries:
        trails[int(entry.object_id)].append(entry)
    return trails
