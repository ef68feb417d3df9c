"""A full page of classes on a phone. The cards below the first screen skip style, layout and
paint until they scroll near (``content-visibility: auto`` in portal.css; docs/web.md,
"Lighthouse"): the page still never scrolls sideways (a skipped card must not lend the list a
width of its own), and each card shows its class once scrolled to."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from portal.catalog.models import Location, Offering, Program
from tests.e2e.data import next_monday

pytestmark = pytest.mark.e2e
OVERFLOW_JS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# False while the element sits in a card whose content is skipped.
DRAWN_JS = "el => el.checkVisibility({contentVisibilityAuto: true})"


def full_page_of_classes(tenant) -> None:
    with tenant_context(tenant):
        gym = Program.objects.create(name="Gymnastics")
        main = Location.objects.create(name="Main gym", city="Springfield")
        start = next_monday()
        for n in range(20):
            Offering.objects.create(
                name=f"Level {n + 1} Tumbling and Trampoline (Mon {n % 12 + 8}:00)",
                program=gym, location=main, capacity=8, start_date=start,
                end_date=start + timedelta(weeks=8), weekdays=[0],
                start_time=time(n % 12 + 8), end_time=time(n % 12 + 9), tuition=9000,
                min_age=5, max_age=12,
            )  # fmt: skip
    connection.set_schema_to_public()


def test_a_full_class_list_on_a_phone(e2e_tenant, phone_page, axe):
    full_page_of_classes(e2e_tenant.tenant)
    page = phone_page
    page.goto(e2e_tenant("/classes/"))
    axe.check(page, context="(a full page of classes)")
    cards = page.locator(".cards > .card.offering")
    assert cards.count() == 20
    last = cards.nth(19).locator("h3")
    # Below the first screen: not drawn yet, and the page does not scroll sideways.
    assert cards.nth(0).locator("h3").evaluate(DRAWN_JS) is True
    assert last.evaluate(DRAWN_JS) is False
    assert page.evaluate(OVERFLOW_JS) <= 1
    last.scroll_into_view_if_needed()
    page.wait_for_function(
        "el => el.checkVisibility({contentVisibilityAuto: true})", arg=last.element_handle()
    )
    box = last.bounding_box()
    assert box is not None and box["height"] > 0 and box["x"] + box["width"] <= 390
    assert "Tumbling and Trampoline" in last.inner_text()
    assert page.evaluate(OVERFLOW_JS) <= 1
    axe.assert_every_page_checked()
