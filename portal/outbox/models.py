from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A Celery task decided inside a business transaction (an email to send after a checkout,
    a refund, a request decision...). The row commits with the change or not at all; the relay
    (portal.outbox.services) publishes it to the broker, and the delivery marks it done, so a
    broker that is down delays the message but never loses it, and a redelivery never sends
    it twice."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    eta = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Last time it was handed to the broker (None: not yet; the relay will).
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the task ran to the end; a later delivery of the same message is a no-op.
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # times published to the broker
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("created_at", "pk")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
