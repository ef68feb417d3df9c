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
    """Programs the family takes part in: those of its students' levels and of the offerings
    it holds a live enrollment in (pending, reserved or enrolled)."""
    from portal.catalog.models import Level
    from portal.enrollment.models import Enrollment

    by_level = Level.objects.filter(students__family=family, program__isnull=False).values_list(
        "program_id", flat=True
    )
    by_enrollment = Enrollment.objects.filter(
        family=family, status__in=Enrollment.LIVE
    ).values_list("offering__program_id", flat=True)
    return sorted(set(by_level) | set(by_enrollment))


def announcement_banners(*, family=None, now=None) -> list[Announcement]:
    """The banners in effect for a visitor or a signed-in family (shown on every portal page),
    most severe first. The published banners are kept per process (``kernel.process_cache``,
    dropped whenever an announcement changes), so a page costs no query for them unless a
    banner for chosen programs needs the family's programs."""
    from django.utils import timezone

    now = now or timezone.now()
    rows = tenant_config.get("announcement_banners", _published_banners_load)
    shown = [
        a
        for a in rows
        if (a.starts_at is None or a.starts_at <= now) and (a.ends_at is None or a.ends_at > now)
    ]
    if family is None:
        shown = [a for a in shown if a.audience == Announcement.Audience.EVERYONE]
    elif any(a.audience == Announcement.Audience.PROGRAMS for a in shown):
        mine = set(family_program_ids(family))
        shown = [
            a for a in shown if a.audience != Announcement.Audience.PROGRAMS or mine & a.program_ids
        ]
    rank = {"critical": 0, "warning": 1, "info": 2}
    return sorted(shown, key=lambda a: rank.get(a.severity, 3))


def _published_banners_load() -> list[Announcement]:
    rows = list(
        Announcement.objects.filter(is_published=True, kind=Announcement.Kind.BANNER)
        .prefetch_related("programs")
        .order_by(*Announcement._meta.ordering)
    )
    for row in rows:
        row.program_ids = {p.pk for p in row.programs.all()}
    return rows


def announcement_news(*, family=None) -> QuerySet[Announcement]:
    """News items in effect for a visitor or a signed-in family (the home page)."""
    return announcement_list(family=family).filter(kind=Announcement.Kind.NEWS)


def announcement_staff_list() -> QuerySet[Announcement]:
    """Every announcement, for staff: programs fetched, email progress counted."""
    from django.db.models import Count, Q

    return Announcement.objects.prefetch_related("programs").annotate(
        emails_queued=Count("emails", distinct=True),
        emails_sent=Count("emails", filter=Q(emails__sent_at__isnull=False), distinct=True),
    )


def announcement_staff_get(*, announcement_id: int) -> Announcement | None:
    return announcement_staff_list().filter(pk=announcement_id).first()


def signup_question_list(*, include_inactive: bool = False) -> QuerySet[SignupQuestion]:
    """The business's signup questions in the order families see them (active ones only unless
    ``include_inactive``)."""
    qs = SignupQuestion.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


def announcement_program_choices() -> list[dict]:
    """Programs an announcement's audience may name: [{"id", "name"}], active ones."""
    from portal.catalog.models import Program

    return list(Program.objects.filter(is_active=True).values("id", "name"))
