from django.db import models
from django.utils import timezone


class PushDevice(models.Model):
    """An installed app that may receive push notifications for one guardian. The token is
    Expo's (``ExponentPushToken[...]``); one row per token, moved to whoever registers it last
    (a shared tablet), and removed when Expo says the app is gone (``DeviceNotRegistered``)."""

    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"
        WEB = "web", "Web"

    token = models.CharField(max_length=200, unique=True)
    guardian = models.ForeignKey(
        "portal_accounts.Guardian", on_delete=models.CASCADE, related_name="push_devices"
    )
    platform = models.CharField(max_length=10, choices=Platform.choices)
    app_id = models.CharField(
        max_length=200, blank=True, help_text="Bundle id of the app (a branded app or the shared)."
    )
    device_name = models.CharField(max_length=100, blank=True)
    locale = models.CharField(max_length=10, default="en", help_text="Language of the messages.")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.platform} device of guardian {self.guardian_id}"


class PushMessage(models.Model):
    """One notification to one device. Written in the transaction that decided it (through the
    outbox); sent afterwards, with no lock held, by ``push.send``; its Expo ticket is checked for
    a receipt later (``push.receipts``).

    queued -> sending -> sent -> delivered
                     \\-> failed            \\-> failed (receipt error)"""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    device = models.ForeignKey(
        PushDevice, null=True, on_delete=models.SET_NULL, related_name="messages"
    )
    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="push_messages"
    )
    event = models.CharField(max_length=40)
    # One message per event and device: a replayed task adds nothing.
    event_key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=2000)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    ticket_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "pk")
        constraints = [
            models.UniqueConstraint(fields=["event_key", "device"], name="push_once_per_device")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="push_status_idx")]

    def __str__(self) -> str:
        return f"{self.event} to {self.device_id} ({self.status})"


class PushBroadcast(models.Model):
    """An announcement already pushed to its audience (at most once)."""

    announcement = models.OneToOneField(
        "portal_config.Announcement", on_delete=models.CASCADE, related_name="push_broadcast"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"announcement {self.announcement_id} pushed to {self.recipients}"
