"""Announcements staff publish (banners on every portal page and news on the home page, in the
apps through ``/api/v1/portal``), and their optional email to the audience.

Emailing the audience is idempotent: ``announcement_email_queue`` creates one
``AnnouncementEmail`` per family of the audience under a unique constraint, while holding the
announcement's row lock, and queues one outbox message per row it created (sent after the
commit; a rollback queues nothing). Asking again queues only families that joined the audience
since. The task marks its row sent in the outbox delivery's transaction before the email goes
out, so a second delivery of the same message finds it sent and emails nobody."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from kernel.errors import ApplicationError
from portal import links

from .models import Announcement, AnnouncementEmail

FIELDS = ("title", "body", "kind", "severity", "audience", "link_url", "starts_at", "ends_at",
          "is_published", "sort_order")  # fmt: skip


def _not_found() -> ApplicationError:
    return ApplicationError("announcement_not_found", "No such announcement.", status=404)


def _invalid(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError("invalid_input", next(iter(fields.values()))[0], fields=fields)


def announcement_save(
    *,
    announcement_id: int | None = None,
    values: dict[str, Any],
    email_audience: bool = False,
) -> Announcement:
    """Add (``announcement_id`` None) or change an announcement from validated input
    (``portal.config.inputs.AnnouncementInput``); with ``email_audience``, also queue the email
    to its audience (``announcement_email_queue``, in the same transaction; its progress is
    then the answer's ``email_progress``). Refused with ``invalid_input`` naming the
    fields, or ``announcement_not_found``; nothing changes then."""
    from portal.catalog.models import Program
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        if announcement_id is None:
            announcement = Announcement()
        else:
            found = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
            if found is None:
                raise _not_found()
            announcement = found
        for name in FIELDS:
            if name in values:
                setattr(announcement, name, values[name])
        try:
            announcement.full_clean()
        except ValidationError as exc:
            raise _invalid({k: list(v) for k, v in exc.message_dict.items()}) from None
        program_ids = sorted(set(values.get("programs") or []))
        programs = list(Program.objects.filter(pk__in=program_ids))
        if len(programs) != len(program_ids):
            raise _invalid({"programs": ["Choose programs of this business."]})
        if announcement.audience == Announcement.Audience.PROGRAMS and not programs:
            if "programs" in values or announcement.pk is None:
                raise _invalid({"programs": ["Choose at least one program for this audience."]})
            programs = list(announcement.programs.all())
            if not programs:
                raise _invalid({"programs": ["Choose at least one program for this audience."]})
        announcement.save()
        if "programs" in values or announcement_id is None:
            announcement.programs.set(programs)
        audit_record(
            action="announcement_save",
            obj=announcement,
            fields={name: _plain(getattr(announcement, name)) for name in FIELDS}
            | {"programs": [p.pk for p in programs]},
        )
        announcement.email_progress = (
            announcement_email_queue(announcement_id=announcement.pk) if email_audience else None
        )
    return announcement


def _plain(value: Any) -> Any:
    return value if isinstance(value, bool | int | str | None) else str(value)


def announcement_delete(*, announcement_id: int) -> None:
    """Remove an announcement (families stop seeing it at once); its email records go with it,
    and a queued email not yet sent is then skipped."""
    from portal.privacy.audit import audit_record

    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
        if announcement is None:
            raise _not_found()
        audit_record(
            action="announcement_delete", obj=announcement, fields={"title": announcement.title}
        )
        announcement.delete()


def announcement_audience_families(announcement: Announcement):
    """Families an announcement's email goes to: not suspended, not a guest checkout, with a
    guardian who signs in; for the programs audience, those taking part in its programs (a
    student placed in one of its levels, or a live enrollment in one of its offerings)."""
    from portal.accounts.models import Family
    from portal.enrollment.models import Enrollment

    families = Family.objects.exclude(status=Family.Status.SUSPENDED).filter(
        is_guest=False, guardians__user__is_active=True
    )
    if announcement.audience == Announcement.Audience.PROGRAMS:
        program_ids = list(announcement.programs.values_list("pk", flat=True))
        families = families.filter(
            Q(students__level__program__in=program_ids)
            | Q(
                enrollments__offering__program__in=program_ids,
                enrollments__status__in=Enrollment.LIVE,
            )
        )
    return families.distinct()


def announcement_email_queue(*, announcement_id: int) -> dict[str, int]:
    """Queue the announcement's email to every family of its audience not emailed it yet (one
    outbox message per family, sent after the commit). Only a published announcement is
    emailed (``announcement_not_published``). Returns the progress
    (``announcement_email_progress``)."""
    from portal.outbox.services import outbox_enqueue
    from portal.privacy.audit import audit_record

    from .tasks import announcement_email_send_task

    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
        if announcement is None:
            raise _not_found()
        if not announcement.is_published:
            raise ApplicationError(
                "announcement_not_published",
                "Publish the announcement before emailing it.",
                status=409,
            )
        done = set(announcement.emails.values_list("family_id", flat=True))
        family_ids = [
            pk
            for pk in announcement_audience_families(announcement).values_list("pk", flat=True)
            if pk not in done
        ]
        rows = AnnouncementEmail.objects.bulk_create(
            [AnnouncementEmail(announcement=announcement, family_id=pk) for pk in family_ids]
        )
        for row in rows:
            outbox_enqueue(announcement_email_send_task, row.pk)
        audit_record(
            action="announcement_email_queue", obj=announcement, fields={"queued": len(rows)}
        )
    return announcement_email_progress(announcement_id=announcement_id) | {"queued": len(rows)}


def announcement_email_progress(*, announcement_id: int) -> dict[str, int]:
    """How many families the email is queued for and how many it has reached."""
    counts = AnnouncementEmail.objects.filter(announcement_id=announcement_id).aggregate(
        families=Count("pk"), sent=Count("pk", filter=Q(sent_at__isnull=False))
    )
    return {"families": counts["families"], "sent": counts["sent"]}


def announcement_email_send(*, email_id: int) -> str:
    """Email one family's guardians the announcement (the outbox task). Marks the row sent
    first, in the caller's transaction (the outbox delivery's): a failure to send rolls the
    mark back, a second delivery finds it sent. Returns "sent", "duplicate" or "missing"."""
    with transaction.atomic():
        row = (
            AnnouncementEmail.objects.select_related("announcement", "family")
            .filter(pk=email_id)
            .first()
        )
        if row is None:
            return "missing"
        claimed = AnnouncementEmail.objects.filter(pk=email_id, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
        if not claimed:
            return "duplicate"
        guardians = list(
            row.family.guardians.filter(user__is_active=True).order_by("-is_primary", "pk")
        )
        announcement = row.announcement
        for guardian in guardians:
            text = render_to_string(
                "emails/announcement.txt",
                {
                    "guardian": guardian.first_name,
                    "business": connection.tenant.name,
                    "announcement": announcement,
                    "portal_url": links.url("home"),
                },
            )
            subject, _, body = text.partition("\n")
            send_mail(
                subject=subject.removeprefix("Subject: ").strip(),
                message=body.strip() + "\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[guardian.email],
            )
        AnnouncementEmail.objects.filter(pk=email_id).update(recipients=len(guardians))
    return "sent"
