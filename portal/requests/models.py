"""Family requests about an enrollment: absences, makeups, transfers and drops. Each has a
status and, when staff decide, a decision with a note; the family is emailed on every change."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.privacy.history import audited


@audited()
class MakeupToken(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        REDEEMED = "redeemed", "Redeemed"
        EXPIRED = "expired", "Expired"

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="makeup_tokens"
    )
    student = models.ForeignKey(
        "portal_accounts.Student", on_delete=models.CASCADE, related_name="makeup_tokens"
    )
    program = models.ForeignKey("portal_catalog.Program", on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, help_text="Offering kind it can be used for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    expires_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("expires_on", "pk")

    def __str__(self) -> str:
        return f"Makeup token for {self.student} (until {self.expires_on})"


@audited()
class Request(models.Model):
    class Type(models.TextChoices):
        ABSENCE = "absence", _("Absence")
        MAKEUP = "makeup", _("Makeup")
        TRANSFER = "transfer", _("Transfer")
        DROP = "drop", _("Drop")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        CANCELLED = "cancelled", _("Cancelled")

    type = models.CharField(max_length=10, choices=Type.choices, db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="requests"
    )
    student = models.ForeignKey(
        "portal_accounts.Student", on_delete=models.CASCADE, related_name="requests"
    )
    enrollment = models.ForeignKey(
        "portal_enrollment.Enrollment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="requests",
    )
    meeting_date = models.DateField(null=True, blank=True, help_text="Absence or makeup date.")
    target_offering = models.ForeignKey(
        "portal_catalog.Offering",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incoming_requests",
        help_text="Transfer or makeup class.",
    )
    makeup_token = models.ForeignKey(
        MakeupToken, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    issued_token = models.OneToOneField(
        MakeupToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="issued_by"
    )
    effective_date = models.DateField(null=True, blank=True, help_text="Drop: last day.")
    price_difference = models.IntegerField(
        null=True, blank=True, help_text="Transfer: prorated difference in minor units (+ owed)."
    )
    reason = models.TextField(blank=True, max_length=2000)
    staff_note = models.TextField(blank=True, max_length=2000)
    decided_by = models.ForeignKey("users.User", null=True, blank=True, on_delete=models.DO_NOTHING)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["target_offering", "meeting_date", "type", "status"])]
        # Races closed in the database: the services check first (a clear refusal), and the
        # loser of two concurrent submissions hits these and gets the same refusal
        # (portal.requests.services.CONSTRAINT_ERRORS).
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "meeting_date"],
                condition=models.Q(type="absence", status__in=["pending", "approved"]),
                name="requests_one_live_absence_per_meeting",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "type"],
                condition=models.Q(type__in=["drop", "transfer"], status="pending"),
                name="requests_one_pending_drop_or_transfer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} for {self.student} ({self.status})"
