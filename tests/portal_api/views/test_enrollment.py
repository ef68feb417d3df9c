"""The family cart API (portal_api/views/enrollment.py)."""

from __future__ import annotations

from datetime import time

from portal.enrollment import services
from tests.helpers import client_for
from tests.portal.enrollment_helpers import accept_policies, make_offering


def test_each_hold_says_whether_its_tuition_is_monthly(family_a, tenant_b):
    """Before checkout the app shows monthly tuition as "/month" with the billing day, so each
    hold in the cart carries the offering's tuition and how it is billed."""
    monthly = make_offering(name="Swim monthly", tuition=6500, tuition_billing="monthly")
    term = make_offering(name="Dance term", tuition=12000, start_time=time(9), end_time=time(10))
    accept_policies(family_a.family)
    for offering in (monthly, term):
        services.cart_add(
            family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
        )
    response = family_a.client().get("/api/v1/cart")
    assert response.status_code == 200, response.content
    holds = {item["offering"]["name"]: item for item in response.json()["items"]}
    assert holds["Swim monthly"]["tuition"] == 6500
    assert holds["Swim monthly"]["tuition_billing"] == "monthly"
    assert holds["Dance term"]["tuition"] == 12000
    assert holds["Dance term"]["tuition_billing"] == "term"
    # Another business's host does not know this family's token.
    assert client_for(tenant_b, token=family_a.token).get("/api/v1/cart").status_code == 401
