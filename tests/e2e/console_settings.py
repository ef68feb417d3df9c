"""The console's settings pages as the settings browser tests use them: the owner's password,
a catalog with a camp and a family enrolled in the free class, saving a settings page (with axe
on it) and finding a field by its label."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kernel.users.models import User
from tests.e2e.data import catalog_create, next_monday

PASSWORD = "settings-pass-2026"


def settings_data(tenant):
    """The catalog, a camp, and a family enrolled in the free class (to see its requests)."""
    from portal.catalog.models import Offering, Program
    from portal.enrollment import services
    from portal.orders import services as orders
    from tests.factories import GuardianFactory, StudentFactory
    from tests.portal.enrollment_helpers import accept_policies

    offerings = catalog_create(tenant)
    with tenant_context(tenant):
        owner = User.objects.get(email=tenant.owner_email)
        owner.set_password(PASSWORD)
        owner.save()
        start = next_monday()
        Offering.objects.create(
            name="Splash Summer Camp", kind="camp", program=Program.objects.get(name="Swimming"),
            capacity=12, start_date=start, end_date=start + timedelta(days=4), weekdays=[],
            start_time=time(9), end_time=time(15), tuition=30000,
        )  # fmt: skip
        guardian = GuardianFactory(email="family@kestrel.test", first_name="Dana")
        kid = StudentFactory(family=guardian.family, first_name="Mia", last_name="Rivera")
        accept_policies(guardian.family)
        services.cart_add(
            family=guardian.family, student_id=kid.pk, offering_id=offerings["free"].pk
        )
        orders.checkout(family=guardian.family)
    connection.set_schema_to_public()
    return offerings


def save(page, e2e_tenant, path: str, axe, fill) -> None:
    page.goto(e2e_tenant(path))
    fill(page)
    axe.check(page, context=f"({path})")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(e2e_tenant(path))
    expect(page.get_by_text("Saved. Families see the change at once."), path).to_be_visible()


def field(page, name: str):
    return page.get_by_label(name, exact=True)
