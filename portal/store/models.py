"""Gift certificates: bought by a family through an order (paid like any other), or issued by
staff; an unguessable code; a balance that checkout draws on, in part if need be (each draw is
an ``OrderTender`` of the order it pays, ``portal.orders.models``).

Punch passes: N visits bought through an order like any other; each visit books a student
into one meeting of an eligible offering (a single-day enrollment)."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from portal.catalog.models import Offering
from portal.privacy.history import audited

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U


def new_code() -> str:
    """16 characters from a 30-letter alphabet (~78 bits), shown as XXXX-XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_code(value: str) -> str:
    raw = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@audited()
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


# --- punch passes -----------------------------------------------------------------------------


class PunchPassProduct(models.Model):
    """A pass of N visits staff sell (e.g. "10 open gym visits"): bought through an order, then
    each visit books the student into one meeting of an eligible offering."""

    class Scope(models.TextChoices):
        FAMILY = "family", "Any student of the family"
        STUDENT = "student", "One student"

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    visits = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(1000)], help_text="Number of visits."
    )
    price = models.PositiveIntegerField(help_text="In minor units (cents); 0 is free.")
    valid_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(3660)],
        help_text="The pass expires this many days after it is paid for.",
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FAMILY)
    program = models.ForeignKey(
        "portal_catalog.Program",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="punch_pass_products",
        help_text="Leave empty for offerings of any program.",
    )
    kind = models.CharField(
        max_length=10,
        choices=Offering.Kind.choices,
        default=Offering.Kind.CLASS,
        help_text="The kind of offering a visit can be used for.",
    )
    is_active = models.BooleanField(default=True, help_text="Offered for sale.")
    sort_order = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("sort_order", "name", "pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visits__gte=1), name="store_punch_product_visits_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_days__gte=1), name="store_punch_product_valid_days"
            ),
        ]

    def __str__(self) -> str:
        return self.name


@audited()
class PunchPass(models.Model):
    """A family's pass: active once its order is confirmed, until ``expires_on`` (inclusive) or
    until its visits are used. ``visits_left`` changes only under the pass's row lock."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        ACTIVE = "active", "Active"
        VOID = "void", "Void"

    product = models.ForeignKey(PunchPassProduct, on_delete=models.PROTECT, related_name="passes")
    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="punch_passes"
    )
    student = models.ForeignKey(
        "portal_accounts.Student",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="punch_passes",
        help_text="Set when the pass is for one student only.",
    )
    visits_total = models.PositiveSmallIntegerField()
    visits_left = models.PositiveSmallIntegerField()
    expires_on = models.DateField(null=True, blank=True, help_text="Set when it is paid for.")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT, db_index=True
    )
    order = models.ForeignKey(
        "portal_enrollment.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="punch_passes",
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "punch passes"
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visits_left__lte=models.F("visits_total")),
                name="store_punch_visits_left_not_above_total",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.name} ({self.visits_left}/{self.visits_total} left)"

    def is_expired(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.expires_on is not None and self.expires_on < today


@audited()
class PunchRedemption(models.Model):
    """One visit: a single-day enrollment of a student in one meeting of an offering."""

    punch_pass = models.ForeignKey(PunchPass, on_delete=models.PROTECT, related_name="redemptions")
    offering = models.ForeignKey(
        "portal_catalog.Offering", on_delete=models.PROTECT, related_name="punch_redemptions"
    )
    meeting_date = models.DateField()
    student = models.ForeignKey(
        "portal_accounts.Student", on_delete=models.PROTECT, related_name="punch_redemptions"
    )
    enrollment = models.OneToOneField(
        "portal_enrollment.Enrollment", on_delete=models.PROTECT, related_name="punch_redemption"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("meeting_date", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "offering", "meeting_date"],
                name="store_one_punch_per_student_meeting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} at {self.offering} on {self.meeting_date}"
