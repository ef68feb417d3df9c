"""The seed's settings shown working, in one Chromium session at 1280 px: the owner edits
settings on each console settings page (registration rules, requests, what visitors see of the
staff, the portal and class list, payments and store, optional features), then the family
portal shows each effect to a visitor and to a signed-in family, and /api/v1/portal carries
every public one. test_console_settings.py covers the welcome heading, the class-search
filters, the hold timer, the mobile-app switch and signup questions; test_console_content.py
announcements, staff bios and the website widget; test_console_branding.py the brand."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from portal.config.models import PortalSettings
from tests.e2e.console_settings import PASSWORD
from tests.e2e.console_settings import field as _field
from tests.e2e.console_settings import save as _save
from tests.e2e.console_settings import settings_data as _data
from tests.e2e.data import next_monday

pytestmark = [pytest.mark.e2e]


def test_each_setting_edited_in_the_console_shows_on_the_portal_and_in_the_api(
    e2e_tenant, browser, axe, request
):
    tenant = e2e_tenant.tenant
    offerings = _data(tenant)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        page.goto(e2e_tenant("/console/"))
        page.get_by_label("Email").fill(tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/"))

        def registration(p):
            _field(p, "Registration mode").select_option(label="Staff approve each request first")
            _field(p, "Waitlist offer hours").fill("48")
            _field(p, "Priority registration mode").select_option(label="Families with a keyword")
            _field(p, "Families may set levels").check()
            _field(p, "Referral source required").check()
            _field(p, "Referral sources").fill("Friend\nGoogle")

        def requests(p):
            _field(p, "Absences enabled").uncheck()
            _field(p, "Transfers enabled").uncheck()
            _field(p, "Drop notice days").fill("14")
            _field(p, "Makeup token expiry days").fill("30")

        def staff_pages(p):
            _field(p, "Staff bios visible").uncheck()
            _field(p, "Staff availability visible").check()

        def display(p):
            _field(p, "Welcome message").fill("Summer signups are open.")
            _field(p, "Openings display").select_option(label="FULL / OPEN")
            _field(p, "Show camps").uncheck()
            _field(p, "Show levels").uncheck()

        def payments_store(p):
            _field(p, "Gift certificates enabled").check()
            _field(p, "Gift certificates visitors may buy").check()
            _field(p, "Gift certificate amounts").fill("30.00, 60.00")
            _field(p, "Billing day").fill("15")
            _field(p, "Sibling discount percents").fill("0,10")
            _field(p, "Registration fee scope").select_option(label="Once per student")

        def features(p):
            _field(p, "Punch passes enabled").check()

        for path, fill in (
            ("/console/settings/registration/", registration),
            ("/console/settings/requests/", requests),
            ("/console/settings/staff-pages/", staff_pages),
            ("/console/settings/display/", display),
            ("/console/settings/payments-store/", payments_store),
            ("/console/settings/features/", features),
        ):
            _save(page, e2e_tenant, path, axe, fill)

        with tenant_context(tenant):
            row = PortalSettings.objects.get()
            assert row.gift_certificate_amounts == "3000,6000"
            assert row.referral_sources.split() == ["Friend", "Google"]
        connection.set_schema_to_public()

        # A visitor on the family portal.
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))
        page.goto(e2e_tenant("/"))
        expect(page.get_by_text("Summer signups are open.")).to_be_visible()  # welcome_message
        page.goto(e2e_tenant("/classes/"))
        listed = page.get_by_role("heading", level=3).all_inner_texts()
        assert "Tumble Tots Trial" in listed and "Splash Summer Camp" not in listed  # show_camps
        badges = page.locator("main .badge").all_inner_texts()
        # openings_display FULL / OPEN: no numbers of openings on the cards.
        assert badges.count("OPEN") == 3 and not [b for b in badges if "opening" in b]
        axe.check(page, context="(classes)")
        page.goto(e2e_tenant(f"/classes/{offerings['free'].pk}/"))
        expect(page.get_by_text("Staff approve each request.")).to_be_visible()  # registration_mode
        page.goto(e2e_tenant("/signup/"))
        referral = page.get_by_label("How did you hear about us?")  # referral_source_*
        assert referral.locator("option").all_text_contents()[-2:] == ["Friend", "Google"]
        page.goto(e2e_tenant("/staff/"))
        expect(page.get_by_text("Coach Rivera").first).to_be_visible()
        assert page.get_by_text("Head coach.").count() == 0  # staff_bios_visible off
        page.goto(e2e_tenant("/store/"))
        expect(page.get_by_role("heading", name="Gift certificates")).to_be_visible()
        amounts = page.locator("#id_amount option").all_text_contents()
        assert amounts[:2] == ["$30.00", "$60.00"]  # visitors may buy, at the set amounts
        expect(page.get_by_role("heading", name="Punch passes")).to_be_visible()
        axe.check(page, context="(store)")

        # ... and the apps' config carries every public one.
        config = page.evaluate("fetch('/api/v1/portal').then(r => r.json())")["settings"]
        assert {
            name: config[name]
            for name in (
                "registration_mode", "waitlist_offer_hours", "priority_registration_mode",
                "families_may_set_levels", "referral_source_required", "absences_enabled",
                "transfers_enabled", "drop_notice_days", "makeup_token_expiry_days",
                "staff_bios_visible", "staff_availability_visible", "welcome_message",
                "openings_display", "show_camps", "show_levels", "gift_certificates_enabled",
                "billing_day", "sibling_discount_percents", "registration_fee_scope",
                "punch_passes_enabled",
            )
        } == {
            "registration_mode": "request", "waitlist_offer_hours": 48,
            "priority_registration_mode": "keyword", "families_may_set_levels": True,
            "referral_source_required": True, "absences_enabled": False,
            "transfers_enabled": False, "drop_notice_days": 14, "makeup_token_expiry_days": 30,
            "staff_bios_visible": False, "staff_availability_visible": True,
            "welcome_message": "Summer signups are open.", "openings_display": "full_open",
            "show_camps": False, "show_levels": False, "gift_certificates_enabled": True,
            "billing_day": 15, "sibling_discount_percents": "0,10",
            "registration_fee_scope": "student", "punch_passes_enabled": True,
        }  # fmt: skip
        listed = page.evaluate("fetch('/api/v1/offerings').then(r => r.json())")["results"]
        assert listed and "camp" not in {o["kind"] for o in listed}  # show_camps
        assert {o["availability"]["openings"] for o in listed} == {None}  # openings_display
        assert {len(o["levels"]) for o in listed} == {0}  # show_levels

        # A signed-in family: no absence or transfer buttons, drops still offered.
        from tests.factories import PASSWORD as FAMILY_PASSWORD

        page.goto(e2e_tenant("/login/"))
        page.locator("input[name=email]").fill("family@kestrel.test")
        page.locator("input[name=password]").fill(FAMILY_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("load")
        page.goto(e2e_tenant("/requests/"))
        main = page.locator("main")
        assert main.get_by_role("link", name="Drop", exact=False).count() >= 1
        assert main.get_by_role("link", name="Report an absence", exact=False).count() == 0
        assert main.get_by_role("link", name="Transfer", exact=False).count() == 0
        axe.check(page, context="(requests, absences and transfers off)")
    finally:
        context.close()


def test_the_other_settings_edited_in_the_console_close_what_they_close(
    e2e_tenant, browser, axe, request
):
    """The second group: who may sign up and browse, which requests and kinds are offered,
    the discounts and fees, the gift certificate bounds, and the portal switch itself."""
    from portal.catalog.models import Offering, Program

    tenant = e2e_tenant.tenant
    _data(tenant)
    with tenant_context(tenant):
        start = next_monday()
        Offering.objects.create(
            name="Parents' Night Out", kind="event", program=Program.objects.get(name="Gymnastics"),
            capacity=20, start_date=start + timedelta(days=4), end_date=start + timedelta(days=4),
            start_time=time(18), end_time=time(21), tuition=2500,
        )  # fmt: skip
    connection.set_schema_to_public()
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    request.node._e2e_pages = [page]
    try:
        page.goto(e2e_tenant("/console/"))
        page.get_by_label("Email").fill(tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/"))

        def registration(p):
            _field(p, "Visitors may create accounts").uncheck()
            _field(p, "New families may enroll").uncheck()
            _field(p, "Force start on meeting date").uncheck()
            _field(p, "Enrollment cutoff minutes after start").fill("30")
            _field(p, "Past due policy").select_option(label="Turn enrollment into a request")
            _field(p, "Past due after days").fill("3")
            _field(p, "Priority keywords").fill("EARLYBIRD")
            _field(p, "Priority registration starts at").fill("2027-01-10T09:00")
            _field(p, "Priority registration ends at").fill("2027-01-17T09:00")
            _field(p, "New family enrollment opens at").fill("2027-01-18T09:00")
            _field(p, "Inactive families may enroll").uncheck()
            _field(p, "Pending requests count against openings").check()

        def requests(p):
            _field(p, "Drops enabled").uncheck()
            _field(p, "Drop reason required").uncheck()
            _field(p, "Makeups enabled").uncheck()
            _field(p, "Absence notice hours").fill("6")
            _field(p, "Transfers next level only").check()
            _field(p, "Absences auto approve").uncheck()
            _field(p, "Absence issues makeup token").uncheck()
            _field(p, "Makeup seats per class").fill("1")
            _field(p, "One transfer per enrollment").uncheck()

        def display(p):
            _field(p, "List visible when logged out").uncheck()
            _field(p, "Show events").uncheck()
            _field(p, "Show classes").uncheck()

        def payments_store(p):
            _field(p, "Gift certificates enabled").check()
            _field(p, "Gift certificate min").fill("15.00")
            _field(p, "Gift certificate max").fill("400.00")
            _field(p, "Autopay retry days").fill("2,5")
            _field(p, "Multi class discount percents").fill("0,20")
            _field(p, "Registration year start month").fill("9")
            _field(p, "Stored payment method policy").select_option(
                label="A saved method for autopay is required"
            )

        def features(p):
            _field(p, "Punch passes enabled").check()
            _field(p, "Show punch passes").uncheck()

        for path, fill in (
            ("/console/settings/registration/", registration),
            ("/console/settings/requests/", requests),
            ("/console/settings/display/", display),
            ("/console/settings/payments-store/", payments_store),
            ("/console/settings/features/", features),
        ):
            _save(page, e2e_tenant, path, axe, fill)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(e2e_tenant("/console/login/"))

        # A visitor may neither browse nor sign up.
        page.goto(e2e_tenant("/classes/"))
        page.wait_for_load_state("load")
        assert "/login/" in page.url  # list_visible_when_logged_out off
        expect(page.get_by_text("Sign in to see the classes this business offers.")).to_be_visible()
        page.goto(e2e_tenant("/signup/"))
        expect(page.get_by_text("This business does not take new accounts online.")).to_be_visible()
        axe.check(page, context="(signup closed)")
        config = page.evaluate("fetch('/api/v1/portal').then(r => r.json())")["settings"]
        assert {
            name: config[name]
            for name in (
                "visitors_may_create_accounts", "new_families_may_enroll",
                "force_start_on_meeting_date", "drops_enabled", "drop_reason_required",
                "makeups_enabled", "absence_notice_hours", "transfers_next_level_only",
                "list_visible_when_logged_out", "show_events", "multi_class_discount_percents",
                "registration_year_start_month", "stored_payment_method_policy",
                "show_punch_passes", "show_classes",
            )
        } == {
            "visitors_may_create_accounts": False, "new_families_may_enroll": False,
            "force_start_on_meeting_date": False, "drops_enabled": False,
            "drop_reason_required": False, "makeups_enabled": False, "absence_notice_hours": 6,
            "transfers_next_level_only": True, "list_visible_when_logged_out": False,
            "show_events": False, "multi_class_discount_percents": "0,20",
            "registration_year_start_month": 9, "stored_payment_method_policy": "required",
            "show_punch_passes": False, "show_classes": False,
        }  # fmt: skip
        # Times typed in the business's zone come back in it, with its offset.
        assert config["priority_registration_starts_at"].startswith("2027-01-10T09:00:00")
        assert config["priority_registration_ends_at"].startswith("2027-01-17T09:00:00")
        assert config["new_family_enrollment_opens_at"].startswith("2027-01-18T09:00:00")
        with tenant_context(tenant):
            row = PortalSettings.objects.get()
            assert (row.enrollment_cutoff_minutes_after_start, row.past_due_after_days) == (30, 3)
            assert (row.past_due_policy, row.priority_keywords) == ("request", "EARLYBIRD")
            assert (row.gift_certificate_min, row.gift_certificate_max) == (1500, 40000)
            assert row.autopay_retry_days == "2,5" and row.makeup_seats_per_class == 1
            assert not (row.inactive_families_may_enroll or row.absences_auto_approve)
            assert not (row.absence_issues_makeup_token or row.one_transfer_per_enrollment)
            assert row.pending_requests_count_against_openings
        connection.set_schema_to_public()

        # The signed-in family: no events listed, no drop button, the gift bounds.
        from tests.factories import PASSWORD as FAMILY_PASSWORD

        page.goto(e2e_tenant("/login/"))
        page.locator("input[name=email]").fill("family@kestrel.test")
        page.locator("input[name=password]").fill(FAMILY_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("load")
        page.goto(e2e_tenant("/classes/"))
        listed = page.get_by_role("heading", level=3).all_inner_texts()
        # show_classes and show_events off: only the camp is listed.
        assert listed == ["Splash Summer Camp"]
        page.goto(e2e_tenant("/requests/"))
        main = page.locator("main")
        assert main.get_by_role("link", name="Report an absence", exact=False).count() >= 1
        assert main.get_by_role("link", name="Drop", exact=False).count() == 0  # drops off
        page.goto(e2e_tenant("/store/"))
        expect(page.get_by_text("Between $15.00 and $400.00.")).to_be_visible()  # gift bounds
        axe.check(page, context="(store, gift bounds)")
        page.get_by_role("button", name="Sign out").first.click()
        page.wait_for_load_state("load")

        # Last, the portal itself switched off: the family portal and its API close.
        page.goto(e2e_tenant("/console/login/"))
        page.get_by_label("Email").fill(tenant.owner_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(e2e_tenant("/console/"))
        _save(
            page, e2e_tenant, "/console/settings/display/", axe,
            lambda p: _field(p, "Portal enabled").uncheck(),
        )  # fmt: skip
        page.goto(e2e_tenant("/"))
        unavailable = "Our Customer Portal is currently unavailable"
        expect(page.get_by_role("heading", level=1, name=unavailable)).to_be_visible()
        answer = page.evaluate(
            "fetch('/api/v1/portal').then(async r => [r.status, (await r.json()).code])"
        )
        assert answer == [503, "portal_disabled"]
    finally:
        context.close()
