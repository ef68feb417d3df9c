"""Students' photos in Chromium: a parent adds their child's photo on the student page (390 px
phone), the front desk adds another from the console family page (a coach cannot), and the
coach's roster shows both photos and the initials of the student without one, on screen and
printed, at 768 and 1280 px. Every photo is loaded through its signed link (the image really
decodes in the browser). axe-core checks every page; docs/staff.md's photo screenshots are taken
here (docs/images/console-roster-photos-*.png, family-student-photo-390.png)."""

from __future__ import annotations

import io
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw

from kernel.users.models import User
from portal.accounts.models import Family, Guardian, Student
from portal.catalog.models import Location, Offering, Program, StaffProfile
from portal.enrollment.models import Enrollment
from portal.staff.services import staff_role_set
from tests.e2e.data import business_today

pytestmark = [pytest.mark.e2e]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PASSWORD = "console-pass-2026"
SIZES = {"tablet": {"width": 768, "height": 1024}, "desktop": {"width": 1280, "height": 900}}


def portrait(path: Path, background: tuple, shirt: tuple) -> Path:
    """A simple head-and-shoulders picture (a stand-in for a real photo), as a JPEG."""
    picture = Image.new("RGB", (480, 480), background)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((90, 300, 390, 620), fill=shirt)
    draw.ellipse((160, 90, 320, 270), fill=(241, 194, 160))
    draw.chord((150, 70, 330, 240), 180, 360, fill=(70, 45, 30))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=88)
    path.write_bytes(buffer.getvalue())
    return path


def roster_data(tenant) -> dict:
    """A class meeting today taught by the coach, three students (Leo's family has a login),
    a front desk login. Committed."""
    today = business_today(tenant)
    with tenant_context(tenant):
        for email, role in (("coach@kestrel.test", "coach"), ("desk@kestrel.test", "front_desk")):
            user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
            staff_role_set(user=user, role=role)
        coach = User.objects.get(email="coach@kestrel.test")
        profile = StaffProfile.objects.create(display_name="Coach Lee", user=coach)
        tots = Offering.objects.create(
            name="Tumble Tots",
            capacity=8,
            start_time=time(16),
            end_time=time(17),
            program=Program.objects.create(name="Gymnastics"),
            location=Location.objects.create(name="Main gym", city="Springfield"),
            start_date=today - timedelta(days=21),
            end_date=today + timedelta(weeks=8),
            weekdays=[today.weekday()],
            tuition=12000,
        )
        tots.instructors.set([profile])
        students = {}
        for last, kid in (("Rivera", "Mia"), ("Chen", "Leo"), ("Okafor", "Ada")):
            family = Family.objects.create(name=f"The {last} family")
            guardian = Guardian.objects.create(
                family=family,
                first_name="Pat",
                last_name=last,
                is_primary=True,
                email=f"{kid.lower()}@kestrel.test",
                phone="(555) 201-7788",
            )
            if kid == "Leo":
                guardian.user = User.objects.create_user(email=guardian.email, password=PASSWORD)
                guardian.save()
            student = Student.objects.create(
                family=family,
                first_name=kid,
                last_name=last,
                date_of_birth=date(today.year - 6, 3, 1),
            )
            Enrollment.objects.create(
                family=family,
                student=student,
                offering=tots,
                status="active",
                start_date=today - timedelta(days=21),
            )
            students[kid] = student
    connection.set_schema_to_public()
    return {"tots": tots, "students": students, "today": today}


def shoot(page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def no_sideways(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def decoded(page, selector: str) -> bool:
    """The image loads and decodes (its signed link answers a real picture); waits for it."""
    page.wait_for_function(
        "s => { const i = document.querySelector(s); "
        "return !!i && i.complete && i.naturalWidth > 0 }",
        arg=selector,
    )
    return True


def console_sign_in(page, e2e_tenant, email: str) -> None:
    page.goto(e2e_tenant("/console/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(e2e_tenant("/console/"))


def new_page(browser, request, size, touch=False):
    context = browser.new_context(viewport=size, locale="en-US", bypass_csp=True, has_touch=touch)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    request.node._e2e_pages = [*getattr(request.node, "_e2e_pages", []), page]
    return context, page, errors


@pytest.mark.parametrize("viewport", ["tablet", "desktop"])
def test_photos_on_the_roster(viewport, e2e_tenant, browser, axe, request, tmp_path):
    data = roster_data(e2e_tenant.tenant)
    tots, kids, today = data["tots"], data["students"], data["today"]
    width = SIZES[viewport]["width"]
    leo_photo = portrait(tmp_path / "leo.jpg", (120, 170, 220), (30, 120, 80))
    mia_photo = portrait(tmp_path / "mia.jpg", (250, 210, 120), (180, 40, 90))

    # The parent adds Leo's photo on a phone.
    context, page, errors = new_page(browser, request, {"width": 390, "height": 844}, True)
    try:
        page.goto(e2e_tenant("/login/"))
        page.locator("#id_email").fill("leo@kestrel.test")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("load")
        page.goto(e2e_tenant(f"/family/students/{kids['Leo'].pk}/"))
        # Not an image: refused with the reason, nothing stored.
        bad = tmp_path / "notes.jpg"
        bad.write_bytes(b"not a picture")
        page.get_by_label("Add a photo").set_input_files(str(bad))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("Use a PNG, JPEG or WebP image.").wait_for()
        page.get_by_label("Add a photo").set_input_files(str(leo_photo))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("The photo is saved.").wait_for()
        assert decoded(page, "img.student-photo--large")
        axe.check(page, context="(family student photo)")
        no_sideways(page)
        if viewport == "tablet":
            shoot(page, "family-student-photo-390.png")
        assert errors == []
    finally:
        context.close()

    size = SIZES[viewport]
    context, page, errors = new_page(browser, request, size, viewport == "tablet")
    try:
        # The front desk adds Mia's photo from the family page.
        console_sign_in(page, e2e_tenant, "desk@kestrel.test")
        page.goto(e2e_tenant(f"/console/families/{kids['Mia'].family_id}/"))
        page.get_by_label("Add a photo of Mia").set_input_files(str(mia_photo))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("Photo saved.").wait_for()
        assert decoded(page, f"#student-{kids['Mia'].pk} img")
        axe.check(page, context="(console family with photo)")
        no_sideways(page)
        shoot(page, f"console-family-photo-{width}.png")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))

        # The coach's roster: two photos and Ada's initials.
        console_sign_in(page, e2e_tenant, "coach@kestrel.test")
        meeting = f"/console/rosters/{tots.pk}/{today.isoformat()}/"
        page.goto(e2e_tenant(meeting))
        for kid in ("Mia", "Leo"):
            assert decoded(page, f"#student-{kids[kid].pk} img.c-avatar--photo"), kid
        assert page.locator(f"#student-{kids['Ada'].pk} .c-avatar").inner_text() == "AO"
        axe.check(page, context="(roster with photos)")
        no_sideways(page)
        shoot(page, f"console-roster-photos-{width}.png")
        page.emulate_media(media="print")
        page.goto(e2e_tenant(meeting))
        assert decoded(page, f"#student-{kids['Mia'].pk} img.c-avatar--photo")
        assert not page.get_by_role("button", name="Present").first.is_visible()
        shoot(page, f"console-roster-photos-print-{width}.png")
        page.emulate_media(media="screen")
        # The coach cannot open the family page (no photo form there for them).
        response = page.goto(e2e_tenant(f"/console/families/{kids['Mia'].family_id}/"))
        assert response is not None and response.status == 403
        assert errors == []
    finally:
        context.close()
