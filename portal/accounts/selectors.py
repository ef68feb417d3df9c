from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kernel.process_cache import tenant_config

from .models import EmergencyContact, Family, Guardian, Policy, PolicyAcceptance, Student


def guardian_for_user(user: Any) -> Guardian | None:
    """The user's guardian with its family, or None. Read with the user when the bearer-token
    authentication already joined it (``API_TOKEN_USER_RELATED``): no query then."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    descriptor = getattr(type(user), "guardian", None)
    if descriptor is not None and descriptor.is_cached(user):
        try:
            guardian = user.guardian
        except Guardian.DoesNotExist:
            return None
        if Guardian.family.is_cached(guardian):
            return guardian
    return Guardian.objects.select_related("family").filter(user=user).first()


def family_get(*, family_id: int) -> Family:
    return Family.objects.prefetch_related(
        "guardians", "students__level", "emergency_contacts"
    ).get(pk=family_id)


def student_get(*, family_id: int, student_id: int) -> Student | None:
    """One of the family's students (active or not) with its level, or None."""
    return (
        Student.objects.select_related("level").filter(pk=student_id, family_id=family_id).first()
    )


def emergency_contact_get(*, family_id: int, contact_id: int) -> EmergencyContact | None:
    """One of the family's emergency contacts; None for another family's or a missing id."""
    return EmergencyContact.objects.filter(pk=contact_id, family_id=family_id).first()


def signup_policy_list() -> list[Policy]:
    """The active family policies a new family accepts when it signs up."""
    return list(
        Policy.objects.filter(is_active=True, required_at_signup=True, scope=Policy.Scope.FAMILY)
    )


@dataclass(frozen=True)
class PendingPolicy:
    policy: Policy
    student_id: int | None


def _active_policies_load() -> list[Policy]:
    return list(Policy.objects.filter(is_active=True))


def active_policies() -> list[Policy]:
    """The business's active policies, from this process's copy of its configuration
    (``kernel.process_cache``; a saved or deleted policy drops every copy): every cart add and
    checkout asks, and a business with no policy then runs no query for them. The instances
    are shared: read them, do not change them."""
    return tenant_config.get("active_policies", _active_policies_load, copy_value=True)


def policies_pending(
    family: Family, *, student_ids: list[int] | None = None
) -> list[PendingPolicy]:
    """Active policies the family (or one of its active students; ``student_ids``: only these)
    has not accepted in their current version: shown again whenever staff change a policy."""
    policies = active_policies()
    if not policies:
        return []
    accepted = set(
        PolicyAcceptance.objects.filter(family=family).values_list(
            "policy_id", "version", "student_id"
        )
    )
    if student_ids is None and any(p.scope != Policy.Scope.FAMILY for p in policies):
        student_ids = list(family.students.filter(is_active=True).values_list("pk", flat=True))
    student_ids = student_ids or []
    pending = []
    for policy in policies:
        if policy.scope == Policy.Scope.FAMILY:
            if (policy.pk, policy.version, None) not in accepted:
                pending.append(PendingPolicy(policy, None))
        else:
            pending.extend(
                PendingPolicy(policy, sid)
                for sid in student_ids
                if (policy.pk, policy.version, sid) not in accepted
            )
    return pending


def calendar_feed_family(*, token: str) -> Family | None:
    """The (not suspended) family whose feed has this token, in the current tenant's schema."""
    from .models import CalendarFeed

    if not token or len(token) > 64:
        return None
    feed = (
        CalendarFeed.objects.select_related("family")
        .filter(token=token)
        .exclude(family__status=Family.Status.SUSPENDED)
        .first()
    )
    return feed.family if feed else None
