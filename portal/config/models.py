"""Per-tenant portal settings: one typed row per tenant schema. Every later switch is added
here as a field with a default, validation and help text."""

from django.core.exceptions import ValidationError
from django.db import models


class PortalSettings(models.Model):
    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    portal_enabled = models.BooleanField(
        default=True,
        help_text="When off, families see “Our Customer Portal is currently unavailable” and "
        "nobody can log in, enroll, request or pay.",
    )
    welcome_heading = models.CharField(
        max_length=120, blank=True, help_text="Heading on the portal's home page."
    )
    welcome_message = models.TextField(
        max_length=2000, blank=True, help_text="Plain text shown under the heading."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "portal settings"
        verbose_name_plural = "portal settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="portal_settings_singleton")
        ]

    def __str__(self) -> str:
        return "Portal settings"

    def clean(self) -> None:
        if self.id != self.SINGLETON_ID:
            raise ValidationError("There is exactly one portal settings row per business.")
