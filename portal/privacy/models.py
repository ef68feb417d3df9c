"""The audit log of a business (who read children's medical details, who changed money or
enrollments) and families' requests to be forgotten."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """One audited event. Append-only: nothing in the product updates or deletes these rows.
    The actor is copied (id, email, kind) rather than linked, so an entry outlives the login it
    names and survives a family's anonymisation unchanged."""

    class ActorKind(models.TextChoices):
        STAFF = "staff", "Staff"
        FAMILY = "family", "Family"
        PLATFORM = "platform", "Platform admin"
        SYSTEM = "system", "System (tasks, webhooks)"
        VISITOR = "visitor", "Visitor"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    action = models.CharField(max_length=40, db_index=True)
    object_type = models.CharField(max_length=60, help_text="app_label.model")
    object_id = models.CharField(max_length=40, blank=True)
    family_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    fields = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ("-at", "-pk")
        # Given to the business owner (a superuser of its schema) implicitly; to other staff by
        # hand. Without it the admin shows students' medical notes and the emergency contacts
        # redacted; with it every page view that shows them is audited.
        permissions = [
            ("view_medical", "Can see students' medical notes and families' emergency contacts")
        ]
        indexes = [models.Index(fields=["object_type", "object_id"], name="privacy_audit_object")]

    def __str__(self) -> str:
        who = self.actor_email or self.actor_kind
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_type}#{self.object_id}"


class DeletionRequest(models.Model):
    """A family asked to be forgotten; staff complete it (portal.privacy.services), which
    anonymises the family's personal data and keeps its money history."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="deletion_requests"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    reason = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by_email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ("-requested_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["family"],
                condition=models.Q(status="pending"),
                name="privacy_one_pending_deletion_per_family",
            )
        ]

    def __str__(self) -> str:
        return f"Deletion of family {self.family_id} ({self.status})"
