"""Issue 20's "Done when" suite: every family journey in a real browser, at a phone's 390 px and a
laptop's 1280 px, in English and Spanish (one browser context per language x width, the
journeys chained in it, so the four runs take a few minutes):

the signed-in home; a waitlist offer declined, another accepted into the cart with the hold
timer, a place in line left; a hold that ran out held again in one click; a card added on the
billing page against localstripe's stand-in Stripe.js; checkout and the unpaid order paid with
that saved card, then its receipt; a gift certificate bought (its code shown to the buyer) and
its balance checked; account edits (name and phone, password), a guardian removed and an
emergency contact added and edited on the family page, the data export downloaded; the requests
page; the makeup, transfer and punch-pass pickers, each listing exactly the classes the student
may take (not a girls-only class for Leo, one for older children, a level the student does not
hold, another program's class for a program's makeup token, the class being transferred out of);
eligibility on the class cards and the student picker; the class search's filters.

On every page visited: axe-core finds no serious or critical violation, nothing scrolls
sideways, no tap target is under 44 px, and the page is in the context's language. The one
exception to the checks is localstripe's stand-in card field (``#payment-element`` on the
add-card page): third-party markup, unlabelled inputs the size of their digits, where real
Stripe renders its own accessible iframe."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.e2e.data import business_today, catalog_create
from tests.localstripe import KEY, localstripe  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e
PASSWORD = "a long and unusual passphrase"
# Screenshots to look at (E2E_SHOTS, default: a folder beside the failure screenshots).
SHOTS = Path(os.environ.get("E2E_SHOTS") or Path(__file__).resolve().parent / "screenshots")

# Targets smaller than 44 x 44 px, other than links inside running text (WCAG 2.5.8's inline
# exception: an inline link whose block has words of its own besides its links, e.g. "We also
# emailed <a>your address</a>"; a row of bare links is not prose and is held to 44 px):
# checkboxes count by their label row.
SMALL_TARGETS_JS = """
(exclude) => {
  const bad = [];
  const seen = new Set();
  const inProse = (link) => {
    let block = link.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline'))
      block = block.parentElement;
    if (!block) return false;
    let rest = block.innerText;
    for (const other of block.querySelectorAll('a, button, select, input, label, summary'))
      rest = rest.replace(other.innerText, ' ');
    return /[\\p{L}\\p{N}]/u.test(rest);
  };
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    const style = getComputedStyle(el);
    let r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    if (el.classList.contains('skip-link') || el.closest(exclude)) continue;
    if (el.tagName === 'A' && style.display === 'inline' && !el.classList.contains('button')
        && inProse(el))
      continue;
    let target = el;
    if (el.type === 'checkbox' || el.type === 'radio') {
      target = el.closest('label, .checkbox') || el;
      r = target.getBoundingClientRect();
    }
    if (seen.has(target)) continue;
    seen.add(target);
    if (r.height < 43.5 || r.width < 43.5)
      bad.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '')
        .trim().slice(0, 40)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return bad;
}
"""
TEXT = {
    "en": {
        "menu": "Menu",
        "waitlists": "Waitlists",
        "accept": "Accept the seat",
        "decline": "Decline",
        "leave": "Leave the waitlist",
        "hold_again": "Hold these again",
        "billing": "Billing",
        "owed": "Balance owed",
        "account": "Your account",
        "export": "Download your family's data",
        "more_filters": "More filters",
        "requests": "Requests",
        "purchased": "Purchased. Thank you!",
        "enrolled": "You are enrolled. Thank you!",
        "receipt": "See your receipt",
        "girls_only": "Girls only",
        "not_eligible": "Leo cannot take this class: Girls Beam is for girls only.",
    },
    "es": {
        "menu": "Menú",
        "waitlists": "Listas de espera",
        "accept": "Aceptar la plaza",
        "decline": "Rechazar",
        "leave": "Salir de la lista de espera",
        "hold_again": "Reservar de nuevo",
        "billing": "Facturación",
        "owed": "Saldo adeudado",
        "account": "Su cuenta",
        "export": "Descargar los datos de su familia",
        "more_filters": "Más filtros",
        "requests": "Solicitudes",
        "purchased": "Comprado. ¡Gracias!",
        "enrolled": "Ya está inscrito. ¡Gracias!",
        "receipt": "Ver su recibo",
        "girls_only": "Solo niñas",
        "not_eligible": "Leo no puede tomar esta clase: Girls Beam es solo para niñas.",
    },
}
NEW_PASSWORD = "another long and unusual passphrase"
CARD_FIELD = "#payment-element"  # localstripe's stand-in card field (see the module's note)


def family_setup(tenant):
    """A signed-up family (two guardians, two students: Mia 7, Leo 4) whose policies are
    accepted; three full classes: one seat offered to Mia (Ninja Skills, to accept), one offered
    (Vault Club, to decline), one she waits for (Beam Team, to leave); a hold on the swim class
    that ran out; the free class checked out; a girls-only class Leo may not take. For the
    pickers: Mia in Bronze (Bronze Bars is for Bronze, Silver Bars for Silver, Power Tumbling for
    ages 6 and up), a makeup token for Leo in Gymnastics and a free one-student punch pass (any
    class) for Leo."""
    from portal.accounts.models import Guardian, Student
    from portal.accounts.services import family_signup, guardian_add
    from portal.catalog.models import Level, Offering
    from portal.config.services import portal_settings_update
    from portal.enrollment import services
    from portal.enrollment.models import Hold
    from portal.orders import services as orders
    from portal.requests.models import MakeupToken
    from portal.store import purchases
    from portal.store.models import PunchPassProduct
    from tests.portal.enrollment_helpers import accept_policies, make_family

    offerings = catalog_create(tenant)
    with tenant_context(tenant):
        today = business_today(tenant)
        family_signup(
            first_name="Dana", last_name="Rivera", email="dana@kestrel.test", password=PASSWORD
        )
        guardian = Guardian.objects.get(email="dana@kestrel.test")
        family = guardian.family
        guardian_add(guardian=guardian, first_name="Sam", last_name="Rivera",
                     email="sam@kestrel.test")  # fmt: skip
        mia = Student.objects.create(family=family, first_name="Mia", last_name="Rivera",
                                     date_of_birth=today - timedelta(days=7 * 365 + 30),
                                     gender="female")  # fmt: skip
        leo = Student.objects.create(family=family, first_name="Leo", last_name="Rivera",
                                     date_of_birth=today - timedelta(days=4 * 365 + 30),
                                     gender="male")  # fmt: skip
        accept_policies(family)
        portal_settings_update(gift_certificates_enabled=True, punch_passes_enabled=True)
        paid = offerings["paid"]
        base = {"program": paid.program, "location": paid.location, "start_date": paid.start_date,
                "end_date": paid.end_date, "start_time": paid.start_time,
                "end_time": paid.end_time}  # fmt: skip
        vault = Offering.objects.create(name="Vault Club", capacity=1, tuition=8000,
                                        weekdays=[1], **base)  # fmt: skip
        beam = Offering.objects.create(name="Beam Team", capacity=1, tuition=0,
                                       registration_fee=0, weekdays=[3], **base)  # fmt: skip
        Offering.objects.create(name="Girls Beam", capacity=6, tuition=7000, weekdays=[4],
                                gender="female", min_age=3, max_age=12, **base)  # fmt: skip
        # The pickers (makeup, transfer, punch pass) list only classes the student may take.
        bronze = Level.objects.create(program=paid.program, name="Bronze", position=1)
        silver = Level.objects.create(program=paid.program, name="Silver", position=2)
        Student.objects.filter(pk=mia.pk).update(level=bronze)
        for name, level, day in (("Bronze Bars", bronze, 1), ("Silver Bars", silver, 3)):
            Offering.objects.create(name=name, capacity=6, tuition=7000, weekdays=[day],
                                    **base).levels.set([level])  # fmt: skip
        Offering.objects.create(name="Power Tumbling", capacity=6, tuition=7000, weekdays=[4],
                                min_age=6, **base)  # fmt: skip
        MakeupToken.objects.create(family=family, student=leo, program=paid.program, kind=paid.kind,
                                   expires_on=today + timedelta(days=60))  # fmt: skip
        Offering.objects.filter(pk=paid.pk).update(capacity=1)
        other, kid = make_family("other@kestrel.test")
        accept_policies(other)
        # Ninja Skills and Vault Club: another family holds the one seat, Mia waits, the seat
        # frees up and is offered to her.
        for offering in (paid, vault):
            hold = services.cart_add(family=other, student_id=kid.pk, offering_id=offering.pk)
            services.waitlist_join(family=family, student_id=mia.pk, offering_id=offering.pk)
            services.cart_remove(family=other, hold_id=hold.pk)
        # Beam Team: the other family took the seat; Mia is first in line.
        services.cart_add(family=other, student_id=kid.pk, offering_id=beam.pk)
        orders.checkout(family=other)
        services.waitlist_join(family=family, student_id=mia.pk, offering_id=beam.pk)
        # A hold on the swim class that ran out.
        swim = services.cart_add(family=family, student_id=mia.pk, offering_id=offerings["swim"].pk)
        Hold.objects.filter(pk=swim.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        services.cart_refresh(family=family)
        # The free class, checked out (nothing due: confirmed at once).
        services.cart_add(family=family, student_id=mia.pk, offering_id=offerings["free"].pk)
        orders.checkout(family=family)
        # A free pass for Leo (any class): confirmed at once.
        drop_in = PunchPassProduct.objects.create(name="Drop-in", visits=2, price=0,
                                                  valid_days=60, scope="student")  # fmt: skip
        purchases.punch_pass_buy(family=family, product_id=drop_in.pk, student_id=leo.pk)
    from tenants.models import Tenant

    Tenant.objects.filter(pk=tenant.pk).update(
        stripe_account_id="acct_kestrel", stripe_charges_enabled=True
    )
    return offerings


def sign_in(page, axe, e2e_tenant, language: str, shot: str) -> None:
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": e2e_tenant.url}]
    )
    page.goto(e2e_tenant("/login/"))
    check_page(page, axe, "login", shot=shot)
    page.locator("#id_email").fill("dana@kestrel.test")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")


def check_page(page, axe, name: str, *, shot: str, exclude: tuple[str, ...] = ()) -> None:
    """axe, sideways scrolling, tap targets and the page's language, plus a screenshot."""
    axe.check(page, context=f"({name})", exclude=exclude)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name} scrolls sideways by {overflow}px"
    small = page.evaluate(SMALL_TARGETS_JS, ", ".join(exclude) or ":not(*)")
    assert not small, f"tap targets under 44 px on {name}: {small}"
    assert page.locator("html").get_attribute("lang") == shot.split("-")[1], name
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}-{name}.png"), full_page=True)


def open_nav(page, text, name: str) -> None:
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        assert toggle.inner_text().strip() == text["menu"]
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
    page.locator(".site-nav").get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state("load")


def submit(page, selector: str) -> None:
    """Click a form's submit button (or a link) and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(selector).click()
    page.wait_for_load_state("load")


def picker_classes(page, tenant) -> set[str]:
    """The names of the classes a picker (``#id_offering``) lists, read from its options'
    values (the language's own words play no part)."""
    from portal.catalog.models import Offering

    values = page.locator("#id_offering option").evaluate_all(
        "options => options.map((o) => o.value).filter(Boolean)"
    )
    with tenant_context(tenant):
        names = dict(Offering.objects.filter(pk__in=values).values_list("pk", "name"))
    assert len(names) == len(values), values
    return set(names.values())


def journeys(page, axe, e2e_tenant, language: str, shot: str) -> None:
    from portal.accounts.models import EmergencyContact, Guardian
    from portal.billing.models import SavedPaymentMethod
    from portal.enrollment.models import Enrollment, Order, WaitlistEntry
    from portal.requests.models import MakeupToken
    from portal.store.models import GiftCertificate, PunchPass

    tenant = e2e_tenant.tenant
    text = TEXT[language]
    phone = page.viewport_size["width"] < 768
    family_setup(tenant)
    sign_in(page, axe, e2e_tenant, language, shot)
    check_page(page, axe, "family-after-sign-in", shot=shot)

    # 5. The signed-in home: next classes, offers waiting, the family's own page.
    page.goto(e2e_tenant("/"))
    check_page(page, axe, "home", shot=shot)
    home = page.inner_text("main")
    assert "Tumble Tots Trial" in home and "Ninja Skills" in home
    if phone:
        # The header is one line on a phone: the navigation folds behind the menu button.
        assert not page.locator(".site-nav").is_visible()
        header = page.locator(".site-header").bounding_box()["height"]
        assert header <= 100, header

    # 1. Waitlists: decline one offer, leave one line, accept the last offer into the cart.
    open_nav(page, text, text["waitlists"])
    check_page(page, axe, "waitlist", shot=shot)
    submit(page, f'button:has-text("{text["decline"]}"):has-text("Vault Club")')
    check_page(page, axe, "waitlist-declined", shot=shot)
    submit(page, f'button:has-text("{text["leave"]}"):has-text("Beam Team")')
    check_page(page, axe, "waitlist-left", shot=shot)
    with tenant_context(tenant):
        live = set(
            WaitlistEntry.objects.filter(status__in=WaitlistEntry.LIVE).values_list(
                "offering__name", flat=True
            )
        )
    assert live == {"Ninja Skills"}, live
    page.get_by_role("button", name=text["accept"]).click()
    page.wait_for_load_state("load")
    assert page.get_by_role("timer").count() == 1
    assert "Ninja Skills" in page.inner_text("main")
    # 3. The swim hold that ran out, held again in one click.
    check_page(page, axe, "cart", shot=shot)
    page.get_by_role("button", name=text["hold_again"]).click()
    page.wait_for_load_state("load")
    assert "Guppies" in page.inner_text("main table")
    check_page(page, axe, "cart-held-again", shot=shot)

    # 2. A card added against localstripe's stand-in Stripe.js, back on the billing page.
    open_nav(page, text, text["billing"])
    assert text["owed"] in page.inner_text("main")
    check_page(page, axe, "billing", shot=shot)
    page.goto(e2e_tenant("/billing/payment-methods/add/"))
    field = page.locator(CARD_FIELD)
    field.locator("input[placeholder=number]").fill("4242424242424242")
    field.locator("input[placeholder=exp_month]").fill("12")
    field.locator("input[placeholder=exp_year]").fill(str(business_today(tenant).year + 3)[2:])
    field.locator("input[placeholder=cvc]").fill("123")
    field.locator("input[placeholder=postal_code]").fill("10001")
    check_page(page, axe, "card-add", shot=shot, exclude=(CARD_FIELD,))
    page.locator("#setup-button").click()
    page.wait_for_url(re.compile(r"/billing/\?"))
    page.wait_for_load_state("load")
    assert "4242" in page.inner_text("main")
    check_page(page, axe, "billing-card-saved", shot=shot)
    with tenant_context(tenant):
        card = SavedPaymentMethod.objects.get(removed_at__isnull=True)
    assert card.last4 == "4242"

    # Checkout, then the unpaid order paid with the saved card, then its receipt.
    page.goto(e2e_tenant("/checkout/"))
    check_page(page, axe, "checkout", shot=shot)
    submit(page, 'main form[action="/checkout/"] button[type=submit]')
    check_page(page, axe, "order-unpaid", shot=shot)
    submit(page, 'form[action$="/pay/"] button[type=submit]')
    assert text["enrolled"] in page.inner_text("main")
    check_page(page, axe, "order-paid", shot=shot)
    page.get_by_role("link", name=text["receipt"]).click()
    page.wait_for_load_state("load")
    assert "4242" in page.inner_text("main") and "Guppies" in page.inner_text("main")
    check_page(page, axe, "receipt", shot=shot)

    # The store: a gift certificate bought and paid with the card; its code, then its balance.
    page.goto(e2e_tenant("/store/"))
    check_page(page, axe, "store", shot=shot)
    buy = page.locator('form[action="/store/gift-certificates/buy/"]')
    buy.locator("#id_amount").select_option(index=1)
    buy.locator("#id_recipient_name").fill("Abuela Rosa")
    buy.locator("#id_recipient_email").fill("rosa@kestrel.test")
    submit(page, 'form[action="/store/gift-certificates/buy/"] button[type=submit]')
    check_page(page, axe, "gift-order", shot=shot)
    submit(page, 'form[action$="/pay/"] button[type=submit]')
    assert text["purchased"] in page.inner_text("main")
    with tenant_context(tenant):
        gift = GiftCertificate.objects.get(recipient_name="Abuela Rosa")
        assert gift.status == "active"
        unpaid = Order.objects.filter(family__guardians__email="dana@kestrel.test",
                                      status="pending_payment").count()  # fmt: skip
    assert unpaid == 0
    assert gift.code in page.inner_text("main")
    check_page(page, axe, "gift-paid", shot=shot)
    page.goto(e2e_tenant(f"/store/gift-certificates/balance/?gift_certificate_code={gift.code}"))
    assert "Abuela" in page.inner_text("main") or gift.code in page.inner_text("main")
    check_page(page, axe, "gift-balance", shot=shot)

    # 4. Account: own name and phone, then the password.
    open_nav(page, text, text["account"])
    check_page(page, axe, "account", shot=shot)
    page.locator("#id_first_name").fill("Daniela")
    page.locator("#id_phone").fill("555 201 7788")
    submit(page, 'form[action="/account/"] button[type=submit]')
    check_page(page, axe, "account-saved", shot=shot)
    page.locator("#id_current_password").fill(PASSWORD)
    page.locator("#id_new_password").fill(NEW_PASSWORD)
    submit(page, 'form[action="/account/password/"] button[type=submit]')
    check_page(page, axe, "password-changed", shot=shot)
    with tenant_context(tenant):
        dana = Guardian.objects.select_related("user").get(email="dana@kestrel.test")
        assert (dana.first_name, dana.phone) == ("Daniela", "555 201 7788")
        assert dana.user.check_password(NEW_PASSWORD)

    # The family page: a guardian removed (confirmed in a disclosure), an emergency contact
    # added and edited, the data export downloaded.
    page.goto(e2e_tenant("/family/"))
    page.locator("details.confirm > summary", has_text="Sam").click()
    check_page(page, axe, "family-remove-confirm", shot=shot)
    submit(page, 'form[action*="/family/guardians/"] button[type=submit]')
    check_page(page, axe, "family-guardian-removed", shot=shot)
    page.goto(e2e_tenant("/family/contacts/add/"))
    check_page(page, axe, "contact-add", shot=shot)
    page.locator("#id_name").fill("Rosa Rivera")
    page.locator("#id_phone").fill("555 111 2222")
    submit(page, 'form[action="/family/contacts/add/"] button[type=submit]')
    with tenant_context(tenant):
        contact = EmergencyContact.objects.get(name="Rosa Rivera")
        assert not Guardian.objects.filter(email="sam@kestrel.test").exists()
    page.goto(e2e_tenant(f"/family/contacts/{contact.pk}/edit/"))
    check_page(page, axe, "contact-edit", shot=shot)
    page.locator("#id_relationship").fill("Grandmother")
    submit(page, f'form[action="/family/contacts/{contact.pk}/edit/"] button[type=submit]')
    assert "Grandmother" in page.inner_text("main")
    assert page.get_by_role("link", name=text["export"]).count() == 1
    check_page(page, axe, "family", shot=shot)
    with page.expect_download() as download:
        page.get_by_role("link", name=text["export"]).click()
    exported = Path(download.value.path()).read_text()
    assert "Daniela" in exported and "Rosa Rivera" in exported

    # 7. Requests (a table that must not scroll sideways).
    open_nav(page, text, text["requests"])
    check_page(page, axe, "requests", shot=shot)

    # 6. The makeup, transfer and punch-pass pickers list exactly the classes the student may
    # take (by the options' values, whatever the language).
    with tenant_context(tenant):
        token = MakeupToken.objects.get(student__first_name="Leo")
        trial = Enrollment.objects.get(offering__name="Tumble Tots Trial", status="active")
        punch = PunchPass.objects.get(student__first_name="Leo", status="active")
    # Leo's token (Gymnastics): not Girls Beam (girls only), Power Tumbling (ages 6 and up),
    # Silver Bars (a level he does not hold) nor Guppies (another program).
    submit(page, f'main a[href$="/requests/makeup/{token.pk}/"]')
    assert picker_classes(page, tenant) == {
        "Tumble Tots Trial", "Ninja Skills", "Vault Club", "Beam Team", "Bronze Bars"
    }  # fmt: skip
    check_page(page, axe, "makeup-picker", shot=shot)
    # Mia's move out of Tumble Tots Trial: not the class she is in, nor Silver Bars (she is in
    # Bronze), nor the full Ninja Skills and Beam Team (a transfer there would be refused);
    # Girls Beam and Power Tumbling are hers to take.
    page.goto(e2e_tenant("/requests/"))
    submit(page, f'main a[href$="/requests/transfer/{trial.pk}/"]')
    assert picker_classes(page, tenant) == {
        "Guppies", "Vault Club", "Girls Beam", "Bronze Bars", "Power Tumbling",
    }  # fmt: skip
    check_page(page, axe, "transfer-picker", shot=shot)
    # A visit of Leo's pass (any program): Guppies too, still not Girls Beam, Power Tumbling,
    # Silver Bars, nor the full Ninja Skills and Beam Team.
    page.goto(e2e_tenant("/store/"))
    submit(page, f'main a[href$="/store/punch-passes/{punch.pk}/use/"]')
    assert picker_classes(page, tenant) == {
        "Tumble Tots Trial", "Guppies", "Vault Club", "Bronze Bars"
    }  # fmt: skip
    check_page(page, axe, "punch-picker", shot=shot)

    # 6. Eligibility up front: "Girls only" on the card; the picker disables Leo, with why.
    page.goto(e2e_tenant("/classes/"))
    check_page(page, axe, "classes", shot=shot)
    card = page.locator("article, li").filter(has_text="Girls Beam").last
    assert text["girls_only"] in card.inner_text()
    summary = page.locator("#filters > summary")
    assert summary.inner_text().strip().startswith(text["more_filters"])
    summary.click()
    assert page.locator("#filters").get_attribute("open") is not None
    page.goto(e2e_tenant("/classes/?day=mon"))
    results = page.locator("#results-heading").bounding_box()
    filters = page.locator("#filters").bounding_box()
    if phone:
        assert results["y"] < filters["y"]  # results before the open filter panel
    check_page(page, axe, "classes-filtered", shot=shot)
    page.goto(e2e_tenant("/classes/"))
    page.get_by_role("link", name="Girls Beam").first.click()
    page.wait_for_load_state("load")
    assert page.locator("#id_student option:disabled").inner_text().startswith("Leo")
    assert text["not_eligible"] in page.inner_text("main")
    check_page(page, axe, "class-detail", shot=shot)
    axe.assert_every_page_checked()


@pytest.fixture
def payments(settings, localstripe):  # noqa: F811 (the fixture imported above)
    """Card payments on: the live server (in this process) talks to localstripe, and the pages
    load its stand-in Stripe.js."""
    settings.STRIPE_SECRET_KEY = KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_kestrel"
    settings.STRIPE_API_BASE = localstripe
    settings.STRIPE_JS_URL = f"{localstripe}/js.stripe.com/v3/"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return localstripe


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", [390, 1280])
def test_every_family_journey(e2e_tenant, axe, request, payments, language, width):
    # One browser context per language x width (conftest's ``phone_page``: 390x844, ``page``:
    # 1280x900), the journeys chained in it.
    page = request.getfixturevalue("phone_page" if width == 390 else "page")
    assert page.viewport_size["width"] == width
    journeys(page, axe, e2e_tenant, language, f"{width}-{language}")
