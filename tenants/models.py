from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as dj_timezone
from django_tenants.models import DomainMixin, TenantMixin

CURRENCIES = [
    ("USD", "US dollar"),
    ("CAD", "Canadian dollar"),
    ("EUR", "Euro"),
    ("GBP", "Pound sterling"),
    ("AUD", "Australian dollar"),
    ("NZD", "New Zealand dollar"),
    ("MXN", "Mexican peso"),
]
LOCALES = [("en", "English"), ("es", "Español")]


@functools.cache
def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The ZoneInfo for a tenant's ``timezone`` (UTC for a name the tz database lacks: a row
    written before validation, or a tz database older than the one that validated it)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@functools.cache
def _known_timezones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk (~30 ms); it does not change while
    # the process runs.
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _known_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. America/New_York).")


class Tenant(TenantMixin):
    """A business. ``schema_name`` is its slug: its DNS label and its PostgreSQL schema."""

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "Provisioning"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        OFFBOARDED = "offboarded", "Offboarded"

    name = models.CharField(max_length=100)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PROVISIONING, db_index=True
    )
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    currency = models.CharField(max_length=3, choices=CURRENCIES, default="USD")
    locale = models.CharField(max_length=10, choices=LOCALES, default="en")
    contact_email = models.EmailField()
    owner_email = models.EmailField(help_text="The first staff account, created on provisioning.")
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    provisioned_at = models.DateTimeField(null=True, blank=True, editable=False)
    provisioning_error = models.TextField(
        blank=True, help_text="The last provisioning failure, cleared when provisioning succeeds."
    )
    status_changed_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    stripe_account_id = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="The business's connected Stripe account (acct_...); payments are direct "
        "charges on it.",
    )
    logo_url = models.CharField(
        max_length=500, blank=True, help_text="The published theme's logo, for the directory."
    )
    stripe_charges_enabled = models.BooleanField(
        default=False, help_text="Stripe says the account can take payments (account.updated)."
    )
    stripe_details_submitted = models.BooleanField(
        default=False, help_text="Stripe says the owner finished its onboarding form."
    )
    stripe_requirements_due = models.JSONField(
        default=list, blank=True, help_text="What Stripe still needs (requirements.currently_due)."
    )
    stripe_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the account's state was last fetched from Stripe."
    )
    primary_domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="The verified custom domain the portal's links use; empty: "
        "<slug>.<PLATFORM_DOMAIN>. Kept equal to the Domain marked primary.",
    )
    offboard_backup = models.CharField(
        max_length=500,
        blank=True,
        help_text="Storage key of the archive exported when the tenant was offboarded.",
    )
    launched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the platform launched the business. Until then its family portal shows "
        "an “opening soon” notice (staff keep their console) and the directory leaves "
        "it out.",
    )
    listed_in_directory = models.BooleanField(
        default=True,
        help_text="Listed in the platform directory (the shared app's “find your school”) "
        "once launched. A business may opt out.",
    )
    plan = models.ForeignKey(
        "tenants.Plan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The platform subscription plan the business is billed for.",
    )

    # Schemas are created by tenants.services.tenant_provision (cloned from the template),
    # never implicitly on save, and never dropped by deleting a row.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.schema_name})"

    @property
    def slug(self) -> str:
        return self.schema_name

    @property
    def is_launched(self) -> bool:
        return self.launched_at is not None

    @property
    def platform_host(self) -> str:
        """``<slug>.<PLATFORM_DOMAIN>``: always routes, can never be removed."""
        return f"{self.schema_name}.{settings.PLATFORM_DOMAIN}"

    @property
    def primary_host(self) -> str:
        """The host the portal's links use: a verified custom domain made primary, or the
        platform host."""
        return self.primary_domain or self.platform_host

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The business's time zone: every request on its host, every task in its schema,
        its emails and PDFs run in it (``timezone.override(tenant.zone)``), and every window
        or deadline its staff set is entered and shown in it. See docs/tenancy.md, "Time"."""
        return zone_named(self.timezone)

    def url(self, path: str = "/") -> str:
        port = f":{settings.PLATFORM_URL_PORT}" if settings.PLATFORM_URL_PORT else ""
        return f"{settings.PLATFORM_URL_SCHEME}://{self.primary_host}{port}{path}"


class Plan(models.Model):
    """A monthly subscription the platform bills businesses for (Stripe Billing on the
    platform's own account: ``stripe_price_id`` is a recurring monthly Price)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price = models.PositiveIntegerField(help_text="In minor units of ``currency``.")
    currency = models.CharField(max_length=3, choices=CURRENCIES, default="USD")
    student_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Active students allowed; empty: no limit."
    )
    grace_days = models.PositiveIntegerField(
        default=14,
        help_text="Days a business may stay over the student limit (warned) before new "
        "enrollments are refused.",
    )
    stripe_price_id = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True, help_text="Offered to new businesses.")

    class Meta:
        ordering = ("monthly_price", "code")

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """A business's subscription to its plan on the platform's Stripe account. ``status``
    mirrors Stripe's subscription status (customer.subscription.* and invoice.payment_failed
    webhooks move it); ``over_limit_since`` starts the grace period."""

    class Status(models.TextChoices):
        NONE = "none", "Not subscribed"
        INCOMPLETE = "incomplete", "Incomplete"
        TRIALING = "trialing", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Canceled"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="subscription")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NONE)
    stripe_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    last_payment_error = models.CharField(max_length=300, blank=True)
    over_limit_since = models.DateTimeField(
        null=True, blank=True, help_text="First seen over the plan's student limit."
    )
    attempt = models.PositiveSmallIntegerField(
        default=1, help_text="Raised when a canceled subscription is started again (its key)."
    )
    updated_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return f"{self.tenant.schema_name}: {self.status}"


class PlatformStripeEvent(models.Model):
    """A Stripe event of the platform's own account (plans), recorded once before it is
    processed: a redelivery is a no-op."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=64)
    subscription_id = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(default=dj_timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("-received_at",)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Domain(DomainMixin):
    """A host name that routes to a tenant: its ``<slug>.<PLATFORM_DOMAIN>`` platform domain and
    any custom domains. Only verified domains route (``verified_at`` set); the platform domain
    is verified when it is created, a custom domain once its DNS TXT record is seen."""

    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    is_custom = models.BooleanField(
        default=False, help_text="Added by the business (not <slug>.<PLATFORM_DOMAIN>)."
    )
    verification_token = models.CharField(max_length=64, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_error = models.CharField(
        max_length=64, blank=True, help_text="The code of the last failed verification."
    )

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class SchemaTemplate(models.Model):
    """The captured DDL of the pre-migrated template schema (one row).

    ``migrations`` lists every migration recorded in the template, so provisioning can tell
    whether the template matches the code and refresh it when it does not."""

    schema_name = models.CharField(max_length=63, unique=True)
    ddl = models.TextField()
    migrations = models.JSONField(default=list)
    seeded_tables = models.JSONField(
        default=list, help_text="Tables that migrations filled with rows, copied into each clone."
    )
    fingerprint = models.CharField(max_length=64)
    refreshed_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return f"{self.schema_name} @ {self.fingerprint[:12]}"


class SpareSchema(models.Model):
    """A schema cloned from the template ahead of time, waiting to become a tenant's.

    Provisioning claims one (``ALTER SCHEMA ... RENAME``, about a millisecond) instead of
    cloning while the platform admin waits; a task refills the pool after each claim. Spares
    cloned for other migrations (``fingerprint``) are dropped, never handed out."""

    schema_name = models.CharField(max_length=63, unique=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return self.schema_name


class DeployRun(models.Model):
    """One run of ``manage.py deploy_migrate``: the migrations it brings tenant schemas to
    (``fingerprint``) and which schemas it has finished, so an interrupted run resumes."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    fingerprint = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=dj_timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    schemas_total = models.PositiveIntegerField(default=0)
    schemas_skipped = models.PositiveIntegerField(default=0)
    schemas_migrated = models.PositiveIntegerField(default=0)
    schemas_failed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-started_at", "-pk")

    def __str__(self) -> str:
        return f"deploy run {self.pk} ({self.status})"


class DeployRunSchema(models.Model):
    """A schema a deploy run finished: migrated, already current, or failed (with the error)."""

    class Outcome(models.TextChoices):
        MIGRATED = "migrated", "Migrated"
        CURRENT = "current", "Already current"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(DeployRun, on_delete=models.CASCADE, related_name="schemas")
    schema_name = models.CharField(max_length=63)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    seconds = models.FloatField(default=0)
    finished_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "schema_name"], name="deployrunschema_unique")
        ]

    def __str__(self) -> str:
        return f"{self.schema_name}: {self.outcome}"
