"""Writes for staff roles: keeping the role groups equal to portal/staff/roles.py, and giving
a staff member their role."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.db.models import Q

from kernel.errors import ApplicationError
from kernel.users.models import User
from portal.accounts.errors import INVALID_CREDENTIALS

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


def roles_sync_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
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


def owner_role_ensure(*, tenant: Any) -> None:
    """Provisioning hook: the owner account created with the business holds the owner role
    (it is also the schema's superuser)."""
    owner = User.objects.filter(email__iexact=tenant.owner_email).first()
    if owner is not None and owner.is_staff:
        staff_role_set(user=owner, role="owner")


def staff_authenticate(*, email: str, password: str, request: Any = None) -> User:
    """Check a staff member's credentials for this business (through the sign-in lockout of
    kernel.login_guard). A family's login is refused: the console is for staff."""
    from django.contrib.auth import authenticate

    from kernel.login_guard import raise_if_locked

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


def _clean_email(email: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = (email or "").strip().lower()
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            "invalid_input",
            "Enter a valid email address.",
            fields={"email": ["Enter a valid email address."]},
        ) from None
    return email


@transaction.atomic
def staff_invite(*, email: str, role: str, full_name: str = "") -> User:
    """Invite someone to the business's staff with a role: a staff login with no password yet
    and an email (through the outbox, after the commit) with a link to choose one. An address
    a family signs in with is refused (``email_is_a_family_login``, 409), one already staff
    too (``already_staff``, 409: change its role instead)."""
    from portal.accounts.models import Guardian
    from portal.outbox.services import outbox_enqueue

    from .tasks import send_staff_invite_task

    email = _clean_email(email)
    if role not in ROLES:
        raise ApplicationError(
            "unknown_role",
            f"Unknown role “{role}”.",
            fields={"role": [f"Use one of: {', '.join(ROLES)}."]},
        )
    full_name = (full_name or "").strip()[:150]
    existing = User.objects.select_for_update().filter(email__iexact=email).first()
    if existing is not None:
        if existing.is_staff:
            raise ApplicationError(
                "already_staff",
                f"{email} is already on the staff; change their role instead.",
                status=409,
                fields={"email": ["Already on the staff."]},
            )
        if Guardian.objects.filter(user=existing).exists():
            raise ApplicationError(
                "email_is_a_family_login",
                f"{email} signs in as a family; invite staff with an address of their own.",
                status=409,
                fields={"email": ["A family signs in with this address."]},
            )
    user = existing or User.objects.create_user(email=email, full_name=full_name)
    user = staff_role_set(user=user, role=role)
    outbox_enqueue(send_staff_invite_task, user.pk, role)
    return user


@transaction.atomic
def staff_role_change(*, user_id: int, role: str | None, by: User) -> User:
    """Change a staff member's role, or (``None``) take them off the staff: their login stops
    opening anything staff, and their tokens and sessions are left to expire with no rights.
    Nobody changes their own role (an owner cannot lock the business out of itself)."""
    user = User.objects.filter(pk=user_id, is_staff=True).first()
    if user is None:
        raise ApplicationError(
            "staff_not_found", "We could not find that staff member.", status=404
        )
    if user.pk == by.pk:
        raise ApplicationError(
            "own_role_unchangeable",
            "You cannot change your own role; ask another owner.",
            status=409,
        )
    if user.is_superuser and not by.is_superuser:
        raise ApplicationError(
            "staff_outranks_you",
            "This account has more rights than yours.",
            status=403,
        )
    user = staff_role_set(user=user, role=role)
    if role is None:
        User.objects.filter(pk=user.pk).update(is_staff=False)
        user.is_staff = False
    return user
