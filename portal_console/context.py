"""What every console page shows around its content: the business, its published theme and
logo (the family portal's branding), and the navigation the signed-in role may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kernel.staff_permissions import perm, staff_has_perm
from theming.services import theme_current

StrOrPromise = str | Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: StrOrPromise
    url: str
    permissions: tuple[str, ...]  # any one of them opens the item


NAV = (
    NavItem("dashboard", _("Dashboard"), "/console/", ("view_dashboard",)),
    NavItem("enrollments", _("Enrollments"), "/console/enrollments/", ("manage_enrollments",)),
    NavItem("requests", _("Requests"), "/console/requests/", ("view_requests",)),
    NavItem("activity", _("Activity"), "/console/activity/", ("view_families",)),
    NavItem("families", _("Families"), "/console/families/", ("view_families",)),
    NavItem("waitlists", _("Waitlists"), "/console/waitlists/", ("manage_enrollments",)),
    NavItem("receivables", _("Receivables"), "/console/receivables/", ("view_money",)),
    NavItem("autopay", _("Autopay"), "/console/autopay/", ("view_money",)),
    NavItem("payouts", _("Payouts"), "/console/payouts/", ("view_payouts",)),
    NavItem("reports", _("Reports"), "/console/reports/", ("view_reports",)),
    NavItem(
        "openings",
        _("Waiting rooms"),
        "/console/openings/",
        ("portal_catalog.manage_registration_openings",),
    ),
    NavItem("staff", _("Staff"), "/console/staff/", ("manage_staff",)),
    NavItem("plan", _("Plan"), "/console/plan/", ("manage_payments_onboarding",)),
    NavItem(
        "settings",
        _("Settings"),
        "/console/settings/",
        ("manage_settings", "edit_theme", "manage_payments_onboarding"),
    ),
)


def nav_for(user) -> list[NavItem]:
    return [
        item
        for item in NAV
        if any(staff_has_perm(user, perm(codename)) for codename in item.permissions)
    ]


def console(request) -> dict:
    """Template context processor: only console pages pay for it."""
    if not request.path_info.startswith("/console/"):
        return {}
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return {}
    theme = theme_current()
    snapshot = (theme.snapshot or {}) if theme else {}
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated and user.is_staff
    return {
        "console_tenant": tenant,
        "console_theme": theme,
        "console_logo_url": snapshot.get("logo_url") or "",
        "console_nav": nav_for(user) if signed_in else [],
        "console_user": user if signed_in else None,
    }
