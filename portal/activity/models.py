"""The online activity inbox: one item per thing a family did online (an enrollment, a
request, joining or accepting a waitlist, a payment, a failed autopay, a policy accepted, a
profile changed), written by the service that did it, in its transaction. Staff mark an item
processed (and back); who and when is on the item and each change is in the audit log."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActivityItem(models.Model):
    class Kind(models.TextChoices):
        ENROLLMENT = "enrollment", _("Enrollment")
        REQUEST = "request", _("Request")
        WAITLIST_JOIN = "waitlist_join", _("Joined a waitlist")
        WAITLIST_ACCEPT = "waitlist_accept", _("Accepted a waitlist seat")
        PAYMENT = "payment", _("Payment")
        AUTOPAY_FAILED = "autopay_failed", _("Autopay failed")
        POLICY_ACCEPTED = "policy_accepted", _("Policy accepted")
        PROFILE_CHANGED = "profile_changed", _("Profile changed")

    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="activity"
    )
    summary = models.CharField(max_length=255)
    object_type = models.CharField(max_length=60, blank=True, help_text="app_label.model")
    object_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # DO_NOTHING: users also live in the public schema (like Request.decided_by).
    processed_by = models.ForeignKey(
        "users.User", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["processed_at", "created_at"], name="activity_inbox")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def processed(self) -> bool:
        return self.processed_at is not None
