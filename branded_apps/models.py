"""A business's own app in the App Store and Google Play: the record staff edit, its store text
per locale, and the builds that turn it into a store-ready bundle."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .rules import (
    DESCRIPTION_MAX,
    KEYWORDS_MAX_BYTES,
    NAME_MAX,
    PLAY_FULL_MAX,
    PLAY_SHORT_MAX,
    PROMO_MAX,
    SUBTITLE_MAX,
)


class BrandedApp(models.Model):
    """One row per tenant schema. Identifiers lock after the first build: neither store lets
    them change once a binary has been uploaded."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    display_name = models.CharField(
        max_length=NAME_MAX, blank=True, help_text="The name under the icon and in the stores."
    )
    ios_bundle_id = models.CharField(max_length=155, blank=True)
    android_package = models.CharField(max_length=155, blank=True)
    scheme = models.CharField(
        max_length=40, blank=True, help_text="Deep-link URL scheme (lowercase letters, digits)."
    )
    version = models.CharField(
        max_length=20, default="1.0.0", help_text="Marketing version shown in the stores."
    )
    primary_locale = models.CharField(max_length=10, default="en-US")
    support_url = models.URLField(blank=True)
    marketing_url = models.URLField(blank=True)
    privacy_url = models.URLField(blank=True)
    identifiers_locked = models.BooleanField(
        default=False, help_text="Set by the first build; the stores never allow a change."
    )
    supports_tablet = models.BooleanField(
        default=False, help_text="Also an iPad app (the App Store then wants iPad screenshots)."
    )
    # Store screenshots rendered from the catalog (branded_apps.screenshots):
    # {device: [{"path", "sha256"}]}; the next build puts them in the bundle.
    screenshots = models.JSONField(default=dict, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name or "Branded app"


class AppListing(models.Model):
    """Store text in one locale (fastlane's metadata/<locale>/)."""

    app = models.ForeignKey(BrandedApp, on_delete=models.CASCADE, related_name="listings")
    locale = models.CharField(max_length=10)
    name = models.CharField(max_length=NAME_MAX, blank=True, help_text="Empty: the display name.")
    subtitle = models.CharField(max_length=SUBTITLE_MAX, blank=True)
    keywords = models.CharField(
        max_length=KEYWORDS_MAX_BYTES, blank=True, help_text="Comma-separated, 100 bytes in all."
    )
    promotional_text = models.CharField(max_length=PROMO_MAX, blank=True)
    description = models.TextField(max_length=DESCRIPTION_MAX, blank=True)
    play_short_description = models.CharField(max_length=PLAY_SHORT_MAX, blank=True)
    play_full_description = models.TextField(
        max_length=PLAY_FULL_MAX, blank=True, help_text="Empty: the App Store description."
    )
    release_notes = models.TextField(max_length=4000, blank=True)

    class Meta:
        ordering = ("locale",)
        constraints = [
            models.UniqueConstraint(fields=["app", "locale"], name="app_listing_unique_locale")
        ]

    def __str__(self) -> str:
        return f"{self.locale} listing"


class AppBuild(models.Model):
    """One request to turn the record into a bundle. Its inputs are frozen when it is
    requested, so a retry produces the same bytes."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RENDERING = "rendering", "Rendering"
        UPLOADING = "uploading", "Uploading"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RENDERING, Status.UPLOADING)

    app = models.ForeignKey(BrandedApp, on_delete=models.PROTECT, related_name="builds")
    number = models.PositiveIntegerField(help_text="Also the stores' build number / versionCode.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent.")
    step = models.CharField(max_length=200, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    inputs = models.JSONField(help_text="Everything the bundle is rendered from.")
    binary_digest = models.CharField(
        max_length=64, help_text="Hash of the inputs that only a new binary can change."
    )
    theme_version = models.PositiveIntegerField()
    bundle_path = models.CharField(max_length=500, blank=True)
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    bundle_bytes = models.PositiveBigIntegerField(default=0)
    manifest = models.JSONField(default=dict, blank=True)
    requested_by = models.CharField(max_length=254, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last progress report of the worker running it."
    )

    class Meta:
        ordering = ("-number",)
        constraints = [
            models.UniqueConstraint(fields=["app", "number"], name="app_build_unique_number"),
            # At most one build of an app in flight: the database refuses a second one.
            models.UniqueConstraint(
                fields=["app"],
                condition=Q(status__in=["queued", "rendering", "uploading"]),
                name="app_build_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"build {self.number} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def retryable(self) -> bool:
        return self.status == self.Status.FAILED
