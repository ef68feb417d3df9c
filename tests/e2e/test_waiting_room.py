"""The registration opening's waiting room in a real browser, in English and in Spanish: a
family joins the pre-queue before the opening, the page follows the opening, its place in line
and its admission without a reload (waiting_room.js polling at the server's ``poll_seconds``), the
pass lets it add the opening's class to the cart, and once the pass has ended the page says so and
the cart refuses; a family that leaves the line gives up its place (DELETE on the API's queue).
axe-core checks every page."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.redis import redis_client
from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from portal.enrollment.models import Hold
from tests.e2e.data import catalog_create

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {
        "join": "Join the line",
        "random": "random order",
        "place": "Your place in line:",
        "turn": "It is your turn!",
        "ended": "Your pass has ended.",
        "again": "Join the line again",
        "to_room": "Go to the waiting room",
        "leave": "Leave the line",
    },
    "es": {
        "join": "Unirse a la fila",
        "random": "orden aleatorio",
        "place": "Su lugar en la fila:",
        "turn": "¡Es su turno!",
        "ended": "Su pase ha terminado.",
        "again": "Volver a la fila",
        "to_room": "Ir a la sala de espera",
        "leave": "Salir de la fila",
    },
}
LOCALES = {"en": "en-US", "es": "es-MX"}


def _family(tenant, email):
    from tests.factories import GuardianFactory, StudentFactory
    from tests.portal.enrollment_helpers import accept_policies

    with tenant_context(tenant):
        guardian = GuardianFactory(email=email, first_name="Dana")
        StudentFactory(family=guardian.family, first_name="Mia", last_name="Rivera")
        accept_policies(guardian.family)
        return guardian.family.pk


def _sign_in(page, axe, e2e_tenant, email):
    from tests.factories import PASSWORD

    page.goto(e2e_tenant("/login/"))
    axe.check(page)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("language", ["en", "es"])
def test_pre_queue_opening_admission_and_pass_expiry(e2e_tenant, browser, axe, request, language):
    # bypass_csp: axe-core is injected as an inline script, which the portal's CSP forbids.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale=LOCALES[language], bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on(
        "framenavigated",
        lambda frame: (
            axe.visited.append(_path(frame.url))
            if frame == page.main_frame and frame.url.startswith("http")
            else None
        ),
    )
    request.node._e2e_pages = [page]
    try:
        _run(e2e_tenant, page, axe, language)
    finally:
        context.close()


def _shots(page, name: str) -> None:
    """With E2E_SHOTS=<folder>: the page at phone, tablet and desktop widths (for review)."""
    folder = os.environ.get("E2E_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (390, 768, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _run(e2e_tenant, page, axe, language):
    t = TEXT[language]
    tenant = e2e_tenant.tenant
    offerings = catalog_create(tenant)
    free = offerings["free"]
    email = f"wr-{language}@kestrel.test"
    ours = _family(tenant, email)
    with tenant_context(tenant):
        opening = RegistrationOpening.objects.create(
            name="Fall registration",
            # An hour away while the family signs in and joins (however slow the machine), then
            # moved to a few seconds away (below), so the test does not wait for a clock.
            opens_at=timezone.now() + timedelta(hours=1),
            checkout_slots=1,
            pass_minutes=10,
        )
        opening.offerings.set([free, offerings["paid"]])
        # Two other families are in the pre-queue too; one checkout slot.
        others = [_family(tenant, f"other{n}-{language}@kestrel.test") for n in (1, 2)]
        for family_id in others:
            waiting_room.queue_join(opening_id=opening.pk, family_id=family_id)
    try:
        _sign_in(page, axe, e2e_tenant, email)
        axe.check(page, context="(signed in)")

        # Pre-queue: join before the opening.
        page.goto(e2e_tenant(f"/waiting-room/{opening.pk}/"))
        axe.check(page)
        page.get_by_role("button", name=t["join"], exact=True).click()
        page.wait_for_load_state("load")
        room = page.locator(".waiting-room")
        assert room.get_attribute("data-state") == "before_opening"
        assert t["random"] in page.inner_text("main")
        page.get_by_role("button", name=t["leave"], exact=True).wait_for()
        axe.check(page, context="(pre-queue)")
        _shots(page, f"pre-queue-{language}")
        with tenant_context(tenant):
            RegistrationOpening.objects.filter(pk=opening.pk).update(
                opens_at=timezone.now() + timedelta(seconds=3)
            )
            waiting_room.configs_clear()  # the live server runs in this process
        page.reload()
        page.wait_for_load_state("load")
        assert room.get_attribute("data-state") == "before_opening"
        page.evaluate("window.__sameDocument = true")

        # The opening: the page follows it without a reload.
        page.wait_for_function(
            "() => ['waiting', 'admitted'].includes("
            "document.querySelector('.waiting-room').dataset.state)",
            timeout=30_000,
        )
        with tenant_context(tenant):
            while room.get_attribute("data-state") != "admitted":
                assert t["place"] in page.inner_text("main")
                position = page.locator(".waiting-room__position").inner_text()
                assert position.isdigit() and 1 <= int(position) <= 2
                _shots(page, f"waiting-{language}")
                # The family checking out finishes: the next one is let in.
                admitted = [int(f) for f, _ in waiting_room.admission_log(opening=opening)]
                waiting_room.family_checked_out(family_id=admitted[-1], openings=[opening])
                page.wait_for_timeout(2_500)
        assert page.evaluate("window.__sameDocument === true")  # never reloaded
        assert t["turn"] in page.inner_text("main")
        axe.check(page, context="(admitted)")
        _shots(page, f"admitted-{language}")

        # The pass works: the opening's class goes into the cart.
        page.locator(f".waiting-room__offerings a[href='/classes/{free.pk}/']").click()
        page.wait_for_load_state("load")
        axe.check(page)
        page.locator("select[name=student]").select_option(label="Mia Rivera")
        page.locator("form[action$='/cart/add/'] button[type=submit]").click()
        page.wait_for_load_state("load")
        axe.check(page, context="(cart)")
        with tenant_context(tenant):
            assert Hold.objects.filter(family_id=ours, offering=free, status="active").exists()

            # The pass ends (as if its minutes had run out).
            key = waiting_room._keys(waiting_room._snapshot(opening))["passes"]
            past = int((timezone.now() - timedelta(seconds=1)).timestamp() * 1000)
            redis_client().hset(key, str(ours), past)
        page.goto(e2e_tenant(f"/waiting-room/{opening.pk}/"))
        page.wait_for_function(
            "() => document.querySelector('.waiting-room').dataset.state === 'expired'"
        )
        assert t["ended"] in page.inner_text("main")
        page.get_by_role("button", name=t["again"], exact=True).wait_for()
        axe.check(page, context="(pass ended)")
        _shots(page, f"expired-{language}")
        page.goto(e2e_tenant(f"/classes/{offerings['paid'].pk}/"))
        axe.check(page)
        page.locator("select[name=student]").select_option(label="Mia Rivera")
        page.locator("form[action$='/cart/add/'] button[type=submit]").click()
        page.wait_for_load_state("load")
        page.get_by_role("link", name=t["to_room"]).wait_for()
        axe.check(page, context="(refused without a pass)")
        axe.assert_every_page_checked()
    finally:
        with tenant_context(tenant):
            waiting_room.queue_clear(opening=opening)


def test_leaving_the_line_gives_up_the_place(e2e_tenant, browser, axe, request):
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    tenant = e2e_tenant.tenant
    offerings = catalog_create(tenant)
    ours = _family(tenant, "wr-leave@kestrel.test")
    with tenant_context(tenant):
        opening = RegistrationOpening.objects.create(
            name="Winter registration", opens_at=timezone.now() + timedelta(minutes=10)
        )
        opening.offerings.set([offerings["free"]])
        pre = waiting_room._keys(waiting_room._snapshot(opening))["pre"]
    try:
        _sign_in(page, axe, e2e_tenant, "wr-leave@kestrel.test")
        page.goto(e2e_tenant(f"/waiting-room/{opening.pk}/"))
        page.get_by_role("button", name="Join the line", exact=True).click()
        page.wait_for_load_state("load")
        assert redis_client().zscore(pre, str(ours)) is not None
        axe.check(page, context="(pre-queue, 390 px)")
        _shots(page, "leave-before")
        with page.expect_navigation():
            page.get_by_role("button", name="Leave the line", exact=True).click()
        page.get_by_role("button", name="Join the line", exact=True).wait_for()
        assert redis_client().zscore(pre, str(ours)) is None
        assert not page.get_by_role("button", name="Leave the line", exact=True).is_visible()
        axe.check(page, context="(left the line)")
        axe.assert_every_page_checked()
    finally:
        with tenant_context(tenant):
            waiting_room.queue_clear(opening=opening)
        context.close()


FULL = {
    "en": "Every class in this registration is full right now.",
    "es": "Todas las clases de esta inscripción están llenas en este momento.",
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_line_whose_classes_fill_up_says_so_live(e2e_tenant, browser, axe, request, language):
    """A family waiting in line when the last seat goes: the page tells it on its next poll,
    without a reload, keeps its place and offers to leave."""
    from django.db.models import F

    from portal.catalog.availability import availability_clear
    from portal.catalog.models import Offering

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale=LOCALES[language], bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    tenant = e2e_tenant.tenant
    offerings = catalog_create(tenant)
    email = f"wr-full-{language}@kestrel.test"
    _family(tenant, email)
    with tenant_context(tenant):
        opening = RegistrationOpening.objects.create(
            name="Spring registration",
            opens_at=timezone.now() - timedelta(seconds=1),
            checkout_slots=1,
        )
        opening.offerings.set([offerings["free"]])
        waiting_room.queue_join(opening_id=opening.pk, family_id=9_300_001)  # the only slot
    try:
        _sign_in(page, axe, e2e_tenant, email)
        page.goto(e2e_tenant(f"/waiting-room/{opening.pk}/"))
        page.get_by_role("button", name=TEXT[language]["join"], exact=True).click()
        page.wait_for_load_state("load")
        page.get_by_text(TEXT[language]["place"]).wait_for()
        assert not page.get_by_text(FULL[language]).is_visible()
        with tenant_context(tenant):
            Offering.objects.filter(pk=offerings["free"].pk).update(seats_taken=F("capacity"))
            availability_clear()
        page.get_by_text(FULL[language]).wait_for()  # the page's own poll, no reload
        expect(page.get_by_text(TEXT[language]["place"])).to_be_visible()
        expect(page.get_by_role("button", name=TEXT[language]["leave"], exact=True)).to_be_visible()
        axe.check(page, context="(every class full, 390 px)")
        _shots(page, f"all-full-{language}")
        axe.assert_every_page_checked()
    finally:
        with tenant_context(tenant):
            waiting_room.queue_clear(opening=opening)
        context.close()
