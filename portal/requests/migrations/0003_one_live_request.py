"""One live absence per enrollment and meeting date, one pending drop (and one pending transfer)
per enrollment. Duplicates that races left behind are cancelled first, keeping the one staff
already decided (else the oldest); makeup tokens the duplicates issued and nobody used yet
are expired, so one absence gives one token."""

from django.db import migrations, models
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

NOTE = "Cancelled: a duplicate of an earlier request for the same enrollment."


def cancel_duplicates(apps, schema_editor):
    Request = apps.get_model("portal_requests", "Request")
    MakeupToken = apps.get_model("portal_requests", "MakeupToken")
    groups = [
        (
            Request.objects.filter(type="absence", status__in=["pending", "approved"]),
            ("enrollment_id", "meeting_date"),
        ),
        (
            Request.objects.filter(type__in=["drop", "transfer"], status="pending"),
            ("enrollment_id", "type"),
        ),
    ]
    now = timezone.now()
    for queryset, key in groups:
        seen = set()
        duplicates = []
        ordered = queryset.exclude(enrollment_id=None).annotate(
            decided=Case(When(status="approved", then=Value(0)), default=Value(1),
                         output_field=IntegerField())
        ).order_by(*key, "decided", "pk")  # fmt: skip
        for pk, *values in ordered.values_list("pk", *key):
            if tuple(values) in seen:
                duplicates.append(pk)
            else:
                seen.add(tuple(values))
        if not duplicates:
            continue
        tokens = Request.objects.filter(pk__in=duplicates, issued_token__isnull=False)
        MakeupToken.objects.filter(
            pk__in=tokens.values("issued_token_id"), status="available"
        ).update(status="expired")
        Request.objects.filter(pk__in=duplicates).update(
            status="cancelled", staff_note=NOTE, decided_at=now
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portal_requests", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(cancel_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["pending", "approved"]), ("type", "absence")),
                fields=("enrollment", "meeting_date"),
                name="requests_one_live_absence_per_meeting",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending"), ("type__in", ["drop", "transfer"])),
                fields=("enrollment", "type"),
                name="requests_one_pending_drop_or_transfer",
            ),
        ),
    ]
