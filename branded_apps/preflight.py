"""Pre-flight: every blocking problem and warning, before anyone spends a build on them."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from . import images, rules
from .models import AppListing
from .rules import Problem
from .services import app_get, storage_read


def _record_problems(app) -> list[Problem]:
    problems: list[Problem] = []
    if not app.display_name.strip():
        problems.append(Problem("name_missing", "display_name", "The app needs a name."))
    problems += rules.check_text(app.display_name, "display_name", rules.NAME_MAX)
    if len(app.display_name) > 12:
        problems.append(
            Problem(
                "name_truncated_on_home_screen",
                "display_name",
                "Home screens show about 12 characters under the icon; this name will be cut.",
                blocking=False,
            )
        )
    problems += rules.check_app_id(app.ios_bundle_id, "ios_bundle_id")
    problems += rules.check_app_id(app.android_package, "android_package")
    problems += rules.check_scheme(app.scheme)
    problems += rules.check_version(app.version)
    for field in ("support_url", "marketing_url", "privacy_url"):
        problems += rules.check_https_url(getattr(app, field), field)
    if not app.privacy_url:
        problems.append(
            Problem(
                "privacy_url_missing",
                "privacy_url",
                "Both stores require a privacy policy URL (https).",
            )
        )
    if not app.support_url:
        problems.append(
            Problem("support_url_missing", "support_url", "The App Store requires a support URL.")
        )
    return problems


def _screenshot_problems(app) -> list[Problem]:
    """Apple wants iPhone 6.9" (and iPad 13" for tablet apps), Google at least two phone
    screenshots; branded_app_screenshots renders them from the catalog."""
    from .screenshots import DEVICES

    shots = app.screenshots or {}
    wanted = ["iphone69", "android"] + (["ipad13"] if app.supports_tablet else [])
    missing = [d for d in wanted if len(shots.get(d, [])) < 2]
    if not missing:
        return []
    sizes = ", ".join(f"{d} {DEVICES[d]['size'][0]}x{DEVICES[d]['size'][1]}" for d in missing)
    return [
        Problem(
            "screenshots_missing",
            "screenshots",
            f"No store screenshots yet for {sizes}: run manage.py branded_app_screenshots.",
            blocking=False,
        )
    ]


def _listing_problems(app) -> list[Problem]:
    problems: list[Problem] = []
    listings = list(AppListing.objects.filter(app=app))
    if not any(listing.locale == app.primary_locale for listing in listings):
        problems.append(
            Problem(
                "listing_missing",
                f"listings.{app.primary_locale}",
                f"Write the store listing for the primary locale {app.primary_locale}.",
            )
        )
    for listing in listings:
        prefix = f"listings.{listing.locale}."
        data = {name: getattr(listing, name) for name in rules.LISTING_FIELDS}
        problems += rules.check_listing(data, prefix)
        if not listing.description.strip():
            problems.append(
                Problem("description_missing", prefix + "description", "Write a description.")
            )
        if not (listing.play_short_description.strip()):
            problems.append(
                Problem(
                    "short_description_missing",
                    prefix + "play_short_description",
                    "Google Play needs a short description (80 characters).",
                )
            )
        if not listing.keywords.strip():
            problems.append(
                Problem(
                    "keywords_missing",
                    prefix + "keywords",
                    "Keywords help families find the app in the App Store.",
                    blocking=False,
                )
            )
        if not listing.release_notes.strip():
            problems.append(
                Problem(
                    "release_notes_missing",
                    prefix + "release_notes",
                    "No release notes: the stores will show none for this version.",
                    blocking=False,
                )
            )
    return problems


def _theme_problems() -> list[Problem]:
    from theming.services import contrast_failures, theme_current

    theme = theme_current()
    if theme is None:
        return [Problem("theme_not_published", "theme", "Publish a theme first.")]
    problems = [
        Problem(
            "theme_contrast_failed",
            "theme",
            f"{failure.pair} is {failure.ratio}:1, needs {failure.required}:1 "
            f"(try {failure.suggestion}).",
        )
        for failure in contrast_failures(theme.snapshot)
    ]
    icon_path = theme.snapshot.get("app_icon", "")
    problems += images.icon_problems(storage_read(icon_path), "theme.app_icon")
    if not theme.snapshot.get("logo"):
        problems.append(
            Problem(
                "splash_uses_icon",
                "theme.logo",
                "No logo in the theme: the splash screen shows the app icon.",
                blocking=False,
            )
        )
    if not all(theme.snapshot.get(f"dark_{role}") for role in ("primary", "background")):
        problems.append(
            Problem(
                "no_dark_scheme",
                "theme",
                "The theme has no dark scheme; the app stays light in dark mode.",
                blocking=False,
            )
        )
    return problems


def _portal_problems() -> list[Problem]:
    from portal.catalog.models import Offering
    from portal.config.selectors import portal_settings_get

    problems: list[Problem] = []
    tenant = connection.tenant
    if tenant.status != tenant.Status.ACTIVE:
        problems.append(
            Problem("tenant_not_active", "tenant", "This business is suspended or not active.")
        )
    if not portal_settings_get().mobile_app_enabled:
        problems.append(
            Problem(
                "mobile_app_disabled",
                "settings.mobile_app_enabled",
                "Turn on the mobile app in the portal settings.",
            )
        )
    today = timezone.localdate()
    if not Offering.objects.published().filter(end_date__gte=today).exists():
        problems.append(
            Problem(
                "no_active_offerings",
                "catalog",
                "Add at least one active class, camp or event: reviewers reject empty apps.",
            )
        )
    return problems


def preflight_run() -> dict:
    app = app_get()
    problems = _record_problems(app) + _listing_problems(app) + _screenshot_problems(app)
    problems += _theme_problems() + _portal_problems()
    blocking = [p.as_dict() for p in problems if p.blocking]
    warnings = [p.as_dict() for p in problems if not p.blocking]
    return {"ready": not blocking, "blocking": blocking, "warnings": warnings}
