"""A hold that runs out explains itself and offers "hold these again" in one click for every
item that still has seats; a lapsed order names its classes."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.enrollment import services
from portal.enrollment.models import Hold, Order
from tests.helpers import signed_in
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def run_out(family):
    Hold.objects.filter(family=family, status="active").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_run_out_holds_are_explained_and_held_again_in_one_click(family_web):
    beam = make_offering(name="Beam Basics", capacity=2)
    vault = make_offering(name="Vault Club", capacity=1, start_time=time(18), end_time=time(19))
    for offering in (beam, vault):
        family_web.web.post(
            "/cart/add/", {"offering": offering.pk, "student": family_web.student.pk}
        )
    run_out(family_web.family)
    # Meanwhile another family takes the only Vault Club seat.
    other, kid = make_family("other@alpha.test")
    page = html(family_web.web.get("/cart/"))  # the check on read expires our holds
    services.cart_add(family=other, student_id=kid.pk, offering_id=vault.pk)
    page = html(family_web.web.get("/cart/"))
    assert "Holds that ran out" in page and "nothing was charged" in page
    item = f"{family_web.student.pk}-{beam.pk}"
    assert f'name="item" value="{item}" checked' in page
    assert "Vault Club — Mia: now full." in page
    assert f'value="{family_web.student.pk}-{vault.pk}"' not in page
    response = family_web.web.post("/cart/hold-again/", {"item": [item]})
    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert Hold.objects.get(family=family_web.family, status="active").offering == beam
    page = html(family_web.web.get("/cart/"))
    assert "1 class is held for you again." in page
    assert f'value="{item}"' not in page  # in the cart again: no longer lapsed


def test_a_seat_taken_meanwhile_is_refused_and_the_rest_still_held(family_web):
    beam = make_offering(name="Beam Basics", capacity=2)
    vault = make_offering(name="Vault Club", capacity=1, start_time=time(18), end_time=time(19))
    for offering in (beam, vault):
        family_web.web.post(
            "/cart/add/", {"offering": offering.pk, "student": family_web.student.pk}
        )
    run_out(family_web.family)
    family_web.web.get("/cart/")
    other, kid = make_family("other@alpha.test")
    services.cart_add(family=other, student_id=kid.pk, offering_id=vault.pk)
    items = [f"{family_web.student.pk}-{beam.pk}", f"{family_web.student.pk}-{vault.pk}"]
    family_web.web.post("/cart/hold-again/", {"item": items})
    active = Hold.objects.filter(family=family_web.family, status="active")
    assert [h.offering for h in active] == [beam]
    page = html(family_web.web.get("/cart/"))
    assert "1 class is held for you again." in page and "is full" in page


def test_a_lapsed_order_names_its_classes_and_offers_to_hold_them_again(family_web):
    from django.test import override_settings

    beam = make_offering(name="Beam Basics", capacity=2, tuition=5000)
    family_web.web.post("/cart/add/", {"offering": beam.pk, "student": family_web.student.pk})
    with override_settings(STRIPE_PUBLISHABLE_KEY=""):
        order_url = family_web.web.post("/checkout/", {})["Location"]
    Order.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = family_web.web.get(order_url)
    page = html(response)
    assert response.status_code == 409
    assert "Beam Basics — Mia" in page  # the order's class, by name
    assert f'value="{family_web.student.pk}-{beam.pk}"' in page and "Hold these again" in page


def test_hold_again_bad_input_permissions_and_other_families(family_web, tenant_b):
    beam = make_offering(name="Beam Basics", capacity=2)
    for bad in ({}, {"item": ["x"]}, {"item": ["1-"]}, {"item": ["-5"]}, {"item": ["0-0"]}):
        response = family_web.web.post("/cart/hold-again/", bad)
        assert response.status_code == 400, bad
        assert "Choose the classes to hold again." in html(response)
    assert family_web.web.get("/cart/hold-again/").status_code == 405
    # Another family's student cannot be held through this form.
    other, kid = make_family("other@alpha.test")
    family_web.web.post("/cart/hold-again/", {"item": [f"{kid.pk}-{beam.pk}"]})
    assert not Hold.objects.filter(status="active").exists()
    page = html(family_web.web.get("/cart/"))
    assert "We could not find that student." in page
    visitor = Client(HTTP_HOST=family_web.tenant.primary_host)
    response = visitor.post("/cart/hold-again/", {"item": [f"{kid.pk}-{beam.pk}"]})
    assert response.status_code == 302 and "/login/" in response["Location"]
    other_web = signed_in(family_web.tenant, other.primary_guardian.email)
    assert "Holds that ran out" not in html(other_web.get("/cart/"))
    family_web.web.defaults["HTTP_HOST"] = tenant_b.primary_host
    response = family_web.web.post("/cart/hold-again/", {"item": [f"{kid.pk}-{beam.pk}"]})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Hold.objects.filter(status="active").exists()
