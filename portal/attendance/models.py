"""Attendance: who came to each class meeting. A meeting is an offering on one of its dates
(``Offering.meetings()``); there is no meeting row, so a mark names the offering and the date.

A mark belongs either to an enrollment (a student of the class) or to an approved makeup
request (a student coming in once with a makeup token); unique per student and meeting. An
excused mark of an enrolled student may carry the makeup token it issued
(``portal.attendance.services``), so the token is issued once and revoked while unused when
the mark changes. Audited by PostgreSQL triggers like the other enrollment models
(``portal.privacy.history``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.privacy.history import audited


@audited()
class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        LATE = "late", _("Late")
        ABSENT = "absent", _("Absent")
        EXCUSED = "excused", _("Excused")

    offering = models.ForeignKey(
        "portal_catalog.Offering", on_delete=models.PROTECT, related_name="attendance"
    )
    meeting_date = models.DateField()
    student = models.ForeignKey(
        "portal_accounts.Student", on_delete=models.CASCADE, related_name="attendance"
    )
    enrollment = models.ForeignKey(
        "portal_enrollment.Enrollment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    makeup_request = models.OneToOneField(
        "portal_requests.Request",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    issued_token = models.OneToOneField(
        "portal_requests.MakeupToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="issued_by_attendance",
    )
    marked_by = models.ForeignKey(
        "users.User", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    marked_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("meeting_date", "offering_id", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "meeting_date", "student"],
                name="attendance_one_mark_per_student_meeting",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "meeting_date"],
                condition=models.Q(enrollment__isnull=False),
                name="attendance_one_mark_per_enrollment_meeting",
            ),
            models.CheckConstraint(
                condition=models.Q(enrollment__isnull=False, makeup_request__isnull=True)
                | models.Q(enrollment__isnull=True, makeup_request__isnull=False),
                name="attendance_enrollment_or_makeup",
            ),
        ]
        indexes = [models.Index(fields=["meeting_date", "offering"])]

    def __str__(self) -> str:
        return f"{self.student} at {self.offering} on {self.meeting_date}: {self.status}"
