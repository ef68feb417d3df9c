"""Tenders: what pays an order besides a card. Account credit and gift certificates are applied
by ``portal.orders`` at checkout as payments against the order (as pretix treats gift cards),
never as negative lines, so an order's total is always the sum of its lines and what a card
must pay is ``total - live tenders``."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from portal.privacy.history import audited


@audited()
class OrderTender(models.Model):
    class Kind(models.TextChoices):
        ACCOUNT_CREDIT = "account_credit", "Account credit"
        GIFT_CERTIFICATE = "gift_certificate", "Gift certificate"

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved (order awaiting payment)"
        USED = "used", "Used (order confirmed)"
        RELEASED = "released", "Released (order lapsed)"

    # Tenders that count against the order's total.
    LIVE = (Status.RESERVED, Status.USED)

    order = models.ForeignKey(
        "portal_enrollment.Order", on_delete=models.PROTECT, related_name="tenders"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RESERVED, db_index=True
    )
    amount = models.PositiveIntegerField(help_text="Minor units.")
    gift_certificate = models.ForeignKey(
        "portal_store.GiftCertificate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tenders",
    )
    description = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="orders_tender_positive"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="gift_certificate", gift_certificate__isnull=False)
                    | models.Q(kind="account_credit", gift_certificate__isnull=True)
                ),
                name="orders_tender_certificate_iff_gift",
            ),
            models.UniqueConstraint(
                fields=["order", "gift_certificate"],
                condition=models.Q(kind="gift_certificate"),
                name="orders_one_tender_per_certificate",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(kind="account_credit"),
                name="orders_one_credit_tender",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount} ({self.status})"
