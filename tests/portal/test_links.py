"""portal.links: every web link the domain sends is the path of a route the tenant host serves,
so renaming or moving a web route fails here, not in a family's inbox."""

import pytest
from django.urls import resolve, reverse

from portal import links

URLCONF = "saas_platform.urls_tenant"
SAMPLE = {"order_id": 12, "uidb64": "MTI", "token": "c3x-0a1b2c3d4e5f"}


@pytest.mark.parametrize("name", sorted(links.LINKS))
def test_each_link_is_the_path_of_its_web_route(name):
    template, route = links.LINKS[name]
    params = {k: v for k, v in SAMPLE.items() if "{" + k + "}" in template}
    path = links.path(name, **params)
    assert path == reverse(route, urlconf=URLCONF, kwargs=params or None)
    assert resolve(path, urlconf=URLCONF).url_name == route


def test_a_link_is_absolute_on_the_businesss_host(in_tenant_a):
    assert links.url("order_receipt", order_id=7) == in_tenant_a.url("/orders/7/receipt/")
    assert links.url("cart", tenant=in_tenant_a).endswith(f"{in_tenant_a.primary_host}/cart/")


def test_outside_a_business_a_link_is_its_path(db):
    assert links.url("home") == "/"


def test_an_unknown_link_or_a_missing_placeholder_is_a_programming_error():
    with pytest.raises(KeyError):
        links.path("orders_pay")
    with pytest.raises(KeyError):
        links.path("order")
