"""The settings area's navigation: one list, grouped as the product groups its settings
(Settings, Staff, Other settings). Other settings pages (branding, payments onboarding) add
their entry here; an entry whose URL name does not resolve yet is left out, so a page appears
in the navigation the moment its route exists."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kernel.staff_permissions import perm, staff_has_perm
from portal.config.settings_schema import GROUPS, PAGES


@dataclass(frozen=True)
class SettingsLink:
    group: str  # a key of portal.config.settings_schema.GROUPS
    key: str  # the page's ``settings_nav`` value (marks the current page)
    label: str | Promise
    url_name: str
    permission: str  # staff permission codename needed to open it

    def url(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


SETTINGS_LINKS: list[SettingsLink] = [
    *(
        SettingsLink(
            page.group, page.key, page.title, f"console-settings-{page.key}", "manage_settings"
        )
        for page in PAGES
        if page.group == "settings"
    ),
    SettingsLink(
        "settings",
        "signup-questions",
        _("Signup questions"),
        "console-settings-questions",
        "manage_settings",
    ),
    SettingsLink(
        "settings",
        "announcements",
        _("Announcements and alerts"),
        "console-settings-announcements",
        "manage_settings",
    ),
    *(
        SettingsLink(
            page.group, page.key, page.title, f"console-settings-{page.key}", "manage_settings"
        )
        for page in PAGES
        if page.group == "staff"
    ),
    SettingsLink(
        "staff",
        "staff-profiles",
        _("Staff bios, photos and availability"),
        "console-settings-staff-profiles",
        "manage_settings",
    ),
    SettingsLink("other", "branding", _("Branding"), "console-settings-branding", "edit_theme"),
    *(
        SettingsLink(
            page.group, page.key, page.title, f"console-settings-{page.key}", "manage_settings"
        )
        for page in PAGES
        if page.group == "other"
    ),
    SettingsLink(
        "other",
        "payments",
        _("Online payments (Stripe)"),
        "console-settings-payments",
        "manage_payments_onboarding",
    ),
    SettingsLink(
        "other", "website", _("Website integration"), "console-settings-website", "manage_settings"
    ),
]

# Any of these opens the settings area (the console's "Settings" navigation item).
AREA_PERMISSIONS = ("manage_settings", "edit_theme", "manage_payments_onboarding")


def settings_nav_for(user) -> list[dict]:
    """[{"key", "label", "links": [{"key", "label", "url"}]}] the user may open, by group."""
    out = []
    for group, label in GROUPS.items():
        links = []
        for link in SETTINGS_LINKS:
            if link.group != group or not staff_has_perm(user, perm(link.permission)):
                continue
            url = link.url()
            if url:
                links.append({"key": link.key, "label": link.label, "url": url})
        if links:
            out.append({"key": group, "label": label, "links": links})
    return out
