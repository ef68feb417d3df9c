"""The web portal's camp booked by the day: the offering page lists the days with price and
seats, the cart add takes the chosen days, the cart and the enrollments show them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.enrollment import services
from portal.enrollment.models import Hold
from portal.orders import services as orders
from tests.portal.enrollment_helpers import make_family, make_offering, next_weekday

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def day_camp(**kwargs):
    start = next_weekday(0)
    defaults = dict(
        name="Summer Day Camp",
        kind="camp",
        camp_selection="day",
        camp_unit_price=4500,
        tuition=40000,
        capacity=1,
        start_date=start,
        end_date=start + timedelta(days=4),
        weekdays=[],
    )
    defaults.update(kwargs)
    return make_offering(**defaults)


def test_the_page_lists_the_days_with_price_and_seats(family_web):
    camp = day_camp()
    monday = camp.start_date
    other, kid = make_family("other@alpha.test")
    services.cart_add(family=other, student_id=kid.pk, offering_id=camp.pk, days=[monday])
    page = html(family_web.web.get(f"/classes/{camp.pk}/"))
    assert "Choose the days" in page and "Price per day" in page and "$45.00" in page
    assert f'name="days" value="{monday.isoformat()}" disabled' in page  # full
    tuesday = (monday + timedelta(days=1)).isoformat()
    assert f'name="days" value="{tuesday}">' in page
    assert "1 seat left" in page
    assert 'action="/cart/add/"' in page


def test_two_days_go_into_the_cart_and_show_there(family_web):
    camp = day_camp(capacity=3)
    days = [camp.start_date + timedelta(days=1), camp.start_date + timedelta(days=3)]
    response = family_web.web.post(
        "/cart/add/",
        {
            "offering": camp.pk,
            "student": family_web.student.pk,
            "days": [d.isoformat() for d in days],
        },
    )
    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert Hold.objects.get(offering=camp).camp_days == days
    page = html(family_web.web.get("/cart/"))
    assert "2 days:" in page and "$90.00" in page
    assert f'datetime="{days[0].isoformat()}"' in page

    orders.order_confirm(order_id=orders.checkout(family=family_web.family).pk)
    page = html(family_web.web.get("/enrollments/"))
    assert "Days booked" in page and f'datetime="{days[1].isoformat()}"' in page


@pytest.mark.parametrize(
    ("days", "status", "text"),
    [
        ([], 400, "Choose at least one day."),
        (["2001-01-01"], 400, "is not a day of this camp you can book"),
        (["garbage"], 400, "Give each day as YYYY-MM-DD."),
    ],
)
def test_bad_days_get_a_clear_page_and_nothing_is_held(family_web, days, status, text):
    camp = day_camp()
    response = family_web.web.post(
        "/cart/add/", {"offering": camp.pk, "student": family_web.student.pk, "days": days}
    )
    assert response.status_code == status
    assert text in html(response)
    assert not Hold.objects.exists()


def test_a_full_day_is_refused_in_spanish(family_web):
    camp = day_camp()
    other, kid = make_family("other@alpha.test")
    services.cart_add(family=other, student_id=kid.pk, offering_id=camp.pk, days=[camp.start_date])
    family_web.web.cookies["django_language"] = "es"
    response = family_web.web.post(
        "/cart/add/",
        {"offering": camp.pk, "student": family_web.student.pk, "days": [camp.start_date]},
    )
    assert response.status_code == 409
    assert "Un día que eligió está lleno: elija otros días." in html(response)


def test_a_whole_camp_shows_no_day_picker(family_web):
    camp = day_camp(camp_selection="whole")
    page = html(family_web.web.get(f"/classes/{camp.pk}/"))
    assert 'name="days"' not in page and "Tuition" in page
