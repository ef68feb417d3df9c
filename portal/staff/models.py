"""Staff access: the named permissions roles are made of (portal/staff/roles.py)."""

from __future__ import annotations

from django.db import models

from kernel.staff_permissions import STAFF_PERMISSIONS


class StaffAccess(models.Model):
    """Holds no rows and has no table: it only owns the staff permissions
    (``portal_staff.<codename>``, listed in kernel.staff_permissions), so they are
    created in every tenant schema like any model's permissions."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = sorted(STAFF_PERMISSIONS.items())
        verbose_name = "staff access"

    def __str__(self) -> str:
        return "staff access"
