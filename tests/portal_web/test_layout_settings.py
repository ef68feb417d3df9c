"""The brand's header style, class-list layout and font do something on the family portal: the
header and the class list render the published choice (list, grid, calendar), and /theme.css
serves the chosen font from the portal's own static files (allowed by the CSP), with its
licence beside it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from tests.helpers import host_of
from tests.portal.enrollment_helpers import make_offering
from theming.models import FONT_STACKS
from theming.services import brand_update, theme_publish

pytestmark = pytest.mark.django_db


def publish(**changes) -> None:
    brand_update(**changes)
    theme_publish(published_by="owner@alpha.test")


def classes_page(tenant) -> str:
    return Client(HTTP_HOST=host_of(tenant)).get("/classes/").content.decode()


def test_each_class_list_layout_renders_its_own_markup(in_tenant_a):
    start = timezone.localdate() + timedelta(days=7)
    make_offering(name="Monday Tumblers", start_date=start, weekdays=[0])
    make_offering(name="Wednesday Flyers", start_date=start, weekdays=[2])
    publish(class_list_layout="list", header_style="left")
    html = classes_page(in_tenant_a)
    assert 'class="cards cards--list" data-layout="list"' in html
    assert 'data-header-style="left"' in html
    publish(class_list_layout="grid", header_style="centered")
    html = classes_page(in_tenant_a)
    assert 'class="cards cards--grid" data-layout="grid"' in html
    assert "site-header--centered" in html
    publish(class_list_layout="calendar", header_style="banner")
    html = classes_page(in_tenant_a)
    assert 'data-layout="calendar"' in html and 'class="cards' not in html
    assert "site-header--banner" in html
    monday, wednesday = html.index('id="day-heading-mon"'), html.index('id="day-heading-wed"')
    assert monday < html.index("Monday Tumblers") < wednesday < html.index("Wednesday Flyers")
    assert 'id="day-heading-tue"' not in html  # days without classes are left out


@pytest.mark.parametrize("font", [key for key in FONT_STACKS if key != "system"])
def test_the_chosen_font_is_served_from_the_portal_itself(in_tenant_a, font):
    publish(font=font)
    client = Client(HTTP_HOST=host_of(in_tenant_a))
    css = client.get("/theme.css").content.decode()
    name = FONT_STACKS[font][0]
    assert f'font-family: "{name}";' in css
    for weight in (400, 700):
        url = f"/static/theming/fonts/{font}/{font}-{weight}.woff2"
        assert f'src: url("{url}") format("woff2");' in css
        found = finders.find(f"theming/fonts/{font}/{font}-{weight}.woff2")
        assert found and Path(found).read_bytes()[:4] == b"wOF2"
    licence = Path(finders.find(f"theming/fonts/{font}/OFL.txt")).read_text()
    assert "SIL Open Font License" in licence
    # Same origin: the CSP's font-src 'self' lets the page load it.
    policy = client.get("/classes/")["Content-Security-Policy"]
    assert "font-src 'self'" in policy


def test_the_system_font_needs_no_file(in_tenant_a):
    publish(font="system")
    css = Client(HTTP_HOST=host_of(in_tenant_a)).get("/theme.css").content.decode()
    assert "@font-face" not in css and "--font-family: system-ui" in css
