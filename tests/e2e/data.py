"""Committed catalog data for a browser test's own business."""

from __future__ import annotations

import zoneinfo
from datetime import date, time, timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.catalog.models import Location, Offering, Program, StaffProfile


def business_today(tenant) -> date:
    """Today where the business is (its pages count days in its zone, not the test's UTC: the
    two differ for hours each day, e.g. after 19:00 in New York)."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.timezone))


def next_monday(after_days: int = 8):
    """The first Monday ``after_days`` or more days after today where the business is (the
    tenant the connection is in; the active zone's today outside one). Counted from UTC's
    today instead, a class starting on it fell outside the business's "next two weeks" for the
    hours each Monday when UTC is a day ahead of the business (the home page's next classes
    were empty, 00:00-05:00 UTC in New York)."""
    tenant = getattr(connection, "tenant", None)
    today = business_today(tenant) if getattr(tenant, "timezone", None) else timezone.localdate()
    day = today + timedelta(days=after_days)
    return day + timedelta(days=(0 - day.weekday()) % 7)


def catalog_create(tenant) -> dict[str, Offering]:
    """A free weekly class (checkout needs no payment), a paid one and a camp, in two programs."""
    with tenant_context(tenant):
        gym = Program.objects.create(name="Gymnastics")
        swim = Program.objects.create(name="Swimming")
        main = Location.objects.create(name="Main gym", city="Springfield")
        pool = Location.objects.create(name="Pool", city="Springfield")
        coach = StaffProfile.objects.create(display_name="Coach Rivera", bio="Head coach.")
        start = next_monday()
        free = Offering.objects.create(
            name="Tumble Tots Trial", program=gym, location=main, capacity=8,
            start_date=start, end_date=start + timedelta(weeks=8), weekdays=[0],
            start_time=time(16), end_time=time(17), tuition=0, registration_fee=0,
            min_age=3, max_age=12,
        )  # fmt: skip
        free.instructors.set([coach])
        paid = Offering.objects.create(
            name="Ninja Skills", program=gym, location=main, capacity=10,
            start_date=start + timedelta(days=2), end_date=start + timedelta(weeks=8),
            weekdays=[2], start_time=time(17), end_time=time(18), tuition=12000,
        )  # fmt: skip
        swim_class = Offering.objects.create(
            name="Guppies", program=swim, location=pool, capacity=6,
            start_date=start + timedelta(days=5), end_date=start + timedelta(weeks=8),
            weekdays=[5], start_time=time(9), end_time=time(10), tuition=9000,
        )  # fmt: skip
    connection.set_schema_to_public()
    return {"free": free, "paid": paid, "swim": swim_class}
