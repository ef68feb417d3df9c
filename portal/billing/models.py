"""Money in a tenant's schema: the family ledger, payments made through Stripe on the
business's own account, and the Stripe events received. Integer minor units throughout."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.privacy.history import audited


@audited()
class Payment(models.Model):
    """One attempt to pay an order by card. It is recorded (``creating``) and committed before
    Stripe is called with the attempt's idempotency key, so no row lock is held during the call
    and a crash or a second click resumes the same PaymentIntent."""

    class Status(models.TextChoices):
        CREATING = "creating", "Being sent to Stripe"
        PENDING = "pending", "Waiting for the family"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="payments"
    )
    order = models.ForeignKey(
        "portal_enrollment.Order", on_delete=models.PROTECT, related_name="payments"
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    stripe_payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    saved_method = models.ForeignKey(
        "SavedPaymentMethod",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
        help_text="The saved card charged at once, if the family chose one.",
    )
    client_secret = models.CharField(max_length=255, blank=True)
    amount_refunded = models.PositiveIntegerField(default=0)
    disputed = models.BooleanField(default=False, help_text="The family's bank opened a dispute.")
    off_session = models.BooleanField(
        default=False, help_text="Charged without the family present (autopay)."
    )
    idempotency_key = models.CharField(
        max_length=255, blank=True, help_text="Sent with every Stripe call for this attempt."
    )
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "attempt"], name="billing_payment_attempt_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount")),
                name="billing_refund_not_above_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} for order {self.order_id} ({self.status})"


@audited()
class Refund(models.Model):
    """Money given back on a payment: recorded (``pending``) and committed before Stripe is
    called with the refund's own idempotency key, then completed in a second transaction, so no
    row lock is held during the call. A refund made in Stripe's dashboard arrives as a
    ``charge.refunded`` event and is recorded as succeeded."""

    class Status(models.TextChoices):
        PENDING = "pending", "Sent to Stripe"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField(help_text="Minor units.")
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    stripe_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="billing_refund_positive")
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount} on payment {self.payment_id} ({self.status})"


@audited()
class LedgerEntry(models.Model):
    """One line of a family's account. Positive amounts increase what the family owes
    (charges), negative ones decrease it (payments, credits, discounts); refunds give back
    money the family paid, so they are positive."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        DISCOUNT = "discount", _("Discount")
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")
        CREDIT = "credit", _("Credit")

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="ledger"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=255)
    amount = models.IntegerField(help_text="Minor units; + owed, - paid or credited.")
    currency = models.CharField(max_length=3)
    order = models.ForeignKey(
        "portal_enrollment.Order", null=True, blank=True, on_delete=models.PROTECT
    )
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT)
    source_key = models.CharField(
        max_length=120,
        unique=True,
        help_text="What created the entry (order line, payment, refund); makes recording it twice "
        "impossible.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class StripeEvent(models.Model):
    """Every Stripe event id is recorded before anything else, so a redelivery is a no-op."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-received_at",)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class StripeCustomer(models.Model):
    """The family as a Customer on the business's Stripe account (created on first need)."""

    family = models.OneToOneField(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="stripe_customer"
    )
    customer_id = models.CharField(max_length=64, unique=True)
    setup_attempts = models.PositiveIntegerField(default=0)
    pending_setup_intent_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The last SetupIntent started, until its card is saved.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.customer_id


class SavedPaymentMethod(models.Model):
    """A card the family saved through a SetupIntent, for autopay and one-click payments.
    Only Stripe holds the card; we keep what the family needs to recognise it."""

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="payment_methods"
    )
    stripe_payment_method_id = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-is_default", "-created_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["family"],
                condition=models.Q(is_default=True, removed_at__isnull=True),
                name="billing_one_default_method",
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


@audited()
class AutopayCharge(models.Model):
    """Collecting one invoice order off-session from the family's default saved card: a
    month's tuition (billed once per family and period) or a transfer's price difference.
    Failures retry on the portal's schedule and the family gets a pay-now link (the order).
    An attempt is claimed (``charging``, with a lease in ``next_attempt_at``) and committed
    before Stripe is called, so no row lock is held during the call; a lapsed lease is retried
    with the same idempotency key."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CHARGING = "charging", "Charging the card"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed (will retry)"
        NEEDS_ACTION = "needs_action", "Waiting for the family"

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="autopay_charges"
    )
    period = models.DateField(
        null=True, blank=True, help_text="First day of the month billed (monthly tuition)."
    )
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    order = models.OneToOneField(
        "portal_enrollment.Order", on_delete=models.PROTECT, related_name="autopay_charge"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "family")
        constraints = [
            models.UniqueConstraint(
                fields=["family", "period"],
                condition=models.Q(period__isnull=False),
                name="billing_autopay_once_per_period",
            )
        ]

    def __str__(self) -> str:
        what = f"{self.period:%Y-%m}" if self.period else f"order {self.order_id}"
        return f"Autopay {what} for {self.family_id} ({self.status})"


@audited()
class StaffPosting(models.Model):
    """A charge, a credit or an offline payment (cash, cheque) that staff posted on a family's
    account, with the note and reference they gave. Its ledger entry is written in the same
    transaction; who posted it is here and in the audit log."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        CREDIT = "credit", "Credit"
        PAYMENT = "payment", "Offline payment"

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CHEQUE = "cheque", "Cheque"
        OTHER = "other", "Other (bank transfer, card terminal...)"

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="staff_postings"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    method = models.CharField(
        max_length=10, choices=Method.choices, blank=True, help_text="Offline payments only."
    )
    amount = models.PositiveIntegerField(help_text="Minor units, always positive.")
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=255)
    reference = models.CharField(
        max_length=100, blank=True, help_text="Cheque number, receipt book number..."
    )
    note = models.TextField(blank=True, max_length=2000, help_text="Visible to staff only.")
    ledger_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="staff_posting"
    )
    # DO_NOTHING: users also live in the public schema (like Request.decided_by).
    posted_by = models.ForeignKey(
        "users.User", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    idempotency_key = models.CharField(
        max_length=100,
        unique=True,
        help_text="Given by the caller (or generated): the same key posts once.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="billing_staff_posting_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="payment", method__in=["cash", "cheque", "other"])
                | (~models.Q(kind="payment") & models.Q(method="")),
                name="billing_staff_posting_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.amount} for family {self.family_id}"
