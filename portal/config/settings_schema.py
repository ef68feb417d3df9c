"""Which portal settings staff edit, grouped as the product groups them (Settings, Staff, Other
settings), and how money settings are entered.

The staff console's settings pages and the staff settings API (``/api/v1/staff/settings``)
both read this module and both write through ``portal_settings_change`` (services.py), so a
field is editable, grouped, typed and validated the same way everywhere. Operational knobs the
platform runs (the search fair-share floor) are not listed: they leave the business's pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal import links

from .models import PortalSettings


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    fields: tuple[str, ...]
    intro: str | Promise = ""


@dataclass(frozen=True)
class SettingsPage:
    key: str  # /console/settings/<key>/
    group: str  # "settings", "staff" or "other"
    title: str | Promise
    sections: tuple[Section, ...]
    # Where a family sees the effect (a path on the family portal), for the preview link.
    preview_path: str = links.path("home")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for section in self.sections for name in section.fields)


GROUPS = {
    "settings": _("Settings"),
    "staff": _("Staff"),
    "other": _("Other settings"),
}

PAGES: tuple[SettingsPage, ...] = (
    SettingsPage(
        "registration",
        "settings",
        _("Registration rules and requirements"),
        (
            Section(
                "modes",
                _("How families register"),
                (
                    "registration_mode",
                    "pending_requests_count_against_openings",
                    "enrollment_cutoff_minutes_after_start",
                    "force_start_on_meeting_date",
                    "waitlist_offer_hours",
                ),
            ),
            Section(
                "priority",
                _("Priority registration"),
                (
                    "priority_registration_starts_at",
                    "priority_registration_ends_at",
                    "priority_registration_mode",
                    "priority_keywords",
                ),
                _("During the window only the families chosen below may register."),
            ),
            Section(
                "restrictions",
                _("New, returning and inactive families"),
                (
                    "visitors_may_create_accounts",
                    "families_may_set_levels",
                    "new_families_may_enroll",
                    "new_family_enrollment_opens_at",
                    "inactive_families_may_enroll",
                    "past_due_policy",
                    "past_due_after_days",
                ),
            ),
            Section(
                "signup",
                _("Signup requirements"),
                ("referral_source_required", "referral_sources"),
                _("Questions of your own are on the signup questions page."),
            ),
        ),
        preview_path=links.path("signup"),
    ),
    SettingsPage(
        "checkout",
        "settings",
        _("Reservation and checkout"),
        (Section("hold", _("Checkout hold timer"), ("hold_timer_minutes",)),),
        preview_path=links.path("classes"),
    ),
    SettingsPage(
        "requests",
        "settings",
        _("Absences, makeups, transfers and drops"),
        (
            Section(
                "absences",
                _("Absences and makeups"),
                (
                    "absences_enabled",
                    "absence_notice_hours",
                    "absences_auto_approve",
                    "absence_issues_makeup_token",
                    "makeups_enabled",
                    "makeup_token_expiry_days",
                    "makeup_seats_per_class",
                ),
            ),
            Section(
                "transfers",
                _("Transfers and drops"),
                (
                    "transfers_enabled",
                    "transfers_next_level_only",
                    "one_transfer_per_enrollment",
                    "drops_enabled",
                    "drop_notice_days",
                    "drop_reason_required",
                ),
            ),
        ),
        preview_path=links.path("requests"),
    ),
    SettingsPage(
        "staff-pages",
        "staff",
        _("What visitors see of the staff"),
        (
            Section(
                "visibility",
                _("Staff page"),
                ("staff_bios_visible", "staff_availability_visible"),
                _("Choose who appears, their bios and photos below."),
            ),
        ),
        preview_path=links.path("staff"),
    ),
    SettingsPage(
        "display",
        "other",
        _("Portal and class list"),
        (
            Section(
                "portal",
                _("Portal"),
                (
                    "portal_enabled",
                    "list_visible_when_logged_out",
                    "welcome_heading",
                    "welcome_message",
                ),
            ),
            Section(
                "list",
                _("What the class list shows"),
                (
                    "show_classes",
                    "show_camps",
                    "show_events",
                    "openings_display",
                    "show_levels",
                    "class_search_filters",
                ),
            ),
        ),
        preview_path=links.path("classes"),
    ),
    SettingsPage(
        "payments-store",
        "other",
        _("Payments, discounts and store"),
        (
            Section(
                "payments",
                _("Stored payment methods and autopay"),
                ("stored_payment_method_policy", "billing_day", "autopay_retry_days"),
            ),
            Section(
                "fees",
                _("Registration fee and discounts"),
                (
                    "registration_fee_scope",
                    "registration_year_start_month",
                    "sibling_discount_percents",
                    "multi_class_discount_percents",
                ),
            ),
            Section(
                "gifts",
                _("Gift certificates"),
                (
                    "gift_certificates_enabled",
                    "gift_certificates_visitors_may_buy",
                    "gift_certificate_amounts",
                    "gift_certificate_min",
                    "gift_certificate_max",
                ),
            ),
        ),
        preview_path=links.path("store"),
    ),
    SettingsPage(
        "features",
        "other",
        _("Optional features"),
        (
            Section(
                "features",
                _("Features"),
                ("punch_passes_enabled", "show_punch_passes", "mobile_app_enabled"),
            ),
        ),
        preview_path=links.path("store"),
    ),
)

PAGES_BY_KEY = {page.key: page for page in PAGES}

# Every field staff may change (console and API): exactly the fields on the pages.
EDITABLE_FIELDS: tuple[str, ...] = tuple(name for page in PAGES for name in page.fields)

# Stored in minor units, entered and shown in the business's currency on the pages.
MONEY_FIELDS = frozenset({"gift_certificate_min", "gift_certificate_max"})
MONEY_LIST_FIELDS = frozenset({"gift_certificate_amounts"})
# Stored as text, one item per line (the API takes and gives lists).
LINE_LIST_FIELDS = frozenset({"priority_keywords", "referral_sources"})

# Run by the platform, not the business (no page, not in the staff API).
OPERATIONAL_FIELDS = frozenset({"class_search_rate_limit"})


def _check() -> None:
    model_fields = {
        f.name for f in PortalSettings._meta.concrete_fields if f.editable and f.name != "id"
    }
    listed = set(EDITABLE_FIELDS)
    assert len(listed) == len(EDITABLE_FIELDS), "a setting is on two pages"
    missing = model_fields - listed - OPERATIONAL_FIELDS - {"updated_at"}
    assert not missing, f"settings on no page: {sorted(missing)}"
    assert listed <= model_fields, f"unknown settings: {sorted(listed - model_fields)}"


_check()
