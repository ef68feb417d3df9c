from __future__ import annotations

from django.db.models import QuerySet

from kernel.process_cache import tenant_config

from .models import Announcement, PortalSettings, SignupQuestion
from .services import portal_settings_ensure


def _portal_settings_load() -> PortalSettings:
    row = PortalSettings.objects.filter(id=PortalSettings.SINGLETON_ID).first()
    return row if row is not None else portal_settings_ensure()


def portal_settings_get(request=None) -> PortalSettings:
    """The tenant's settings: kept per process (``kernel.process_cache``; a change
    reaches every process at once through Redis) and memoised on the request."""
    if request is not None:
        cached = getattr(request, "_portal_settings", None)
        if cached is not None:
            return cached
    row = tenant_config.get("portal_settings", _portal_settings_load, copy_value=True)
    if request is not None:
        request._portal_settings = row
    return row


def announcement_list(*, family=None) -> QuerySet[Announcement]:
    """Announcements in effect for a visitor (``family`` None) or a signed-in family: everyone's,
    signed-in families', and those for programs the family's students take part in."""
    from django.db.models import Q

    audience = Q(audience=Announcement.Audience.EVERYONE)
    if family is not None:
        audience |= Q(audience=Announcement.Audience.LOGGED_IN)
        program_ids = family_program_ids(family)
        if program_ids:
            audience |= Q(audience=Announcement.Audience.PROGRAMS, programs__in=program_ids)
    return Announcement.objects.in_effect().filter(audience).distinct()


def family_program_ids(family) -> list[int]:
    """Programs the family takes part in. Until enrollments exist this is the programs of the
    students' levels; the enrollment app extends it."""
    from portal.catalog.models import Level

    return list(
        Level.objects.filter(students__family=family, program__isnull=False)
        .values_list("program_id", flat=True)
        .distinct()
    )


def signup_question_list(*, include_inactive: bool = False) -> QuerySet[SignupQuestion]:
    """The business's signup questions in the order families see them (active ones only unless
    ``include_inactive``)."""
    qs = SignupQuestion.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)
