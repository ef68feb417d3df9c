"""The family app's web export (mobile/, `expo export --platform web`) in Chromium at a phone's
size, against a live server with the demo catalog: find the business in the directory, sign
up, add a student, search, hold a seat, check out with a saved card (charged on localstripe),
report an absence, accept a waitlist offer. The export is built once per change of the app
(saas_platform/app_web.py caches it by input hash)."""

from __future__ import annotations

import itertools
import json
import re
import tempfile
from datetime import date
from pathlib import Path

import pytest
import stripe
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from demo.data import seed_business
from portal.accounts.models import Guardian
from portal.billing.models import SavedPaymentMethod, StripeCustomer
from portal.catalog.models import Offering
from portal.enrollment import services as enrollment
from portal.enrollment.models import Enrollment, WaitlistEntry
from portal.requests.models import Request
from saas_platform.app_web import serve, web_export
from tenants.models import Tenant
from tests.e2e.watch import watch
from tests.localstripe import KEY
from tests.portal.enrollment_helpers import accept_policies, make_family, make_offering

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
SHOTS = Path(tempfile.gettempdir()) / "h-mobile-shots"  # screenshots to look at
_emails = itertools.count(1)


@pytest.fixture(scope="session")
def app_build():
    return web_export()


@pytest.fixture
def app_server(app_build, live_server_url):
    from django.conf import settings

    # The root host as the browser reaches it (Chromium maps every name to 127.0.0.1), and
    # links the API builds (the directory's api_base_url) carrying the live server's port.
    platform = f"http://{settings.PLATFORM_DOMAIN}:{live_server_url}"
    server = serve(platform_url=platform, dist=app_build)
    origin = f"http://127.0.0.1:{server.server_port}"
    with override_settings(APP_WEB_ORIGINS=[origin], PLATFORM_URL_PORT=str(live_server_url)):
        yield origin
    server.shutdown()


def button(page, name: str):
    """The visible button of that name (the web build keeps earlier screens in the page)."""
    return page.get_by_role("button", name=name).filter(visible=True)


def tab(page, name: str):
    """A tab of the bottom bar (role "tab" on the web, "button" on iOS)."""
    return page.get_by_role("tab", name=name).filter(visible=True)


def fail_once(page, pattern: str, message: str) -> list[str]:
    """The next request matching ``pattern`` gets a 503 with ``message``; later ones go
    through. Returns the URLs failed (``page.unroute(pattern)`` when done)."""
    failed: list[str] = []

    def handler(route):
        if failed:
            return route.continue_()
        failed.append(route.request.url)
        return route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"code": "unavailable", "message": message, "fields": {}}),
        )

    page.route(pattern, handler)
    return failed


def find_business(page, app_server: str, *, shot_name: str = "") -> None:
    """From the app's first screen, the test business through the platform directory."""
    page.goto(app_server)
    page.get_by_label("School name or code").filter(visible=True).fill("Kestrel")
    page.get_by_role("button", name="Search").filter(visible=True).click()
    if shot_name:
        shot(page, shot_name)
    page.get_by_role("link", name="Kestrel Gymnastics").filter(visible=True).click()


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"journey-{name}.png"))


def saved_card(tenant, email: str, stripe_url: str) -> None:
    """A card the family saved earlier (a SetupIntent in real life): a Customer and an attached
    PaymentMethod on localstripe, and our record of both."""
    client = stripe.StripeClient(KEY, base_addresses={"api": stripe_url}, max_network_retries=0)
    customer = client.v1.customers.create(params={"email": email})
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12,
                     "exp_year": date.today().year + 3, "cvc": "123"},
        }
    )  # fmt: skip
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    with tenant_context(tenant):
        family = Guardian.objects.get(email=email).family
        StripeCustomer.objects.create(family=family, customer_id=customer.id)
        SavedPaymentMethod.objects.create(
            family=family, stripe_payment_method_id=method.id, brand="visa", last4="4242",
            exp_month=12, exp_year=date.today().year + 3, is_default=True,
        )  # fmt: skip
    connection.set_schema_to_public()


def test_the_family_journey_in_the_app(
    request,
    browser,
    e2e_tenant,
    app_server,
    localstripe,
):
    tenant = e2e_tenant.tenant
    Tenant.objects.filter(pk=tenant.pk).update(
        stripe_account_id="acct_kestrel", stripe_charges_enabled=True
    )
    email = f"app-parent{next(_emails)}@kestrel.test"
    with tenant_context(tenant):
        seed_business(slug="acme", password="demo-pass-2026", family_emails=[])
        seeded = Offering.objects.filter(kind="class").prefetch_related("levels")
        target = next(
            (
                o
                for o in seeded.order_by("start_date", "pk")
                if o.tuition > 0 and o.seats_taken < o.capacity
                and (o.min_age or 0) <= 7 <= (o.max_age or 99) and o.gender == "any"
            ),
            None,
        )  # fmt: skip
        assert target is not None, [
            (o.name, o.min_age, o.max_age, o.gender, o.seats_taken) for o in seeded[:8]
        ]
        full = make_offering(
            name="Saturday Ninja", program=target.program, location=target.location,
            capacity=1, tuition=9000, min_age=5, max_age=12,
        )  # fmt: skip
        holder, holder_kid = make_family("holder@kestrel.test", born=date(2019, 6, 1))
        accept_policies(holder)  # the demo business requires its waivers before a seat is held
        holder_hold = enrollment.cart_add(
            family=holder, student_id=holder_kid.pk, offering_id=full.pk
        )
    connection.set_schema_to_public()
    born = date(date.today().year - 7, 1, 15).isoformat()

    with override_settings(
        STRIPE_SECRET_KEY=KEY, STRIPE_API_BASE=localstripe, STRIPE_MAX_NETWORK_RETRIES=0
    ):
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
        context.set_default_timeout(30_000)
        page = context.new_page()
        watch(request, page)  # its screenshot and console in a failure's report
        try:
            # 1. Find the business in the platform directory.
            find_business(page, app_server, shot_name="1-directory")

            # 2. Sign up (with the business's required policies).
            first_name = page.get_by_label("First name").filter(visible=True)
            for _ in range(3):  # a tap during the screen's entry transition may be dropped
                button(page, "New here? Create an account").click()
                try:
                    first_name.wait_for(timeout=10_000)
                    break
                except PlaywrightTimeout:
                    continue
            first_name.fill("Dana")
            page.get_by_label("Last name").filter(visible=True).fill("Rivera")
            page.get_by_label("Email").filter(visible=True).fill(email)
            page.get_by_label("Password").filter(visible=True).fill("a long and unusual passphrase")
            signatures = page.get_by_label(re.compile("^Type your full name")).filter(visible=True)
            signatures.first.wait_for()  # the business's waiver, required at sign-up
            for signature in signatures.all():
                signature.fill("Dana Rivera")
            referral = page.get_by_role("radiogroup", name="How did you hear about us?")
            referral = referral.filter(visible=True)
            if referral.count():
                referral.get_by_role("radio").first.click()
            shot(page, "2-signup")
            page.get_by_role("button", name="Create an account").filter(visible=True).click()
            tab(page, "Schedule").wait_for()

            # A student, through the family screen.
            tab(page, "More").click()
            page.get_by_role("button", name="Family").filter(visible=True).click()
            page.get_by_role("button", name="Add a student").filter(visible=True).click()
            page.get_by_label("First name").filter(visible=True).fill("Mia")
            page.get_by_label("Last name").filter(visible=True).fill("Rivera")
            page.get_by_label("Date of birth (YYYY-MM-DD)").filter(visible=True).fill(born)
            page.get_by_role("button", name="Save").filter(visible=True).click()
            page.get_by_text("Mia Rivera").filter(visible=True).wait_for()
            with tenant_context(tenant):  # the front desk places her in the class's level
                from portal.accounts.models import Student

                Student.objects.filter(family__guardians__email=email).update(
                    level=target.levels.first()
                )
            connection.set_schema_to_public()
            page.goto(app_server)  # a fresh start: the session is kept on the device

            # The class finder, its students failing to load once: it says so and tries again
            # (the finder still works by age meanwhile).
            tab(page, "Home").click()
            failed = fail_once(page, "**/api/v1/family/students", "Students unreadable just now.")
            button(page, "Find the right class").click()
            page.get_by_text("Students unreadable just now.").filter(visible=True).wait_for()
            page.get_by_label("Age").filter(visible=True).wait_for()
            shot(page, "2-finder-students-failed")
            button(page, "Try again").click()
            page.unroute("**/api/v1/family/students")
            page.get_by_text("Mia", exact=True).filter(visible=True).wait_for()
            assert len(failed) == 1
            assert not page.get_by_text("Students unreadable just now.").is_visible()
            page.goto(app_server)

            # 3. Search and hold a seat.
            tab(page, "Classes").click()
            page.get_by_label("Search classes").filter(visible=True).fill(target.name)
            page.get_by_role("button", name="Search").filter(visible=True).click()
            # The family's students fail to load once (a lost connection, a busy server): the
            # class says so and offers another try, not "add a student first".
            failed = fail_once(page, "**/api/v1/family/students", "Back in a moment.")
            page.get_by_role("link", name=target.name).filter(visible=True).first.click()
            page.get_by_role("heading", name=target.name).filter(visible=True).wait_for()
            page.get_by_text("Back in a moment.").filter(visible=True).wait_for()
            assert not page.get_by_text("Add a student to your family first.").is_visible()
            shot(page, "3-class-students-failed")
            button(page, "Try again").click()
            page.unroute("**/api/v1/family/students")
            page.get_by_role("button", name="Add to cart").filter(visible=True).wait_for()
            assert len(failed) == 1
            shot(page, "3-class")
            page.get_by_role("button", name="Add to cart").filter(visible=True).click()
            # The billing authorization (not asked at sign-up) is not signed yet: the app
            # refuses with the policies to accept and a way forward to them.
            page.get_by_text(re.compile("Please accept .*Billing authorization")).filter(
                visible=True
            ).wait_for()
            shot(page, "4-policies-first")
            button(page, "Review and accept the policies").click()
            signatures = page.get_by_label(re.compile("^Type your full name")).filter(visible=True)
            signatures.first.wait_for()
            for signature in signatures.all():
                signature.fill("Dana Rivera")
            page.get_by_role("button", name="Accept", exact=True).filter(visible=True).click()
            page.get_by_text("Policies to accept").filter(visible=True).wait_for(state="hidden")
            page.goto(app_server)
            tab(page, "Classes").click()
            page.get_by_label("Search classes").filter(visible=True).fill(target.name)
            page.get_by_role("button", name="Search").filter(visible=True).click()
            page.get_by_role("link", name=target.name).filter(visible=True).first.click()
            page.get_by_role("heading", name=target.name).filter(visible=True).wait_for()
            page.get_by_role("button", name="Add to cart").filter(visible=True).click()
            timer = page.get_by_role("timer").filter(visible=True)
            timer.wait_for()
            assert re.fullmatch(r"Held for 1?\d:\d\d", timer.inner_text())
            shot(page, "4-cart")

            # 4. Check out with a saved card.
            saved_card(tenant, email, localstripe)
            # The saved cards fail to load once: the order says so and offers another try.
            failed = fail_once(page, "**/api/v1/payment-methods", "Cards unreadable just now.")
            page.get_by_role("button", name="Check out").filter(visible=True).click()
            page.get_by_text("Cards unreadable just now.").filter(visible=True).wait_for()
            shot(page, "5-cards-failed")
            button(page, "Try again").click()
            page.unroute("**/api/v1/payment-methods")
            assert len(failed) == 1
            page.get_by_role("button", name="Pay with VISA •••• 4242").filter(visible=True).click()
            page.get_by_text("Paid. You're all set!").filter(visible=True).wait_for()
            shot(page, "5-paid")
            with tenant_context(tenant):
                mine = Enrollment.objects.get(family__guardians__email=email, offering=target)
                assert mine.status == "active"
            connection.set_schema_to_public()

            # 5. Report an absence.
            page.get_by_role("button", name="See my schedule").filter(visible=True).click()
            tab(page, "Schedule").click()
            button(page, f"Report an absence: {target.name}").click()
            days = page.get_by_role("radiogroup", name="Which day?").filter(visible=True)
            days.get_by_role("radio").first.click()
            page.get_by_role("button", name="Send request").filter(visible=True).click()
            page.get_by_text(re.compile("^Request sent: ")).filter(visible=True).wait_for()
            shot(page, "6-absence")
            with tenant_context(tenant):
                assert Request.objects.get(family=mine.family).type == "absence"

                # 6. A seat opens in a full class the family waits for: an offer.
                enrollment.waitlist_join(
                    family=mine.family, student_id=mine.student_id, offering_id=full.pk
                )
                enrollment.cart_remove(family=holder, hold_id=holder_hold.pk)
                assert WaitlistEntry.objects.get(family=mine.family).status == "offered"
            connection.set_schema_to_public()
            page.goto(app_server)  # the family opens the app again: Home shows the offer
            page.get_by_role("link", name="A seat opened for you").filter(visible=True).click()
            page.get_by_role("button", name=f"Accept {full.name}").filter(visible=True).click()
            page.get_by_role("timer").filter(visible=True).first.wait_for()
            shot(page, "7-offer-accepted")
            with tenant_context(tenant):
                assert WaitlistEntry.objects.get(family=mine.family).status == "accepted"
            connection.set_schema_to_public()
        finally:
            request.addfinalizer(context.close)  # after a failure's screenshot


@pytest.mark.parametrize("width", [390, 768, 1280])
def test_the_app_at_phone_tablet_and_desktop_widths(
    request, browser, e2e_tenant, app_server, width
):
    """The directory and the business's sign-in screen, as a family sees them at each width."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="es-MX")
    context.set_default_timeout(30_000)
    page = context.new_page()
    watch(request, page)  # its screenshot and console in a failure's report
    try:
        page.goto(app_server)
        page.get_by_label("Nombre o código de la escuela").fill("Kestrel")
        page.get_by_role("button", name="Buscar").click()
        page.get_by_role("link", name="Kestrel Gymnastics").click()
        button(page, "Iniciar sesión").wait_for()
        box = button(page, "Iniciar sesión").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width  # nothing off-screen
        shot(page, f"signin-es-{width}")
    finally:
        request.addfinalizer(context.close)  # after a failure's screenshot


@pytest.mark.parametrize("width", [390, 768, 1280])
def test_the_app_says_at_once_when_every_class_of_an_opening_is_full(
    request, browser, e2e_tenant, app_server, width
):
    """A family waiting in an opening's line when its last seat goes: the app's next poll
    tells it (it keeps its place in case a seat opens up, and may leave), no estimate shown."""
    from datetime import timedelta

    from django.db.models import F
    from django.utils import timezone

    from portal.catalog import waiting_room
    from portal.catalog.availability import availability_clear
    from portal.catalog.models import RegistrationOpening
    from tests.factories import PASSWORD

    tenant = e2e_tenant.tenant
    email = f"app-line{next(_emails)}@kestrel.test"
    with tenant_context(tenant):
        rush = make_offering(name="Rush Ninjas", capacity=2, tuition=0, min_age=3, max_age=17)
        family, _kid = make_family(email, born=date(2019, 6, 1), first_name="Mia")
        accept_policies(family)
        opening = RegistrationOpening.objects.create(
            name="Spring registration",
            opens_at=timezone.now() - timedelta(seconds=1),
            checkout_slots=1,
        )
        opening.offerings.set([rush])
        waiting_room.queue_join(opening_id=opening.pk, family_id=9_400_001)  # the only slot
    connection.set_schema_to_public()
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    context.set_default_timeout(30_000)
    page = context.new_page()
    watch(request, page)  # its screenshot and console in a failure's report
    try:
        find_business(page, app_server)
        page.get_by_label("Email").filter(visible=True).fill(email)
        page.get_by_label("Password").filter(visible=True).fill(PASSWORD)
        button(page, "Sign in").click()
        tab(page, "Classes").click()
        page.get_by_text("Rush Ninjas").filter(visible=True).first.click()
        button(page, "Add to cart").click()
        page.get_by_text("You are number 1 in line.").filter(visible=True).wait_for()
        with tenant_context(tenant):
            Offering.objects.filter(pk=rush.pk).update(seats_taken=F("capacity"))
            availability_clear()
            waiting_room.configs_clear()  # the live server's process is this one
        notice = page.get_by_text(re.compile("^Every class in this registration is full"))
        notice.filter(visible=True).wait_for()  # the app's own poll
        assert page.get_by_text("You are number 1 in line.").filter(visible=True).count()
        assert not page.get_by_text(re.compile("^Estimated wait")).filter(visible=True).count()
        assert button(page, "Leave the line").count()
        box = notice.filter(visible=True).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width  # nothing off-screen
        shot(page, f"line-all-full-{width}")
    finally:
        with tenant_context(tenant):
            waiting_room.queue_clear(opening=opening)
        connection.set_schema_to_public()
        request.addfinalizer(context.close)  # after a failure's screenshot
