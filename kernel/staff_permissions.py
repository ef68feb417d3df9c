"""Names of the permissions a business's staff act by, checked with ``user.has_perm(name)``.

The permission rows belong to ``portal.staff``'s ``StaffAccess`` model (app label
``portal_staff``) and the roles that hold them are defined in ``portal/staff/roles.py``. The
names live here, in the kernel, so that the lower packages (``tenants``' domain admin,
``branded_apps``' API) and every delivery can check them without importing the portal."""

from __future__ import annotations

APP_LABEL = "portal_staff"

# codename -> what it lets a staff member do (the permission's name in the admin).
STAFF_PERMISSIONS: dict[str, str] = {
    "view_dashboard": "See the staff console's dashboard",
    "view_requests": "See families' requests (absences, makeups, transfers, drops)",
    "decide_request": "Approve or deny families' requests",
    "manage_enrollments": "Approve or deny pending enrollments, enroll, drop and transfer",
    "view_families": "See families, their students and their enrollments",
    "manage_student_photos": "Add, replace or remove a student's photo",
    "view_rosters": "See the roster of every class",
    "take_attendance": "Take attendance (coaches only in their own classes)",
    "take_payment": "Post charges and offline payments (cash, cheque), retry a failed autopay",
    "post_credit": "Give a family account credit",
    "resend_emails": "Resend a guardian's invitation or a payment receipt",
    "view_money": "See payments, the ledger and receivables",
    "refund_payment": "Refund payments, void gift certificates and punch passes",
    "view_reports": "See reports and export them",
    "view_payouts": "See Stripe's payouts and fees for the business's account",
    "manage_settings": "Change portal settings, the catalog and announcements",
    "edit_theme": "Edit and preview the draft theme",
    "publish_theme": "Publish the theme to every family",
    "manage_app": "Edit the branded app's record and store listings",
    "queue_app_build": "Queue and retry branded app builds",
    "manage_domains": "Add, verify, remove custom domains and choose the primary one",
    "manage_payments_onboarding": "Start or resume Stripe onboarding of the business",
    "manage_staff": "Invite staff and assign their roles",
}

# The medical permission predates the roles; it lives on the audit log's model.
VIEW_MEDICAL = "portal_privacy.view_medical"


# Named permissions of other apps that roles hold and staff routes check.
OTHER_PERMISSIONS: dict[str, str] = {
    "portal_catalog.manage_registration_openings": "Watch and pause registration waiting rooms",
}


def perm(codename: str) -> str:
    """``app_label.codename`` of a staff permission (a full name from OTHER_PERMISSIONS is
    returned as it is); an unknown name is a programming error, caught at import time by the
    callers that declare their permissions."""
    if codename in OTHER_PERMISSIONS or codename == VIEW_MEDICAL:
        return codename
    if codename not in STAFF_PERMISSIONS:
        raise KeyError(f"Unknown staff permission {codename!r}")
    return f"{APP_LABEL}.{codename}"


def staff_has_perm(user, name: str) -> bool:
    """A signed-in, active staff member of this schema holding ``name`` (superusers hold all)."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.has_perm(name)
    )
