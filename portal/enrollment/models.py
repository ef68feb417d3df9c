"""Seats: holds in a family's cart, orders, enrollments and waitlists.

Every row that takes a seat (an active hold, a waitlist offer, a reserved / pending / active
enrollment) is created or changed only by ``portal.enrollment.services`` while holding the
offering's row lock, and the offering's ``seats_taken`` counter is recounted under that same
lock, so two checkouts can never both take the last seat."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.privacy.history import audited


class Hold(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "In a cart"
        OFFER = "offer", "Waitlist offer"
        CONVERTED = "converted", "Became an enrollment"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    SEAT_TAKING = (Status.ACTIVE, Status.OFFER)

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="holds"
    )
    student = models.ForeignKey(
        "portal_accounts.Student", on_delete=models.CASCADE, related_name="holds"
    )
    offering = models.ForeignKey(
        "portal_catalog.Offering", on_delete=models.CASCADE, related_name="holds"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    expiry_warning_sent_at = models.DateTimeField(null=True, blank=True)
    keyword = models.CharField(
        max_length=100, blank=True, help_text="Priority-registration keyword given when added."
    )
    camp_days = ArrayField(
        models.DateField(),
        default=list,
        blank=True,
        help_text="A camp booked per day or week: the days held, in order. Empty: every day.",
    )

    class Meta:
        ordering = ("created_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "offering"],
                condition=models.Q(status__in=["active", "offer"]),
                name="enrollment_one_live_hold_per_student_offering",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.offering} ({self.status})"

    def seconds_left(self, now=None) -> int:
        now = now or timezone.now()
        return max(int((self.expires_at - now).total_seconds()), 0)


@audited()
class Order(models.Model):
    """What a family buys or owes, priced on the server by ``portal.orders``, the one owner of an
    order's money: ``total`` is the sum of its lines (discounts are negative lines); account
    credit and gift certificates are *tenders* (``portal.orders.models.OrderTender``), payments
    against the order, never lines; ``amount_due`` = total - live tenders is what a card pays."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    class Kind(models.TextChoices):
        REGISTRATION = "registration", "Registration"
        STORE = "store", "Store purchase"
        TUITION = "tuition", "Monthly tuition"
        ADJUSTMENT = "adjustment", "Price adjustment"
        BALANCE = "balance", "Balance payment"

    # Invoices are owed from the moment they exist: their charges are in the ledger at once and
    # they never lapse (they stay payable until paid, or settled by a balance payment).
    INVOICE_KINDS = (Kind.TUITION, Kind.ADJUSTMENT)

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="orders"
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.REGISTRATION, db_index=True
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT, db_index=True
    )
    currency = models.CharField(max_length=3)
    subtotal = models.IntegerField(help_text="Minor units: the positive lines.")
    discount_total = models.IntegerField(
        default=0, help_text="Minor units: the discount lines, a negative number or zero."
    )
    total = models.IntegerField(help_text="Minor units: subtotal + discounts, the sum of lines.")
    idempotency_key = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Seats are released if it is not paid by then; empty for invoices, which do "
        "not lapse.",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["family", "idempotency_key"], name="enrollment_order_idempotency"
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="enrollment_order_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(total=models.F("subtotal") + models.F("discount_total")),
                name="enrollment_order_total_is_subtotal_plus_discounts",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"

    def lapsed(self, now=None) -> bool:
        """Unpaid past its deadline (its seats are released, it can no longer be paid)."""
        return (
            self.status == self.Status.AWAITING_PAYMENT
            and self.expires_at is not None
            and self.expires_at <= (now or timezone.now())
        )


@audited()
class OrderLine(models.Model):
    class Kind(models.TextChoices):
        TUITION = "tuition", "Tuition"
        REGISTRATION_FEE = "registration_fee", "Registration fee"
        SIBLING_DISCOUNT = "sibling_discount", "Sibling discount"
        MULTI_CLASS_DISCOUNT = "multi_class_discount", "Multi-class discount"
        GIFT_CERTIFICATE = "gift_certificate", "Gift certificate bought"
        PUNCH_PASS = "punch_pass", "Punch pass bought"
        TRANSFER = "transfer", "Transfer price difference"
        BALANCE = "balance", "Payment toward the account balance"

    # Lines that are not charges: paying the open balance adds nothing the family owes.
    NOT_CHARGED = (Kind.BALANCE,)

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    description = models.CharField(max_length=255)
    amount = models.IntegerField(help_text="Minor units; discounts are negative.")
    student = models.ForeignKey("portal_accounts.Student", null=True, on_delete=models.PROTECT)
    offering = models.ForeignKey("portal_catalog.Offering", null=True, on_delete=models.PROTECT)
    registration_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


@audited()
class Enrollment(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved (awaiting payment)")
        PENDING = "pending", _("Pending approval")
        ACTIVE = "active", _("Enrolled")
        DENIED = "denied", _("Denied")
        DROPPED = "dropped", _("Dropped")
        CANCELLED = "cancelled", _("Cancelled")
        TRANSFERRED = "transferred", _("Transferred")

    LIVE = (Status.RESERVED, Status.PENDING, Status.ACTIVE)

    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.PROTECT, related_name="enrollments"
    )
    student = models.ForeignKey(
        "portal_accounts.Student", on_delete=models.PROTECT, related_name="enrollments"
    )
    offering = models.ForeignKey(
        "portal_catalog.Offering", on_delete=models.PROTECT, related_name="enrollments"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments"
    )
    status = models.CharField(max_length=12, choices=Status.choices, db_index=True)
    start_date = models.DateField(help_text="First meeting the student attends.")
    end_date = models.DateField(null=True, blank=True, help_text="Last day, when dropped.")
    camp_days = ArrayField(
        models.DateField(),
        default=list,
        blank=True,
        help_text="A camp booked per day or week: the days the student comes, in order. Empty: "
        "every meeting.",
    )
    transferred_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="transferred_to"
    )
    staff_note = models.TextField(blank=True)
    # DO_NOTHING: users also live in the public schema (like Request.decided_by).
    enrolled_by = models.ForeignKey(
        "users.User",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        help_text="The staff member who enrolled the student at the front desk.",
    )
    override_rules = models.JSONField(
        default=list,
        blank=True,
        help_text="Codes of the rules a staff override set aside (eligibility, capacity, "
        "registration window).",
    )
    override_reason = models.TextField(blank=True)
    override_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("start_date", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "offering"],
                condition=models.Q(status__in=["reserved", "pending", "active"]),
                name="enrollment_one_live_per_student_offering",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.offering} ({self.status})"


@audited()
class RegistrationFeeCharge(models.Model):
    """A registration fee paid for a family (or a student) in a registration year, so the fee
    is charged once."""

    family = models.ForeignKey("portal_accounts.Family", on_delete=models.CASCADE)
    student = models.ForeignKey(
        "portal_accounts.Student", null=True, blank=True, on_delete=models.CASCADE
    )
    registration_year = models.PositiveSmallIntegerField()
    order = models.ForeignKey(Order, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["family", "student", "registration_year"],
                name="enrollment_fee_once_per_year",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"Registration fee {self.registration_year} for {self.family_id}"


@audited()
class WaitlistEntry(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a seat")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        LAPSED = "lapsed", _("Offer lapsed")
        LEFT = "left", _("Left the list")
        SKIPPED = "skipped", _("Skipped (not eligible)")

    LIVE = (Status.WAITING, Status.OFFERED)

    offering = models.ForeignKey(
        "portal_catalog.Offering", on_delete=models.CASCADE, related_name="waitlist"
    )
    family = models.ForeignKey(
        "portal_accounts.Family", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    student = models.ForeignKey(
        "portal_accounts.Student", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    priority = models.PositiveIntegerField(
        db_index=True, help_text="Lower goes first; staff reorder the list by editing it."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.WAITING, db_index=True
    )
    hold = models.OneToOneField(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="waitlist_entry"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ("offering", "priority", "created_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "offering"],
                condition=models.Q(status__in=["waiting", "offered"]),
                name="enrollment_one_live_waitlist_entry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} waiting for {self.offering}"
