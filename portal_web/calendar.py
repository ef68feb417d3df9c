"""The family's private calendar feed (iCalendar, RFC 5545) and the page that manages it.

Calendar apps cannot sign in, so the feed is read with a long random token in its URL
(``/calendar/<token>.ics``); the token lives in the tenant's schema, so it means nothing on
another business's host. Revoking deletes it (the URL then answers 404); regenerating replaces
it. Events carry stable UIDs (enrollment and date), so a re-fetch updates rather than duplicates,
and times are wall-clock times in the business's time zone (with its VTIMEZONE)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from icalendar import Calendar, Event

from portal.accounts.models import Family
from portal.accounts.selectors import calendar_feed_family
from portal.accounts.services import calendar_feed_regenerate, calendar_feed_revoke
from portal.requests.selectors import family_meetings

from .helpers import family_required

# Meetings further back than this are left out: calendars keep what they already fetched.
HISTORY_DAYS = 92


def feed_urls(request, token: str) -> dict:
    """The https URL of a feed and its webcal:// form (what calendar apps subscribe to)."""
    path = reverse("portal-calendar-feed", kwargs={"token": token})
    url = request.build_absolute_uri(path)
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


def _location(offering) -> str:
    location = offering.location
    if location is None:
        return ""
    parts = [location.name, location.address, location.city]
    return ", ".join(p for p in parts if p)


def family_calendar(*, family: Family, tenant, base_url: str) -> bytes:
    """The iCalendar document of the family's students' meetings: every meeting of each active
    enrollment (from its start date to its end, or the offering's), approved makeups, and
    reported absences as cancelled events."""
    tz = tenant.zone
    host = tenant.primary_host
    today = timezone.localdate(timezone=tz)
    since = today - timedelta(days=HISTORY_DAYS)

    cal = Calendar()
    cal.add("prodid", "-//Customer portal platform//Family schedule//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{tenant.name}: {family.name}")
    cal.add("x-wr-timezone", tenant.timezone)
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT6H")

    def add(uid, offering, day, summary, stamp, *, cancelled=False):
        event = Event()
        event.add("uid", f"{uid}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", datetime.combine(day, offering.start_time, tzinfo=tz))
        event.add("dtend", datetime.combine(day, offering.end_time, tzinfo=tz))
        event.add("summary", summary)
        where = _location(offering)
        if where:
            event.add("location", where)
        teachers = ", ".join(s.display_name for s in offering.instructors.all())
        details = [offering.program.name]
        if teachers:
            details.append(teachers)
        event.add("description", " · ".join(details))
        event.add("url", f"{base_url}/classes/{offering.pk}/")
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        cal.add_component(event)

    # The same meetings the schedule page shows (portal.requests.selectors.family_meetings).
    for meeting in family_meetings(family=family, start=since, end=date.max):
        offering, day = meeting.offering, meeting.day
        if meeting.kind == "makeup":
            req = meeting.request
            name = _("%(student)s: %(offering)s (makeup)") % {
                "student": meeting.student.first_name,
                "offering": offering.name,
            }
            add(f"makeup-{req.pk}", offering, day, name, req.decided_at or req.created_at)
            continue
        enrollment = meeting.enrollment
        name = f"{meeting.student.first_name}: {offering.name}"
        if meeting.absent:
            name = _("%(name)s (absent)") % {"name": name}
        add(f"enrollment-{enrollment.pk}-{day:%Y%m%d}", offering, day, name,
            enrollment.updated_at, cancelled=meeting.absent)  # fmt: skip

    cal.add_missing_timezones()
    return cal.to_ical()


@require_GET
def calendar_feed(request, token: str):
    family = calendar_feed_family(token=token)
    if family is None:
        raise Http404("No such calendar.")
    tenant = connection.tenant
    base_url = request.build_absolute_uri("/").rstrip("/")
    body = family_calendar(family=family, tenant=tenant, base_url=base_url)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    # A secret URL: keep it out of shared caches, search engines and Referer headers.
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "POST"])
@family_required
def calendar_settings(request):
    family = request.guardian.family
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            calendar_feed_revoke(family=family)
            messages.success(
                request, _("Your calendar link is turned off. Calendars using it stop updating.")
            )
        elif action == "regenerate":
            calendar_feed_regenerate(family=family)
            messages.success(
                request,
                _("Here is your new calendar link. The old link no longer works."),
            )
        else:
            messages.error(request, _("Choose what to do with your calendar link."))
        return redirect("portal-family-calendar")
    try:
        feed = family.calendar_feed
    except Family.calendar_feed.RelatedObjectDoesNotExist:
        feed = None
    return render(
        request,
        "portal_web/family_calendar.html",
        {"feed": feed, "urls": feed_urls(request, feed.token) if feed else None, "nav": "family"},
    )
