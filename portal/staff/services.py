"""Writes for staff roles: keeping the role groups equal to portal/staff/roles.py, and giving
a staff member their role."""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.db.models import Q

from portal.accounts.errors import INVALID_CREDENTIALS
from saas_platform.errors import ApplicationError
from saas_platform.users.models import User

from .roles import ROLES

logger = logging.getLogger(__name__)


def _permissions(names: frozenset[str], *, using: str) -> list[Permission]:
    query = Q()
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.using(using).filter(query).select_related("content_type"))
    missing = names - {f"{p.content_type.app_label}.{p.codename}" for p in found}
    if missing:
        raise LookupError(f"Roles name permissions that do not exist: {sorted(missing)}")
    return found


@transaction.atomic
def roles_sync(*, using: str = "default") -> None:
    """Make each role's group hold exactly the role's permissions, in the current schema."""
    for role in ROLES.values():
        group, _ = Group.objects.using(using).get_or_create(name=role.key)
        group.permissions.set(_permissions(role.permissions, using=using))


def roles_sync_after_migrate(sender, using="default", **kwargs) -> None:
    if connection.schema_name == "public":
        return  # roles belong to businesses; the public schema holds platform admins only
    roles_sync(using=using)
    # Businesses from before the roles: their owners (the schema's superusers) get the role.
    owners = Group.objects.using(using).get(name="owner")
    for user in User.objects.using(using).filter(is_superuser=True, is_staff=True, groups=None):
        user.groups.add(owners)


@transaction.atomic
def staff_role_set(*, user: User, role: str | None) -> User:
    """Give a staff member exactly one role (``None``: none). The user becomes staff."""
    if role is not None and role not in ROLES:
        raise ApplicationError(
            "unknown_role",
            f"Unknown role “{role}”.",
            fields={"role": [f"Use one of: {', '.join(ROLES)}."]},
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    user.groups.remove(*Group.objects.filter(name__in=list(ROLES)))
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    # ModelBackend caches permissions on the instance.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


def owner_role_ensure(*, tenant) -> None:
    """Provisioning hook: the owner account created with the business holds the owner role
    (it is also the schema's superuser)."""
    owner = User.objects.filter(email__iexact=tenant.owner_email).first()
    if owner is not None and owner.is_staff:
        staff_role_set(user=owner, role="owner")


def staff_authenticate(*, email: str, password: str, request=None) -> User:
    """Check a staff member's credentials for this business (through the sign-in lockout of
    saas_platform.login_guard). A family's login is refused: the console is for staff."""
    from django.contrib.auth import authenticate

    from saas_platform.login_guard import raise_if_locked

    user = authenticate(request, username=(email or "").strip(), password=password or "")
    if user is None:
        raise_if_locked(request)  # login_locked (429) after too many failures
        raise ApplicationError(*INVALID_CREDENTIALS, status=401)
    if not user.is_staff:
        raise ApplicationError(
            "not_a_staff_account",
            "This account is not a staff account of this business.",
            status=403,
        )
    return user
