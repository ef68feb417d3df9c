from __future__ import annotations

from typing import Any

MEDICAL_PERMISSION = "portal_privacy.view_medical"


def can_view_medical(user: Any) -> bool:
    """Staff who may see students' medical notes and families' emergency contacts."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_staff
        and user.has_perm(MEDICAL_PERMISSION)
    )
