"""The console's settings pages: grouped as the product groups them, each field with help text,
money typed in the currency and times in the business's zone, saved through the same service
as the staff API; bad input changes nothing and says why; roles other than owner and manager
are refused; another business's session counts for nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from kernel.users.models import User
from portal.config.models import PortalSettings
from portal.config.settings_schema import EDITABLE_FIELDS, PAGES
from portal.privacy.models import AuditEntry
from tests.factories import PASSWORD
from tests.helpers import SESSION_ZONE, host_of, make_actor

pytestmark = pytest.mark.django_db


def signed_in(tenant, user) -> Client:
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_tenant(tenant)
    return client


def owner_of(tenant) -> User:
    return User.objects.get(email=tenant.owner_email)


def form_values(page_key: str) -> dict[str, str]:
    """What the page's form posts back unchanged (the browser's view of the current row)."""
    row = PortalSettings.objects.get()
    page = next(p for p in PAGES if p.key == page_key)
    out = {}
    for name in page.fields:
        value = getattr(row, name)
        if isinstance(value, bool):
            if value:
                out[name] = "on"
        elif value is None:
            out[name] = ""
        else:
            out[name] = str(value)
    return out


def test_every_editable_setting_is_on_one_page_and_the_rate_limit_on_none(in_tenant_a):
    assert "class_search_rate_limit" not in EDITABLE_FIELDS
    assert len(EDITABLE_FIELDS) == len(set(EDITABLE_FIELDS))
    client = signed_in(in_tenant_a, owner_of(in_tenant_a))
    index = client.get("/console/settings/").content.decode()
    for heading in ("Settings", "Staff", "Other settings"):
        assert f">{heading}</h2>" in index
    for page in PAGES:
        assert f'href="/console/settings/{page.key}/"' in index
        html = client.get(f"/console/settings/{page.key}/").content.decode()
        assert "What families will see" in html and f'href="{page.preview_path}"' in html
        for name in page.fields:
            assert f'name="{name}"' in html, (page.key, name)
            help_text = str(PortalSettings._meta.get_field(name).help_text)[:20]
            assert help_text.replace("“", "&#x201c;")[:10] or help_text in html
    assert (
        "class_search_rate_limit" not in client.get("/console/settings/display/").content.decode()
    )


def test_saving_a_page_changes_the_settings_and_audits_it(in_tenant_a):
    client = signed_in(in_tenant_a, owner_of(in_tenant_a))
    values = form_values("checkout")
    values["hold_timer_minutes"] = "25"
    response = client.post("/console/settings/checkout/", values)
    assert response.status_code == 302 and response["Location"] == "/console/settings/checkout/"
    assert PortalSettings.objects.get().hold_timer_minutes == 25
    entry = AuditEntry.objects.filter(action="settings_change").latest("pk")
    assert entry.fields == {"hold_timer_minutes": [15, 25]}
    assert entry.actor_email == in_tenant_a.owner_email
    assert "Saved." in client.get("/console/settings/checkout/").content.decode()


def test_money_is_typed_in_the_currency_and_stored_in_minor_units(in_tenant_a):
    client = signed_in(in_tenant_a, owner_of(in_tenant_a))
    page = client.get("/console/settings/payments-store/").content.decode()
    assert 'value="10.00"' in page and 'value="500.00"' in page  # 1000 and 50000 minor units
    assert "25.00, 50.00, 100.00" in page
    assert "minor units" not in page
    values = form_values("payments-store")
    values.update(gift_certificate_min="15.50", gift_certificate_max="250",
                  gift_certificate_amounts="20, 40.25")  # fmt: skip
    assert client.post("/console/settings/payments-store/", values).status_code == 302
    row = PortalSettings.objects.get()
    assert (row.gift_certificate_min, row.gift_certificate_max) == (1550, 25000)
    assert row.gift_certificate_amounts == "2000,4025"


def test_times_are_entered_in_the_business_zone(in_tenant_a):
    client = signed_in(in_tenant_a, owner_of(in_tenant_a))
    values = form_values("registration")
    values.update(priority_registration_starts_at="2027-01-11T08:00",
                  priority_registration_ends_at="2027-01-18T08:00",
                  priority_registration_mode="returning")  # fmt: skip
    assert client.post("/console/settings/registration/", values).status_code == 302
    row = PortalSettings.objects.get()
    assert row.priority_registration_starts_at == datetime(2027, 1, 11, 8, 0, tzinfo=SESSION_ZONE)
    page = client.get("/console/settings/registration/").content.decode()
    assert 'value="2027-01-11T08:00"' in page
    assert f"Times are in {in_tenant_a.timezone}" in page


@pytest.mark.parametrize(
    ("page", "field", "value", "message"),
    [
        ("checkout", "hold_timer_minutes", "0", "greater than or equal to 1"),
        ("checkout", "hold_timer_minutes", "soon", "Enter a whole number."),
        ("payments-store", "gift_certificate_min", "-5", "is not an amount"),
        ("payments-store", "gift_certificate_max", "1.005", "at most 2 decimals"),
        ("payments-store", "gift_certificate_max", "5", "must not be below the smallest"),
        ("display", "class_search_filters", "age,colour", "Unknown filter “colour”"),
        ("display", "openings_display", "maybe", "Select a valid choice"),
        ("registration", "priority_registration_starts_at", "tomorrow", "Enter a valid date"),
        ("registration", "priority_registration_starts_at", "2027-01-11T08:00", "or neither"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(in_tenant_a, page, field, value, message):
    client = signed_in(in_tenant_a, owner_of(in_tenant_a))
    before = PortalSettings.objects.values().get()
    values = form_values(page)
    values[field] = value
    response = client.post(f"/console/settings/{page}/", values)
    assert response.status_code == 400
    html = response.content.decode()
    assert message.replace("“", "&#x201c;").replace("”", "&#x201d;") in html or message in html
    assert "Nothing was saved" in html or 'role="alert"' in html
    assert PortalSettings.objects.values().get() == before
    assert not AuditEntry.objects.filter(action="settings_change").exists()


def test_only_owner_and_manager_open_the_settings(in_tenant_a):
    for role, allowed in (("front_desk", False), ("coach", False), ("manager", True)):
        actor = make_actor(in_tenant_a, email=f"{role}@alpha.test", role=role)
        client = signed_in(in_tenant_a, actor.user)
        response = client.get("/console/settings/checkout/")
        assert (response.status_code == 200) is allowed, role
        nav = client.get("/console/").content.decode()
        assert ('href="/console/settings/"' in nav) is allowed, role
        posted = client.post("/console/settings/checkout/", {"hold_timer_minutes": "99"})
        assert posted.status_code == (302 if allowed else 403)
        if not allowed:
            assert PortalSettings.objects.get().hold_timer_minutes == 15
    anonymous = Client(HTTP_HOST=host_of(in_tenant_a)).get("/console/settings/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/console/login/")


def test_a_family_login_and_another_business_get_nothing(in_tenant_a, tenant_b, family_a):
    family_client = signed_in(in_tenant_a, family_a.guardian.user)
    assert family_client.get("/console/settings/checkout/").status_code in (302, 403)
    owner_a = owner_of(in_tenant_a)
    client = signed_in(in_tenant_a, owner_a)
    client.defaults["HTTP_HOST"] = host_of(tenant_b)
    response = client.get("/console/settings/checkout/")
    assert response.status_code == 302 and "/console/login/" in response["Location"]
    other = client.post("/console/settings/checkout/", {"hold_timer_minutes": "99"})
    assert other.status_code in (302, 403)
    with tenant_context(tenant_b):
        assert PortalSettings.objects.get().hold_timer_minutes == 15
    connection.set_tenant(in_tenant_a)
    assert PASSWORD  # the owner's password is never needed: sessions are per business


def test_the_class_search_filters_follow_the_setting_on_the_web_and_in_the_api(in_tenant_a):
    client = signed_in(in_tenant_a, owner_of(in_tenant_a))
    values = form_values("display")
    values["class_search_filters"] = "age, day,kind"
    assert client.post("/console/settings/display/", values).status_code == 302
    visitor = Client(HTTP_HOST=host_of(in_tenant_a))
    html = visitor.get("/classes/").content.decode()
    assert html.index('id="id_age"') < html.index('id="day-mon"')
    assert 'id="id_program"' not in html and 'id="id_from"' not in html
    assert visitor.get("/api/v1/offerings/filters").json()["order"] == ["age", "day", "kind"]
    settings = visitor.get("/api/v1/portal").json()["settings"]
    assert settings["class_search_filters"] == "age, day,kind"
