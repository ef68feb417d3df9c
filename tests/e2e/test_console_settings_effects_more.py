"""The settings test_console_settings_effects.py only saw saved, shown working in Chromium at
1280 px: the owner edits them on the console's settings pages, then families on the portal (and,
for the autopay retry schedule, the staff console) meet their effect, in the English messages
the services give. None of them is in /api/v1/portal (the family app does not need them: it
shows the services' refusals as they come).

- Enrolling: ``enrollment_cutoff_minutes_after_start``, ``priority_keywords``,
  ``past_due_policy``, ``past_due_after_days``, ``pending_requests_count_against_openings``,
  ``inactive_families_may_enroll``.
- Autopay: ``autopay_retry_days``, on the console's autopay page (no family page shows it).
- Requests: ``absences_auto_approve``, ``absence_issues_makeup_token``,
  ``makeup_seats_per_class``, ``one_transfer_per_enrollment``.

Days come from the business's zone (``business_today``); times are relative to now with margins
of a day or more."""

from __future__ import annotations

import zoneinfo
from datetime import time, timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone, translation
from django.utils.formats import date_format
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.errors import ApplicationError
from tests.e2e.console_settings import PASSWORD, field, save, settings_data
from tests.e2e.data import business_today

pytestmark = [pytest.mark.e2e]


def _family(tenant, *, name: str, email: str, kid: str, status: str = "active"):
    """Another family with one student and its policies accepted."""
    from portal.accounts.models import Family
    from tests.factories import GuardianFactory, StudentFactory
    from tests.portal.enrollment_helpers import accept_policies

    with tenant_context(tenant):
        family = Family.objects.create(name=f"The {name} family", status=status)
        GuardianFactory(family=family, email=email, first_name="Pat", last_name=name)
        StudentFactory(family=family, first_name=kid, last_name=name)
        accept_policies(family)
    connection.set_schema_to_public()
    return family


def _check_once(page, axe, context: str) -> None:
    """axe on a page the test sees again unchanged (a sign-in form, the home page after
    signing out): checked the first time only."""
    page.wait_for_load_state("load")
    parts = urlsplit(page.url)
    if parts.path + (f"?{parts.query}" if parts.query else "") not in axe.checked:
        axe.check(page, context=context)


def _console_sign_in(page, e2e_tenant, axe) -> None:
    page.goto(e2e_tenant("/console/login/"))
    _check_once(page, axe, "(console sign-in)")
    page.get_by_label("Email").fill(e2e_tenant.tenant.owner_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(e2e_tenant("/console/"))
    _check_once(page, axe, "(console home)")


def _console_sign_out(page, e2e_tenant) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(e2e_tenant("/console/login/"))


def _family_sign_in(page, e2e_tenant, axe, email: str) -> None:
    from tests.factories import PASSWORD as FAMILY_PASSWORD

    page.goto(e2e_tenant("/login/"))
    _check_once(page, axe, "(family sign-in)")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(FAMILY_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    axe.check(page, context=f"(signed in as {email})")


def _family_sign_out(page, e2e_tenant, axe) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(e2e_tenant("/"))
    _check_once(page, axe, "(signed out)")


def _alert(page) -> str:
    return page.get_by_role("alert").first.inner_text().strip()


def _add_to_cart(page, e2e_tenant, axe, offering_id: int, keyword: str | None) -> None:
    """The class page, the priority keyword typed (when given), Add to cart."""
    page.goto(e2e_tenant(f"/classes/{offering_id}/"))
    axe.check(page, context=f"(class {offering_id})")
    if keyword is not None:
        page.get_by_label("Priority keyword (if you have one)").fill(keyword)
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_load_state("load")
    axe.check(page, context=f"(after adding class {offering_id})")


def _local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_enrollment_rules_edited_in_the_console_refuse_or_hold_what_they_should(
    e2e_tenant, page, axe
):
    """Cutoff after the start, a priority window for keyword holders, past-due families sent
    to request (past due after 3 days), pending requests holding seats, inactive families
    refused."""
    from portal.billing.models import LedgerEntry
    from portal.catalog.models import Offering, Program

    tenant = e2e_tenant.tenant
    zone = zoneinfo.ZoneInfo(tenant.timezone)
    offerings = settings_data(tenant)
    free, swim = offerings["free"], offerings["swim"]
    today = business_today(tenant)
    now = timezone.now()
    with tenant_context(tenant):
        # A class whose first meeting was a week ago (still running for two months).
        started = today - timedelta(days=7)
        late = Offering.objects.create(
            name="Late Starters", program=Program.objects.get(name="Gymnastics"), capacity=10,
            start_date=started, end_date=today + timedelta(weeks=8), weekdays=[started.weekday()],
            start_time=time(10), end_time=time(11), tuition=0, registration_fee=0,
        )  # fmt: skip
    connection.set_schema_to_public()
    okafor = _family(tenant, name="Okafor", email="okafor@kestrel.test", kid="Zoe")
    _family(tenant, name="Nguyen", email="nguyen@kestrel.test", kid="Sam", status="inactive")
    with tenant_context(tenant):
        # Okafor owe $40.00 charged 5 days ago and $25.00 charged yesterday.
        for key, days, amount in (("old", 5, 4000), ("new", 1, 2500)):
            LedgerEntry.objects.create(
                family=okafor, kind="charge", description=f"Tuition ({key})", amount=amount,
                currency=tenant.currency, source_key=f"e2e:{key}",
                created_at=now - timedelta(days=days),
            )  # fmt: skip
    connection.set_schema_to_public()

    # The owner edits the registration rules: the priority window runs from yesterday to the
    # day after tomorrow, typed in the business's zone.
    _console_sign_in(page, e2e_tenant, axe)
    local_now = timezone.localtime(now, zone)

    def registration(p):
        field(p, "Enrollment cutoff minutes after start").fill("30")
        field(p, "Past due policy").select_option(label="Turn enrollment into a request")
        field(p, "Past due after days").fill("3")
        field(p, "Priority registration mode").select_option(label="Families with a keyword")
        field(p, "Priority keywords").fill("EARLYBIRD")
        field(p, "Priority registration starts at").fill(_local(local_now - timedelta(days=1)))
        field(p, "Priority registration ends at").fill(_local(local_now + timedelta(days=2)))
        field(p, "Inactive families may enroll").uncheck()
        field(p, "Pending requests count against openings").check()

    save(page, e2e_tenant, "/console/settings/registration/", axe, registration)
    _console_sign_out(page, e2e_tenant)

    # Dana (a returning family).
    _family_sign_in(page, e2e_tenant, axe, "family@kestrel.test")
    # enrollment_cutoff_minutes_after_start: a class that started a week ago is closed online
    # (without a cutoff families may join it from the next meeting).
    _add_to_cart(page, e2e_tenant, axe, late.pk, keyword="EARLYBIRD")
    assert _alert(page) == "Late Starters has started; online registration is closed."
    # priority_keywords: inside the window, no keyword is refused; the keyword (any case) holds
    # the seat.
    _add_to_cart(page, e2e_tenant, axe, swim.pk, keyword=None)
    assert "Until " in _alert(page)
    assert _alert(page).endswith(", registration needs a priority keyword.")
    _add_to_cart(page, e2e_tenant, axe, swim.pk, keyword="earlybird")
    expect(page.get_by_text("Added to your cart.")).to_be_visible()
    expect(page.locator("main").get_by_text("Guppies").first).to_be_visible()
    _family_sign_out(page, e2e_tenant, axe)

    # The Okafor family: $40.00 is past due (the charge of 5 days ago; yesterday's is not yet).
    _family_sign_in(page, e2e_tenant, axe, "okafor@kestrel.test")
    page.goto(e2e_tenant("/billing/"))
    axe.check(page, context="(billing, past due)")
    balance = page.locator("main dl.details").first
    expect(balance.locator("dt", has_text="Balance owed")).to_be_visible()
    assert "$65.00" in balance.inner_text()
    past_due = balance.locator("dt:has-text('Past due') + dd")
    assert past_due.inner_text() == "$40.00"  # past_due_after_days 3 (7 by default: none)
    # past_due_policy "request": the enrollment becomes a request for staff...
    _add_to_cart(page, e2e_tenant, axe, free.pk, keyword="EARLYBIRD")
    expect(page.get_by_text("Added to your cart.")).to_be_visible()
    page.get_by_role("link", name="Check out").click()
    page.wait_for_url(e2e_tenant("/checkout/"))
    axe.check(page, context="(checkout)")
    page.get_by_role("button", name="Confirm enrollment").click()
    page.wait_for_load_state("load")
    axe.check(page, context="(order)")
    page.goto(e2e_tenant("/enrollments/"))
    axe.check(page, context="(enrollments, pending)")
    card = page.locator("main li.card", has_text="Tumble Tots Trial")
    assert card.locator(".badge").inner_text() == "Pending approval"
    # ... and pending_requests_count_against_openings: the request holds its seat, so 8 seats
    # less Dana's and this one leave 6 (7 when pending requests do not count).
    page.goto(e2e_tenant(f"/classes/{free.pk}/"))
    axe.check(page, context="(class, openings)")
    assert page.locator("main p.badge").inner_text() == "6 openings"
    _family_sign_out(page, e2e_tenant, axe)

    # The Nguyen family, marked inactive: refused (keyword or not).
    _family_sign_in(page, e2e_tenant, axe, "nguyen@kestrel.test")
    _add_to_cart(page, e2e_tenant, axe, free.pk, keyword="EARLYBIRD")
    assert _alert(page) == "Your account is inactive. Please contact us to enroll again."
    _family_sign_out(page, e2e_tenant, axe)
    axe.assert_every_page_checked()


def test_autopay_retry_days_edited_in_the_console_set_the_next_try_staff_see(e2e_tenant, page, axe):
    """autopay_retry_days acts only when a card is declined: staff see the next try on the
    console's autopay page (the family learns it from the autopay-failed email; no portal page
    shows it). Staff charge the card again, the bank declines, and the next try is the
    schedule's second entry, 5 days on (3 by default)."""
    from portal.accounts.models import Family
    from portal.billing.models import AutopayCharge, SavedPaymentMethod, StripeCustomer
    from portal.enrollment.models import Order

    tenant = e2e_tenant.tenant
    zone = zoneinfo.ZoneInfo(tenant.timezone)
    settings_data(tenant)
    with tenant_context(tenant):
        # This month's autopay of the Rivera family, declined once.
        rivera = Family.objects.get(guardians__email="family@kestrel.test")
        StripeCustomer.objects.create(family=rivera, customer_id="cus_e2e")
        SavedPaymentMethod.objects.create(
            family=rivera, stripe_payment_method_id="pm_e2e", is_default=True, last4="4242"
        )
        order = Order.objects.create(
            family=rivera, currency=tenant.currency, subtotal=9500, total=9500,
            idempotency_key="autopay:e2e", status="awaiting_payment", kind="tuition",
        )  # fmt: skip
        AutopayCharge.objects.create(
            family=rivera, period=business_today(tenant).replace(day=1), amount=9500,
            currency=tenant.currency, order=order, status="failed", attempts=1,
            last_error="Your card was declined.",
            next_attempt_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip
    connection.set_schema_to_public()

    _console_sign_in(page, e2e_tenant, axe)
    save(
        page, e2e_tenant, "/console/settings/payments-store/", axe,
        lambda p: field(p, "Autopay retry days").fill("2,5"),
    )  # fmt: skip
    page.goto(e2e_tenant("/console/autopay/"))
    axe.check(page, context="(autopay, before the retry)")
    # Stripe declines the card (the gateway's refusal, without the network).
    declined = ApplicationError("card_declined", "The card was declined.", status=402)
    with mock.patch("portal.orders.payments.card_attempt", side_effect=declined):
        before = timezone.now()
        page.get_by_role("button", name="Charge the card now").click()
        page.wait_for_url(e2e_tenant("/console/autopay/"))
        after = timezone.now()
    axe.check(page, context="(autopay, retried)")
    expect(page.get_by_text("The card was not charged: The card was declined.")).to_be_visible()
    shown = {
        f"next {date_format(timezone.localtime(t + timedelta(days=5), zone), 'j M')}"
        for t in (before, after)
    }
    assert any(page.get_by_text(text).count() for text in shown), shown
    with tenant_context(tenant):
        charge = AutopayCharge.objects.get()
        assert charge.attempts == 2
        assert before + timedelta(days=5) <= charge.next_attempt_at <= after + timedelta(days=5)
    connection.set_schema_to_public()
    _console_sign_out(page, e2e_tenant)
    axe.assert_every_page_checked()


def test_request_rules_edited_in_the_console_show_in_the_familys_requests(e2e_tenant, page, axe):
    """Absences approved at once without a makeup token, then left for staff to review; one
    makeup seat per class and meeting; one transfer per enrollment, then any number."""
    from portal.accounts.models import Family
    from portal.catalog.models import Program
    from portal.enrollment.models import Enrollment
    from portal.requests.models import MakeupToken, Request

    tenant = e2e_tenant.tenant
    offerings = settings_data(tenant)
    free, ninja, swim = offerings["free"], offerings["paid"], offerings["swim"]
    today = business_today(tenant)
    other = _family(tenant, name="Okafor", email="okafor@kestrel.test", kid="Zoe")
    with tenant_context(tenant):
        gym = Program.objects.get(name="Gymnastics")
        rivera = Family.objects.get(guardians__email="family@kestrel.test")
        # Mia's enrollment in Tumble Tots came from a transfer (out of Guppies).
        enrollment = Enrollment.objects.get(family=rivera, offering=free)
        before = Enrollment.objects.create(
            family=rivera, student=enrollment.student, offering=swim, status="transferred",
            start_date=swim.start_date,
        )  # fmt: skip
        enrollment.transferred_from = before
        enrollment.save(update_fields=["transferred_from"])
        # Zoe already has a makeup in Ninja Skills' first meeting.
        first, second = ninja.meetings(limit=2)
        zoe = other.students.get()
        used = MakeupToken.objects.create(
            family=other, student=zoe, program=gym, kind="class", status="redeemed",
            expires_on=today + timedelta(days=60),
        )  # fmt: skip
        Request.objects.create(
            type="makeup", family=other, student=zoe, makeup_token=used, target_offering=ninja,
            meeting_date=first, status="approved", decided_at=timezone.now(),
        )  # fmt: skip
    connection.set_schema_to_public()

    def requests_page(auto_approve: bool, one_transfer: bool):
        def fill(p):
            field(p, "Absences auto approve").set_checked(auto_approve)
            field(p, "Absence issues makeup token").uncheck()
            field(p, "Makeup seats per class").fill("1")
            field(p, "One transfer per enrollment").set_checked(one_transfer)

        _console_sign_in(page, e2e_tenant, axe)
        save(page, e2e_tenant, "/console/settings/requests/", axe, fill)
        _console_sign_out(page, e2e_tenant)

    def report_absence(option: int) -> str:
        page.goto(e2e_tenant("/requests/"))
        axe.check(page, context="(requests)")
        page.get_by_role("link", name="Report an absence").first.click()
        page.wait_for_url(e2e_tenant(f"/requests/absence/{enrollment.pk}/"))
        axe.check(page, context="(report an absence)")
        day = page.locator("#id_meeting_date option").nth(option).get_attribute("value")
        page.get_by_label("Which class will be missed?").select_option(day)
        page.get_by_role("button", name="Report the absence").click()
        page.wait_for_url(e2e_tenant("/requests/"))
        axe.check(page, context="(requests, absence reported)")
        return day

    def transfer_to_ninja() -> None:
        page.goto(e2e_tenant(f"/requests/transfer/{enrollment.pk}/"))
        axe.check(page, context="(transfer)")
        page.get_by_label("Move to").select_option(str(ninja.pk))
        page.get_by_role("button", name="See the price difference").click()
        page.wait_for_load_state("load")
        axe.check(page, context="(transfer preview)")

    # Absences approved at once, no makeup token; one makeup seat; one transfer.
    requests_page(auto_approve=True, one_transfer=True)
    _family_sign_in(page, e2e_tenant, axe, "family@kestrel.test")
    day = report_absence(0)
    main = page.locator("main")
    # absences_auto_approve on: approved at once; absence_issues_makeup_token off: no token.
    expect(main.get_by_text(f"Absence reported for {day}.", exact=True)).to_be_visible()
    assert main.get_by_text("A makeup token was added").count() == 0
    row = main.locator("tbody tr", has_text="Absence")
    assert row.locator(".badge").inner_text() == "Approved"
    expect(main.get_by_text("No makeup tokens right now.")).to_be_visible()
    assert main.get_by_role("link", name="Book a makeup").count() == 0

    # makeup_seats_per_class 1: Zoe's makeup fills Ninja Skills' first meeting; the next is
    # free. (A token staff gave Mia.)
    with tenant_context(tenant):
        token = MakeupToken.objects.create(
            family=rivera, student=enrollment.student, program=gym, kind="class",
            expires_on=today + timedelta(days=60),
        )  # fmt: skip
    connection.set_schema_to_public()
    page.goto(e2e_tenant("/requests/"))
    axe.check(page, context="(requests, a token)")
    page.get_by_role("link", name="Book a makeup").click()
    page.wait_for_url(e2e_tenant(f"/requests/makeup/{token.pk}/"))
    axe.check(page, context="(makeup picker)")
    page.locator("#id_offering").select_option(str(ninja.pk))
    page.get_by_role("button", name="See the dates").click()
    page.wait_for_load_state("load")
    axe.check(page, context="(makeup dates)")
    page.locator("#id_meeting_date").select_option(first.isoformat())
    page.get_by_role("button", name="Book the makeup").click()
    page.wait_for_load_state("load")
    axe.check(page, context="(makeup refused)")
    with translation.override("en"):
        full = f"Ninja Skills has no makeup seats left on {date_format(first, 'MONTH_DAY_FORMAT')}."
    expect(page.get_by_text(full).first).to_be_visible()
    page.locator("#id_meeting_date").select_option(second.isoformat())
    page.get_by_role("button", name="Book the makeup").click()
    page.wait_for_url(e2e_tenant("/requests/"))
    axe.check(page, context="(makeup booked)")
    expect(
        page.get_by_text(f"Makeup booked: Ninja Skills on {second.isoformat()}.")
    ).to_be_visible()

    # one_transfer_per_enrollment on: an enrollment that came from a transfer stays put.
    transfer_to_ninja()
    assert "This enrollment has already been transferred once." in _alert(page)
    assert page.get_by_role("heading", name="Price preview").count() == 0
    _family_sign_out(page, e2e_tenant, axe)

    # Absences left for staff to review; transfers no longer limited to one.
    requests_page(auto_approve=False, one_transfer=False)
    _family_sign_in(page, e2e_tenant, axe, "family@kestrel.test")
    day = report_absence(1)
    main = page.locator("main")
    expect(
        main.get_by_text(f"Absence reported for {day}; the business will review it.", exact=True)
    ).to_be_visible()
    rows = main.locator("tbody tr", has_text="Absence")
    assert sorted(rows.locator(".badge").all_inner_texts()) == ["Approved", "Pending"]
    transfer_to_ninja()
    expect(page.get_by_role("heading", name="Price preview")).to_be_visible()
    page.get_by_role("button", name="Ask for this transfer").click()
    page.wait_for_url(e2e_tenant("/requests/"))
    axe.check(page, context="(requests, transfer asked)")
    expect(page.get_by_text("Your transfer request was sent to the business.")).to_be_visible()
    _family_sign_out(page, e2e_tenant, axe)
    axe.assert_every_page_checked()
