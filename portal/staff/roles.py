"""Staff roles: who in a business may do what. The one place roles are defined.

Each role is a Django group of the same name in every tenant schema, holding exactly the
permissions listed here (``roles_sync`` rewrites the groups after every migration, so the
groups always match this module). A staff member has at most one role; the owner account
created with the business is also a superuser of its schema.

Two kinds of permission make up a role:

* **staff permissions** (``portal_staff.<codename>``, kernel/staff_permissions.py): the
  names every staff API route, console page and admin action checks;
* **model permissions** (``<app>.view_<model>``...) for the Django admin, which stays for
  edge cases: a role sees in the admin at most what it may do elsewhere.

docs/security.md has the table of roles x permissions; tests/portal/staff/test_roles.py checks
that it matches this module."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.staff_permissions import (
    OTHER_PERMISSIONS,
    STAFF_PERMISSIONS,
    VIEW_MEDICAL,
    perm,
)


@dataclass(frozen=True)
class Role:
    key: str  # also the group's name
    label: str
    summary: str
    staff: tuple[str, ...]  # staff permission codenames
    medical: bool
    admin: tuple[str, ...]  # model permissions for the Django admin, "app_label.codename"

    @property
    def permissions(self) -> frozenset[str]:
        names = {perm(codename) for codename in self.staff} | set(self.admin)
        if self.medical:
            names.add(VIEW_MEDICAL)
        return frozenset(names)


def _models(actions: str, *labels: str) -> tuple[str, ...]:
    """Model permissions: ``_models("view change", "portal_accounts.family")``."""
    out = []
    for label in labels:
        app, model = label.split(".")
        out += [f"{app}.{action}_{model}" for action in actions.split()]
    return tuple(out)


_FAMILIES = (
    "portal_accounts.family",
    "portal_accounts.guardian",
    "portal_accounts.student",
    "portal_accounts.emergencycontact",
)
_CATALOG = (
    "portal_catalog.program",
    "portal_catalog.location",
    "portal_catalog.level",
    "portal_catalog.term",
    "portal_catalog.staffprofile",
    "portal_catalog.availabilityslot",
    "portal_catalog.offering",
)
_ENROLLMENT = (
    "portal_enrollment.hold",
    "portal_enrollment.order",
    "portal_enrollment.enrollment",
    "portal_enrollment.waitlistentry",
    "portal_requests.request",
    "portal_requests.makeuptoken",
)
_MONEY = (
    "portal_billing.payment",
    "portal_billing.refund",
    "portal_billing.ledgerentry",
    "portal_billing.autopaycharge",
    "portal_store.giftcertificate",
    "portal_store.punchpass",
)
_SETTINGS = (
    "portal_config.portalsettings",
    "portal_config.announcement",
    "portal_accounts.policy",
    "portal_store.punchpassproduct",
)

MANAGER_STAFF = tuple(
    codename
    for codename in STAFF_PERMISSIONS
    if codename not in ("manage_staff", "manage_domains", "manage_payments_onboarding")
)

ROLES: dict[str, Role] = {
    role.key: role
    for role in (
        Role(
            key="owner",
            label="Owner",
            summary="Everything, including staff and their roles, custom domains and Stripe "
            "onboarding.",
            staff=tuple(STAFF_PERMISSIONS),
            medical=True,
            admin=tuple(OTHER_PERMISSIONS)
            + _models("view add change delete", *_FAMILIES, *_CATALOG, *_SETTINGS)
            + _models("view change", *_ENROLLMENT, *_MONEY)
            + _models("view", "portal_accounts.policyacceptance", "portal_privacy.auditentry")
            + _models("view change", "portal_privacy.deletionrequest")
            + _models("view add change delete", "users.user"),
        ),
        Role(
            key="manager",
            label="Manager",
            summary="Runs the business day to day: enrollments, money and refunds, settings, "
            "theme, branded app and reports; not staff, domains or Stripe onboarding.",
            staff=MANAGER_STAFF,
            medical=True,
            admin=tuple(OTHER_PERMISSIONS)
            + _models("view add change", *_FAMILIES, *_CATALOG, *_SETTINGS)
            + _models("view change", *_ENROLLMENT)
            + _models("view", *_MONEY, "portal_accounts.policyacceptance"),
        ),
        Role(
            key="front_desk",
            label="Front desk",
            summary="Enrolls children and takes payments, decides requests, sees families and "
            "rosters; no refunds, settings, reports or medical notes.",
            staff=(
                "view_dashboard",
                "view_requests",
                "decide_request",
                "manage_enrollments",
                "view_families",
                "manage_student_photos",
                "view_rosters",
                "take_attendance",
                "take_payment",
                "resend_emails",
                "view_money",
            ),
            medical=False,
            # The desk watches the registration-day line and may pause it.
            admin=(
                "portal_catalog.manage_registration_openings",
                *_models("view change", *_FAMILIES),
                *_models("view", *_ENROLLMENT, "portal_catalog.offering"),
            ),
        ),
        Role(
            key="coach",
            label="Coach",
            summary="Sees the rosters of their own classes (with medical notes, every read "
            "audited) and takes attendance there; no money.",
            staff=("view_dashboard", "take_attendance"),
            medical=True,
            admin=(),
        ),
    )
}


def role_of(user) -> Role | None:
    """The user's role: the first role group it belongs to (staff hold at most one)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_staff:
        return None
    names = {group.name for group in user.groups.all()}
    for key, role in ROLES.items():
        if key in names:
            return role
    return None


def roles_table_markdown() -> str:
    """The roles x staff permissions table of docs/security.md (a test checks the page holds
    exactly this)."""
    from kernel.staff_permissions import STAFF_PERMISSIONS

    roles = list(ROLES.values())
    lines = [
        "| permission | what it allows | " + " | ".join(r.label.lower() for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    rows = [(perm(c), text) for c, text in STAFF_PERMISSIONS.items()]
    rows += list(OTHER_PERMISSIONS.items())
    rows.append((VIEW_MEDICAL, "See students' medical notes and emergency contacts (audited)"))
    for name, text in rows:
        marks = " | ".join("yes" if name in r.permissions else "—" for r in roles)
        lines.append(f"| `{name}` | {text} | {marks} |")
    return "\n".join(lines)
