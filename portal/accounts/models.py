"""Families: guardians (each with their own login), students, emergency contacts, and the
policies they accept."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Family(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=150, help_text="e.g. The Rivera family")
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.ACTIVE,
        db_index=True,
        help_text="Suspended families cannot sign in; inactive ones may be kept from enrolling "
        "(portal settings).",
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True, help_text="State or province")
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, e.g. US")
    referral_source = models.CharField(max_length=100, blank=True)
    staff_notes = models.TextField(blank=True, help_text="Visible to staff only.")
    is_guest = models.BooleanField(
        default=False,
        db_index=True,
        help_text="A visitor who bought something without an account (a gift certificate); "
        "no login, not counted as a family that enrolls.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "families"
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name

    @property
    def primary_guardian(self) -> Guardian | None:
        for guardian in self.guardians.all():
            if guardian.is_primary:
                return guardian
        return None


class Guardian(models.Model):
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="guardians")
    # DO_NOTHING: the user table also exists in the public schema, where this table does not;
    # deleting a user detaches the guardian in portal.accounts.signals instead.
    user = models.OneToOneField(
        "users.User", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="guardian"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=30, blank=True)
    relationship = models.CharField(max_length=50, blank=True, help_text="e.g. Mother")
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-is_primary", "last_name", "first_name", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["family"],
                condition=models.Q(is_primary=True),
                name="accounts_one_primary_guardian",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Student(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        NONBINARY = "nonbinary", _("Non-binary")
        UNSPECIFIED = "unspecified", _("Prefer not to say")

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="students")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=12, choices=Gender.choices, default=Gender.UNSPECIFIED)
    level = models.ForeignKey(
        "portal_catalog.Level",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="students",
    )
    medical_notes = models.TextField(
        blank=True,
        help_text="Allergies, conditions, medication. Visible to the family and staff only.",
    )
    # A storage path under the business's prefix (<schema>/students/...), never a public media
    # file: it is opened only through a signed, short-lived link (portal.accounts.photos).
    photo = models.CharField(max_length=255, blank=True, default="", editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("first_name", "last_name", "pk")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class EmergencyContact(models.Model):
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="emergency_contacts")
    name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=50, blank=True)
    phone = models.CharField(max_length=30)

    class Meta:
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name


class Policy(models.Model):
    """A rule, waiver or billing authorisation that families (or each student) accept with a
    typed signature. Editing the text raises the version, which asks everyone again."""

    class Kind(models.TextChoices):
        TERMS = "terms", "Rules and terms"
        WAIVER = "waiver", "Waiver"
        BILLING = "billing_authorization", "Billing authorization"

    class Scope(models.TextChoices):
        FAMILY = "family", "Once per family"
        STUDENT = "student", "Once per student"

    title = models.CharField(max_length=150)
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.TERMS)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FAMILY)
    body = models.TextField()
    version = models.PositiveIntegerField(default=1, editable=False)
    is_active = models.BooleanField(default=True)
    required_at_signup = models.BooleanField(
        default=True, help_text="Family policies that must be accepted to create an account."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ("kind", "title", "pk")

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class PolicyAcceptance(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="acceptances")
    version = models.PositiveIntegerField()
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="policy_acceptances")
    student = models.ForeignKey(
        Student, null=True, blank=True, on_delete=models.CASCADE, related_name="policy_acceptances"
    )
    guardian = models.ForeignKey(Guardian, null=True, on_delete=models.SET_NULL)
    signature = models.CharField(max_length=150, help_text="The name the guardian typed.")
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ("-accepted_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "version", "family", "student"],
                name="accounts_acceptance_once",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy.title} v{self.version} by {self.signature}"


class CalendarFeed(models.Model):
    """A family's private iCalendar feed: anyone holding the token's URL can read the family's
    schedule (calendar apps cannot sign in), so the token is long and random, and revoking the
    feed deletes the row (the old URL then answers 404)."""

    family = models.OneToOneField(Family, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Calendar feed of {self.family}"


class SignupAnswer(models.Model):
    """A family's answer to one of the business's signup questions (config.SignupQuestion). The
    question's wording is kept with the answer, so a later edit or removal of the question does
    not change what the family answered."""

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="signup_answers")
    question = models.ForeignKey(
        "portal_config.SignupQuestion",
        null=True,
        on_delete=models.SET_NULL,
        related_name="answers",
    )
    question_label = models.CharField(max_length=150)
    value = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("question__sort_order", "pk")
        constraints = [
            models.UniqueConstraint(fields=("family", "question"), name="signup_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.question_label}: {self.value}"
