"""The /waitlist/ page: place in line, an offer with its deadline and Accept / Decline, leaving
the list; the offer email links to it. Permission, cross-tenant and bad-input checks."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from portal.enrollment import services
from portal.enrollment.models import Hold, WaitlistEntry
from tests.helpers import signed_in
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def full_class(family_web):
    """A one-seat class held by another family, family_web second in line."""
    offering = make_offering(name="Rec Gym", capacity=1)
    holder, kid = make_family("first@alpha.test")
    hold = services.cart_add(family=holder, student_id=kid.pk, offering_id=offering.pk)
    ahead, ahead_kid = make_family("ahead@alpha.test")
    services.waitlist_join(family=ahead, student_id=ahead_kid.pk, offering_id=offering.pk)
    response = family_web.web.post(
        "/waitlist/join/", {"offering": offering.pk, "student": family_web.student.pk}
    )
    assert response.status_code == 302 and response["Location"] == "/waitlist/"
    return offering, holder, hold, ahead


def test_the_waitlist_page_shows_the_place_in_line_and_leaving_works(family_web, full_class):
    _offering, *_ = full_class
    page = html(family_web.web.get("/waitlist/"))
    assert "Rec Gym" in page and "Place in line: 2" in page
    entry = WaitlistEntry.objects.get(family=family_web.family)
    assert f'action="/waitlist/{entry.pk}/decline/"' in page and "Leave the waitlist" in page
    assert "/accept/" not in page  # no offer yet
    response = family_web.web.post(f"/waitlist/{entry.pk}/decline/")
    assert response.status_code == 302 and response["Location"] == "/waitlist/"
    entry.refresh_from_db()
    assert entry.status == "left"
    assert "You are not on any waitlist." in html(family_web.web.get("/waitlist/"))
    again = family_web.web.post(f"/waitlist/{entry.pk}/decline/")
    assert again.status_code == 409 and "no longer on this waitlist" in html(again)


def test_an_offer_shows_its_deadline_and_accept_moves_it_into_the_cart(
    family_web, full_class, django_capture_on_commit_callbacks
):
    _offering, holder, hold, ahead = full_class
    services.waitlist_decline(
        family=ahead, entry_id=WaitlistEntry.objects.get(family=ahead).pk
    )  # the family ahead leaves
    with django_capture_on_commit_callbacks(execute=True):
        services.cart_remove(family=holder, hold_id=hold.pk)
    entry = WaitlistEntry.objects.get(family=family_web.family)
    assert entry.status == "offered"
    offer_mail = next(m for m in mail.outbox if m.subject.startswith("A seat opened in Rec Gym"))
    assert "/waitlist/" in offer_mail.body
    link = next(w for w in offer_mail.body.split() if "/waitlist/" in w)
    assert Client(HTTP_HOST=family_web.tenant.primary_host).get(
        link.split(family_web.tenant.primary_host, 1)[1]
    ).status_code in (200, 302)  # the emailed page exists (sign-in first)
    page = html(family_web.web.get("/waitlist/"))
    assert "A seat is offered to Mia." in page
    local = timezone.localtime(entry.hold.expires_at, family_web.tenant.zone)
    assert f'datetime="{local.isoformat()}"' in page  # in the business's zone
    assert f'action="/waitlist/{entry.pk}/accept/"' in page
    assert f'action="/waitlist/{entry.pk}/decline/"' in page
    response = family_web.web.post(f"/waitlist/{entry.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == "/cart/"
    held = Hold.objects.get(pk=entry.hold_id)
    assert held.status == "active"
    cart = html(family_web.web.get("/cart/"))
    assert "Rec Gym" in cart and "data-seconds-left" in cart
    again = family_web.web.post(f"/waitlist/{entry.pk}/accept/")
    assert again.status_code == 409 and "There is no seat offered to you" in html(again)


def test_declining_an_offer_passes_the_seat_on(family_web, full_class):
    _offering, holder, hold, ahead = full_class
    services.cart_remove(family=holder, hold_id=hold.pk)
    # The family ahead got the offer; make it ours by having them decline.
    services.waitlist_decline(family=ahead, entry_id=WaitlistEntry.objects.get(family=ahead).pk)
    entry = WaitlistEntry.objects.get(family=family_web.family)
    assert entry.status == "offered"
    response = family_web.web.post(f"/waitlist/{entry.pk}/decline/")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "declined"
    assert Hold.objects.get(pk=entry.hold_id).status == "released"


def test_waitlist_pages_need_a_family_and_refuse_others_entries(family_web, full_class, tenant_b):
    visitor = Client(HTTP_HOST=family_web.tenant.primary_host)
    assert visitor.get("/waitlist/")["Location"].startswith("/login/")
    entry = WaitlistEntry.objects.get(family=family_web.family)
    response = visitor.post(f"/waitlist/{entry.pk}/accept/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    # Another family of the same business cannot touch this entry.
    other, _kid = make_family("other@alpha.test")
    other_web = signed_in(family_web.tenant, other.primary_guardian.email)
    for action in ("accept", "decline"):
        refused = other_web.post(f"/waitlist/{entry.pk}/{action}/")
        assert refused.status_code == 404, action
    entry.refresh_from_db()
    assert entry.status == "waiting"
    # Bad input: GET on an action, an unknown entry.
    assert family_web.web.get(f"/waitlist/{entry.pk}/accept/").status_code == 405
    assert family_web.web.post("/waitlist/999999/accept/").status_code == 404
    assert family_web.web.post("/waitlist/0/decline/").status_code == 404
    # A session of business A means nothing on business B's host.
    family_web.web.defaults["HTTP_HOST"] = tenant_b.primary_host
    assert family_web.web.get("/waitlist/")["Location"].startswith("/login/")
