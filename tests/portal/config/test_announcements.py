"""Announcements: staff save them through one service (validated, audited), banners show on
every portal page to their audience, and the email to the audience goes once per family
however many times it is asked for or its task is delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from kernel.errors import ApplicationError
from portal.config.announcements import (
    announcement_audience_families,
    announcement_delete,
    announcement_email_progress,
    announcement_email_queue,
    announcement_email_send,
    announcement_save,
)
from portal.config.models import Announcement, AnnouncementEmail
from portal.config.selectors import announcement_banners, announcement_news
from portal.outbox.models import OutboxMessage
from portal.privacy.models import AuditEntry
from tests.factories import (
    AnnouncementFactory,
    GuardianFactory,
    LevelFactory,
    ProgramFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db


def values(**extra) -> dict:
    return {"title": "Pool closed", "body": "Maintenance.", "kind": "banner",
            "severity": "warning", "audience": "everyone", "programs": [], "link_url": "",
            "starts_at": None, "ends_at": None, "is_published": True, "sort_order": 0,
            **extra}  # fmt: skip


def test_save_creates_changes_and_audits(in_tenant_a):
    created = announcement_save(values=values())
    assert created.email_progress is None
    row = Announcement.objects.get()
    assert (row.title, row.severity, row.kind) == ("Pool closed", "warning", "banner")
    changed = announcement_save(announcement_id=row.pk, values={"title": "Pool open"})
    assert changed.title == "Pool open" and changed.severity == "warning"
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("announcement_save") == 2


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"title": ""}, "title", "This field cannot be blank."),
        ({"audience": "programs"}, "programs", "Choose at least one program for this audience."),
        ({"programs": [999999]}, "programs", "Choose programs of this business."),
        ({"severity": "panic"}, "severity", "Value 'panic' is not a valid choice."),
    ],
)
def test_bad_values_are_refused_and_change_nothing(in_tenant_a, bad, field, message):
    with pytest.raises(ApplicationError) as refused:
        announcement_save(values=values(**bad))
    assert refused.value.code == "invalid_input"
    assert refused.value.fields[field] == [message]
    assert not Announcement.objects.exists()


def test_the_end_must_follow_the_start(in_tenant_a):
    now = timezone.now()
    with pytest.raises(ApplicationError) as refused:
        announcement_save(values=values(starts_at=now, ends_at=now - timedelta(hours=1)))
    assert refused.value.fields == {"ends_at": ["The announcement must end after it starts."]}
    assert not Announcement.objects.exists()


def test_unknown_ids_are_404(in_tenant_a):
    for call in (
        lambda: announcement_save(announcement_id=999999, values=values()),
        lambda: announcement_delete(announcement_id=999999),
        lambda: announcement_email_queue(announcement_id=999999),
    ):
        with pytest.raises(ApplicationError) as refused:
            call()
        assert (refused.value.code, refused.value.status) == ("announcement_not_found", 404)


def test_banners_follow_dates_audience_and_severity(in_tenant_a):
    now = timezone.now()
    swim = ProgramFactory(name="Swim")
    AnnouncementFactory(title="Info", severity="info")
    AnnouncementFactory(title="Critical", severity="critical")
    AnnouncementFactory(title="Members", audience="logged_in")
    AnnouncementFactory(title="Later", starts_at=now + timedelta(hours=1))
    AnnouncementFactory(title="Over", ends_at=now - timedelta(minutes=1))
    AnnouncementFactory(title="Draft", is_published=False)
    AnnouncementFactory(title="News only", kind="news")
    for_swim = AnnouncementFactory(title="Swimmers", audience="programs")
    for_swim.programs.add(swim)
    assert [a.title for a in announcement_banners()] == ["Critical", "Info"]
    guardian = GuardianFactory()
    family = guardian.family
    shown = [a.title for a in announcement_banners(family=family)]
    assert shown[0] == "Critical" and sorted(shown[1:]) == ["Info", "Members"]
    StudentFactory(family=family, level=LevelFactory(program=swim))
    assert "Swimmers" in [a.title for a in announcement_banners(family=family)]
    assert [a.title for a in announcement_news()] == ["News only"]
    # The cache follows a change at once.
    announcement_save(announcement_id=for_swim.pk, values={"is_published": False})
    assert "Swimmers" not in [a.title for a in announcement_banners(family=family)]


def test_the_email_goes_once_per_family(in_tenant_a, django_capture_on_commit_callbacks):
    ana = GuardianFactory(email="ana@alpha.test", first_name="Ana")
    GuardianFactory(email="ben@alpha.test", family=ana.family, is_primary=False)
    GuardianFactory(email="cy@alpha.test", first_name="Cy")
    suspended = GuardianFactory(email="sus@alpha.test")
    suspended.family.status = "suspended"
    suspended.family.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        saved = announcement_save(values=values(), email_audience=True)
    assert saved.email_progress == {"families": 2, "sent": 0, "queued": 2}
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@alpha.test", "ben@alpha.test",
                                                     "cy@alpha.test"]  # fmt: skip
    email = next(m for m in mail.outbox if m.to == ["ana@alpha.test"])
    assert email.subject.startswith("Pool closed")
    assert "Hello Ana," in email.body and "Maintenance." in email.body
    assert announcement_email_progress(announcement_id=saved.pk) == {"families": 2, "sent": 2}
    # Asking again queues nobody; delivering a message again emails nobody.
    with django_capture_on_commit_callbacks(execute=True):
        again = announcement_email_queue(announcement_id=saved.pk)
    assert again == {"families": 2, "sent": 2, "queued": 0}
    for row in AnnouncementEmail.objects.all():
        assert announcement_email_send(email_id=row.pk) == "duplicate"
    assert len(mail.outbox) == 3
    assert OutboxMessage.objects.filter(task="config.announcement_email_send").count() == 2
    # A family that joins the audience later is emailed when staff ask again.
    GuardianFactory(email="dee@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        later = announcement_email_queue(announcement_id=saved.pk)
    assert later["queued"] == 1 and len(mail.outbox) == 4
    assert announcement_email_send(email_id=999999) == "missing"


def test_a_rolled_back_save_queues_no_email(in_tenant_a, django_capture_on_commit_callbacks):
    GuardianFactory(email="ana@alpha.test")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError):
        announcement_save(values=values(title=""), email_audience=True)
    assert mail.outbox == [] and not AnnouncementEmail.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_an_unpublished_announcement_is_not_emailed(in_tenant_a):
    GuardianFactory(email="ana@alpha.test")
    draft = AnnouncementFactory(is_published=False)
    with pytest.raises(ApplicationError) as refused:
        announcement_email_queue(announcement_id=draft.pk)
    assert (refused.value.code, refused.value.status) == ("announcement_not_published", 409)
    assert not AnnouncementEmail.objects.exists()


def test_the_programs_audience_is_the_families_taking_part(in_tenant_a):
    swim, gym = ProgramFactory(name="Swim"), ProgramFactory(name="Gym")
    swimmer = GuardianFactory(email="swim@alpha.test")
    StudentFactory(family=swimmer.family, level=LevelFactory(program=swim))
    gymnast = GuardianFactory(email="gym@alpha.test")
    StudentFactory(family=gymnast.family, level=LevelFactory(program=gym))
    announcement = announcement_save(values=values(audience="programs", programs=[swim.pk]))
    assert list(announcement_audience_families(announcement)) == [swimmer.family]


def test_delete_removes_it_and_its_email_records(in_tenant_a):
    GuardianFactory(email="ana@alpha.test")
    saved = announcement_save(values=values(), email_audience=True)
    announcement_delete(announcement_id=saved.pk)
    assert not Announcement.objects.exists() and not AnnouncementEmail.objects.exists()
    assert AuditEntry.objects.filter(action="announcement_delete").count() == 1
