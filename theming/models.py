"""A business's brand (the draft staff edit) and its published, immutable theme versions."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

FONT_STACKS = {
    "system": ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
    "inter": ["Inter", "system-ui", "sans-serif"],
    "nunito": ["Nunito", "system-ui", "sans-serif"],
    "poppins": ["Poppins", "system-ui", "sans-serif"],
    "merriweather": ["Merriweather", "Georgia", "serif"],
    "source-sans": ["Source Sans 3", "system-ui", "sans-serif"],
}
COLOUR_ROLES = ("primary", "secondary", "accent", "background", "surface", "text", "error")
# Delivered to the apps at runtime (they fetch the theme) ...
RUNTIME_FIELDS = {*COLOUR_ROLES, *(f"dark_{r}" for r in COLOUR_ROLES), "font", "header_style",
                  "class_list_layout", "corner_radius", "density", "logo", "favicon"}  # fmt: skip
# ... and baked into the branded app's binary (branded_apps/bundle.py), where a change only
# reaches families in a new build: the icon; the primary colour, the Android adaptive
# launcher icon's background; the background colour, the splash screen's; the logo, the splash
# screen's artwork. A field can be in both sets (the portal and the running app repaint at
# once, the launcher and the splash wait for the build). tests/branded_apps checks this set
# against what the bundle really bakes.
BINARY_FIELDS = {"app_icon", "primary", "background", "logo"}


def _colour(default: str, **kwargs) -> models.CharField:
    return models.CharField(max_length=7, default=default, **kwargs)


class Brand(models.Model):
    """The draft. Staff edit it and preview the portal with it; publishing copies it into a
    ThemeVersion. One row per tenant schema."""

    SINGLETON_ID = 1

    class HeaderStyle(models.TextChoices):
        LEFT = "left", "Logo left, menu right"
        CENTERED = "centered", "Logo centred"
        BANNER = "banner", "Full-width banner"

    class ListLayout(models.TextChoices):
        LIST = "list", "List"
        GRID = "grid", "Grid"
        CALENDAR = "calendar", "Calendar"

    class Density(models.TextChoices):
        COMPACT = "compact", "Compact"
        COMFORTABLE = "comfortable", "Comfortable"
        SPACIOUS = "spacious", "Spacious"

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    primary = _colour("#1d4ed8")
    secondary = _colour("#0f766e")
    accent = _colour("#c2410c")
    background = _colour("#ffffff")
    surface = _colour("#f3f4f6")
    text = _colour("#111827")
    error = _colour("#b91c1c")
    dark_primary = _colour("", blank=True)
    dark_secondary = _colour("", blank=True)
    dark_accent = _colour("", blank=True)
    dark_background = _colour("", blank=True)
    dark_surface = _colour("", blank=True)
    dark_text = _colour("", blank=True)
    dark_error = _colour("", blank=True)
    font = models.CharField(
        max_length=20, default="system", choices=[(k, v[0]) for k, v in FONT_STACKS.items()]
    )
    header_style = models.CharField(
        max_length=10, choices=HeaderStyle.choices, default=HeaderStyle.LEFT
    )
    class_list_layout = models.CharField(
        max_length=10, choices=ListLayout.choices, default=ListLayout.LIST
    )
    corner_radius = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(24)], help_text="Pixels, 0-24."
    )
    density = models.CharField(max_length=12, choices=Density.choices, default=Density.COMFORTABLE)
    logo = models.CharField(max_length=255, blank=True, help_text="Storage path of the logo.")
    favicon = models.CharField(max_length=255, blank=True)
    app_icon = models.CharField(
        max_length=255, blank=True, help_text="1024x1024 PNG used to build the branded app's icons."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Brand (draft)"

    def has_dark(self) -> bool:
        return all(getattr(self, f"dark_{role}") for role in COLOUR_ROLES)


class ThemeVersion(models.Model):
    """A published theme: immutable, numbered, served to the portal and the apps."""

    number = models.PositiveIntegerField(unique=True)
    snapshot = models.JSONField(help_text="The brand fields as published.")
    tokens = models.JSONField(help_text="Design Tokens Community Group (2025.10) document.")
    etag = models.CharField(max_length=64)
    changed_fields = models.JSONField(default=list)
    needs_app_build = models.BooleanField(
        default=False,
        help_text="A change (e.g. the app icon) only reaches the apps in a new build.",
    )
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.CharField(max_length=254, blank=True, help_text="Email of the publisher.")
    rolled_back_to = models.PositiveIntegerField(
        null=True, blank=True, help_text="The earlier version this one published again."
    )

    class Meta:
        ordering = ("-number",)

    def __str__(self) -> str:
        return f"Theme v{self.number}"
