"""The family web portal's pages: who sees what, branding per business, and the state pages
(sign-in needed, expired session, suspended family, portal off, search rush, CSRF)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import tenant_context

from portal.accounts.models import EmergencyContact, Family
from portal.config.services import portal_settings_update
from tests.factories import AnnouncementFactory, StaffFactory, StudentFactory
from tests.helpers import make_actor, signed_in, web_client
from tests.portal.enrollment_helpers import make_offering
from theming.services import brand_update, theme_publish

pytestmark = pytest.mark.django_db

FAMILY_PAGES = [
    "/family/",
    "/family/edit/",
    "/family/students/add/",
    "/family/guardians/add/",
    "/family/contacts/add/",
    "/cart/",
    "/enrollments/",
    "/schedule/",
]
PUBLIC_PAGES = [
    "/",
    "/classes/",
    "/classes/find/",
    "/login/",
    "/signup/",
    "/account/password-reset/",
]


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_render_for_visitors_with_the_businesss_branding(path, in_tenant_a):
    response = web_client(in_tenant_a).get(path)
    assert response.status_code == 200, html(response)[:2000]
    page = html(response)
    assert 'href="/theme.css?v=1"' in page
    assert "/static/portal_web/portal.css" in page
    assert "Alpha Gymnastics" in page
    assert 'href="#main"' in page and '<main id="main"' in page
    assert 'action="/i18n/setlang/"' in page


@pytest.mark.parametrize("path", FAMILY_PAGES)
def test_family_pages_render_for_the_family(path, family_web):
    response = family_web.web.get(path)
    assert response.status_code == 200, html(response)[:2000]
    assert 'href="/theme.css?v=1"' in html(response)


@pytest.mark.parametrize("path", [*FAMILY_PAGES, "/checkout/"])
def test_family_pages_send_visitors_to_sign_in_and_back(path, in_tenant_a):
    response = web_client(in_tenant_a).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert path.replace("/", "%2F") in response["Location"]


def test_an_expired_session_redirects_to_sign_in_with_a_message(in_tenant_a):
    client = web_client(in_tenant_a)
    client.cookies["sessionid"] = "expired-or-unknown-session-key"
    response = client.get("/cart/", follow=True)
    assert response.redirect_chain[0][0] == "/login/?next=%2Fcart%2F"
    assert "Your session has expired. Please sign in again." in html(response)
    assert 'name="next" value="/cart/"' in html(response)


def test_signing_in_returns_to_the_page_asked_for(family_a):
    client = web_client(family_a.tenant)
    response = client.post(
        "/login/",
        {
            "email": family_a.guardian.email,
            "password": "correct horse battery staple",
            "next": "/cart/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/cart/"
    # An address on another host is never followed.
    client = web_client(family_a.tenant)
    response = client.post(
        "/login/",
        {
            "email": family_a.guardian.email,
            "password": "correct horse battery staple",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/family/"


def test_sign_out(family_web):
    assert family_web.web.get("/logout/").status_code == 200
    response = family_web.web.post("/logout/", follow=True)
    assert "You are signed out." in html(response)
    assert family_web.web.get("/family/").status_code == 302


def test_a_session_from_one_business_means_nothing_on_another(family_web, tenant_b):
    """The browser sends A's session cookie to B's host: B looks it up in its own tables."""
    family_web.web.defaults["HTTP_HOST"] = tenant_b.primary_host
    for path in FAMILY_PAGES:
        response = family_web.web.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/")
    page = html(family_web.web.get("/"))
    assert "Beta Swim School" in page
    assert "Alpha Gymnastics" not in page
    assert family_web.guardian.email not in page
    assert "Sign out" not in page
    # Posting there changes nothing in either business.
    response = family_web.web.post("/family/contacts/add/", {"name": "X", "phone": "555-0199"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    with tenant_context(tenant_b):
        assert not EmergencyContact.objects.exists()
    connection.set_tenant(family_web.tenant)
    assert not EmergencyContact.objects.exists()


def test_no_business_shows_anothers_colours_name_or_data(in_tenant_a, tenant_b):
    brand_update(primary="#7c3aed")
    theme_publish()
    make_offering(name="Alpha Secret Tumbling")
    AnnouncementFactory(title="Alpha open house")
    alpha = web_client(in_tenant_a)
    page = html(alpha.get("/"))
    assert 'href="/theme.css?v=2"' in page and "Alpha open house" in page
    assert "#7c3aed" in html(alpha.get("/theme.css?v=2"))
    assert "Alpha Secret Tumbling" in html(alpha.get("/classes/"))
    connection.set_schema_to_public()
    beta = web_client(tenant_b)
    for path in ["/", "/classes/", "/login/", "/signup/", "/classes/find/?age=7"]:
        page = html(beta.get(path))
        assert "Beta Swim School" in page, path
        assert "Alpha" not in page, path
        assert 'href="/theme.css?v=1"' in page
    assert "#7c3aed" not in html(beta.get("/theme.css?v=1"))


def test_home_shows_announcements_for_the_audience(in_tenant_a):
    AnnouncementFactory(title="Pool closed Monday", body="Maintenance.")
    AnnouncementFactory(title="Members only news", audience="logged_in")
    page = html(web_client(in_tenant_a).get("/"))
    assert "Pool closed Monday" in page and "Maintenance." in page
    assert "Members only news" not in page


def test_class_search_filters_and_shows_availability(in_tenant_a):
    coach = StaffFactory(display_name="Coach Kim")
    make_offering(name="Tumble Tots", min_age=3, max_age=5, instructors=[coach])
    make_offering(name="Teen Flips", min_age=13, max_age=17)
    client = web_client(in_tenant_a)
    page = html(client.get("/classes/"))
    assert "Tumble Tots" in page and "Teen Flips" in page and "Coach Kim" in page
    assert "3 openings" in page
    page = html(client.get("/classes/?age=4"))
    assert "Tumble Tots" in page and "Teen Flips" not in page
    page = html(client.get("/classes/?q=teen&has_openings=true"))
    assert "Teen Flips" in page and "Tumble Tots" not in page
    portal_settings_update(openings_display="full_open")
    page = html(client.get("/classes/"))
    assert "3 openings" not in page and "OPEN" in page


def test_class_search_is_hidden_from_visitors_when_the_business_says_so(in_tenant_a):
    portal_settings_update(list_visible_when_logged_out=False)
    response = web_client(in_tenant_a).get("/classes/?age=5&q=beam")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fclasses%2F%3Fage%3D5%26q%3Dbeam"


def test_find_the_right_class_by_age_birthdate_or_student(family_web):
    make_offering(name="Tumble Tots", min_age=3, max_age=5)
    make_offering(name="Big Kids", min_age=8, max_age=12)
    client = family_web.web
    assert "Tumble Tots" in html(client.get("/classes/find/?age=4"))
    assert "Big Kids" not in html(client.get("/classes/find/?age=4"))
    page = html(client.get("/classes/find/?born=2016-01-01"))
    assert "Big Kids" in page and "Tumble Tots" not in page
    family_web.student.date_of_birth = family_web.student.date_of_birth.replace(year=2022)
    family_web.student.save()
    page = html(client.get(f"/classes/find/?student={family_web.student.pk}"))
    assert "Tumble Tots" in page and "Big Kids" not in page


def test_a_missing_student_is_the_same_failure_on_the_web_and_the_api(family_web):
    """One code per failure: another family's (or no) student is student_not_found, 404, on
    the class finder and on the API's match endpoint alike."""
    with tenant_context(family_web.tenant):
        stranger = StudentFactory()
    for student_id in (stranger.pk, 999999):
        page = family_web.web.get(f"/classes/find/?student={student_id}")
        assert page.status_code == 404
        assert "We could not find that student." in html(page)
        api = family_web.client().get(f"/api/v1/offerings/match?student={student_id}")
        assert api.status_code == 404
        assert api.json()["code"] == "student_not_found"
        assert api.json()["message"] == "We could not find that student."


def test_offering_detail_respects_the_visibility_settings(in_tenant_a):
    coach = StaffFactory(display_name="Coach Kim", bio="Olympic hopeful.")
    offering = make_offering(name="Beam Basics", instructors=[coach], description="Balance!")
    client = web_client(in_tenant_a)
    page = html(client.get(f"/classes/{offering.pk}/"))
    assert "Beam Basics" in page and "Balance!" in page
    assert "Coach Kim" in page and "Olympic hopeful." in page
    assert "Sign in to enroll" in page and "meetings" in page
    portal_settings_update(staff_bios_visible=False)
    page = html(client.get(f"/classes/{offering.pk}/"))
    assert "Coach Kim" in page and "Olympic hopeful." not in page
    portal_settings_update(show_classes=False)
    response = client.get(f"/classes/{offering.pk}/")
    assert response.status_code == 404
    assert "We could not find that class." in html(response)


def test_offering_detail_offers_the_familys_students(family_web):
    offering = make_offering(name="Beam Basics")
    page = html(family_web.web.get(f"/classes/{offering.pk}/"))
    assert f'<option value="{family_web.student.pk}">' in page
    assert 'action="/cart/add/"' in page


def test_a_suspended_family_gets_the_suspended_message(family_web):
    Family.objects.filter(pk=family_web.family.pk).update(status="suspended")
    response = family_web.web.get("/cart/")
    assert response.status_code == 403
    assert "There is an issue with your family account" in html(response)
    assert "owner@alpha.test" in html(response)
    # ...and cannot sign in again.
    client = web_client(family_web.tenant)
    response = client.post(
        "/login/",
        {"email": family_web.guardian.email, "password": "correct horse battery staple"},
    )
    assert response.status_code == 403
    assert "There is an issue with your family account" in html(response)


def test_a_past_due_family_sees_a_notice_and_pays_its_balance_in_one_step(family_web):
    from datetime import timedelta

    from django.utils import timezone

    from portal.billing.models import LedgerEntry
    from portal.enrollment.models import Order

    assert "past-due balance" not in html(family_web.web.get("/family/"))
    entry = LedgerEntry.objects.create(
        family=family_web.family,
        kind="charge",
        description="Open gym",
        amount=5000,
        currency="USD",
        source_key="test:old-charge",
    )
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(days=40))
    page = html(family_web.web.get("/family/"))
    assert "Your account has a past-due balance." in page
    billing = html(family_web.web.get("/billing/"))
    assert "Pay $50.00 now" in billing
    response = family_web.web.post("/billing/pay/")
    order = Order.objects.get(kind="balance")
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert (order.total, order.lines.get().kind) == (5000, "balance")


def test_a_staff_account_is_not_a_family(in_tenant_a):
    make_actor(in_tenant_a, email="coach@alpha.test", staff=True)
    client = signed_in(in_tenant_a, "coach@alpha.test", "correct horse battery")
    response = client.get("/family/")
    assert response.status_code == 403
    assert "This account does not belong to a family." in html(response)


def test_the_unavailable_page_is_branded_and_friendly(in_tenant_a, tenant_b):
    portal_settings_update(portal_enabled=False)
    for path in ["/", "/classes/", "/login/", "/family/"]:
        response = web_client(in_tenant_a).get(path)
        assert response.status_code == 503
        page = html(response)
        assert "Our Customer Portal is currently unavailable" in page
        assert "Alpha Gymnastics" in page and 'href="/theme.css?v=1"' in page
        assert response["Retry-After"] == "300"
    connection.set_schema_to_public()
    assert web_client(tenant_b).get("/").status_code == 200


def test_csrf_failure_is_a_branded_page_with_a_way_back(in_tenant_a):
    client = web_client(in_tenant_a, csrf_checks=True)
    response = client.post(
        "/login/",
        {"email": "x@example.test", "password": "nope"},
        HTTP_REFERER=f"http://{in_tenant_a.primary_host}/login/",
    )
    assert response.status_code == 403
    page = html(response)
    assert "This form has expired" in page and "Nothing was saved." in page
    assert f'href="http://{in_tenant_a.primary_host}/login/"' in page
    assert "Alpha Gymnastics" in page


def test_password_reset_request_emails_a_link_and_says_the_same_for_strangers(
    family_a, django_capture_on_commit_callbacks
):
    client = web_client(family_a.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/password-reset/", {"email": family_a.guardian.email})
    assert response.status_code == 200
    assert "If an account uses this address" in html(response)
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/account/reset/" in line)
    path = link.split(family_a.tenant.primary_host, 1)[1]
    page = web_client(family_a.tenant).get(path, follow=True)
    assert "Choose your password" in html(page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/password-reset/", {"email": "nobody@example.test"})
    assert "If an account uses this address" in html(response)
    assert len(mail.outbox) == 1


def test_set_password_page_uses_the_portal_layout(in_tenant_a):
    with tenant_context(in_tenant_a):
        page = html(web_client(in_tenant_a).get("/account/reset/xx/yy/", follow=True))
    assert "This link has expired" in page and "Alpha Gymnastics" in page


def test_an_unknown_page_is_a_branded_404(in_tenant_a, tenant_b):
    response = web_client(in_tenant_a).get("/no-such-page/")
    assert response.status_code == 404
    page = html(response)
    assert "Page not found" in page and "Alpha Gymnastics" in page
    assert 'href="/theme.css?v=1"' in page
    assert web_client(in_tenant_a).get("/api/v1/no-such").json()["code"] == "not_found"


def test_a_form_posted_after_the_session_ended_returns_to_its_page(in_tenant_a):
    client = web_client(in_tenant_a)
    client.cookies["sessionid"] = "gone"
    host = in_tenant_a.primary_host
    response = client.post(
        "/cart/add/", {"offering": 1, "student": 1}, HTTP_REFERER=f"http://{host}/classes/7/"
    )
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fclasses%2F7%2F"
    response = client.post(
        "/cart/add/", {"offering": 1, "student": 1}, HTTP_REFERER="https://evil.example/x"
    )
    assert response["Location"] == "/login/?next=%2F"
