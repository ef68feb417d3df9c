"""Gift certificates: bought by a family through an order (paid like any other), or issued by
staff; an unguessable code; a balance that checkout draws on, in part if need be."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U


def new_code() -> str:
    """16 characters from a 30-letter alphabet (~78 bits), shown as XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_code(value: str) -> str:
    raw = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


class GiftCertificate(models.Model):
    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        ACTIVE = "active", "Active"
        VOID = "void", "Void"

    code = models.CharField(max_length=19, unique=True, default=new_code, editable=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    initial_amount = models.PositiveIntegerField(help_text="Minor units.")
    balance = models.PositiveIntegerField(help_text="Minor units left to spend.")
    currency = models.CharField(max_length=3)
    purchaser = models.ForeignKey(
        "portal_accounts.Family",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gift_certificates_bought",
    )
    order = models.ForeignKey(
        "portal_enrollment.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gift_certificates",
    )
    recipient_name = models.CharField(max_length=150)
    recipient_email = models.EmailField()
    message = models.CharField(max_length=500, blank=True)
    issued_by_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__lte=models.F("initial_amount")),
                name="store_gift_balance_not_above_initial",
            )
        ]

    def __str__(self) -> str:
        return f"Gift certificate …{self.code[-4:]} ({self.balance})"


class GiftCertificateUse(models.Model):
    """An amount drawn at checkout: reserved while the order waits for payment, used when it
    is confirmed, released (back to the balance) if the order lapses."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        USED = "used", "Used"
        RELEASED = "released", "Released"

    certificate = models.ForeignKey(GiftCertificate, on_delete=models.PROTECT, related_name="uses")
    order = models.ForeignKey(
        "portal_enrollment.Order", on_delete=models.CASCADE, related_name="gift_uses"
    )
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["certificate", "order"], name="store_one_use_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.amount} from {self.certificate} ({self.status})"
