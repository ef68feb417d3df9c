import pytest
from django.db.models import Count

from demo.data import seed_business
from portal.accounts.models import Family, Student
from portal.catalog.models import Offering, Program, StaffProfile
from portal.config.models import Announcement
from tests.factories import PASSWORD
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["acme", "zen"])
def test_demo_content_is_realistic_and_idempotent(slug, in_tenant_a):
    assert seed_business(slug=slug, password=PASSWORD, family_emails=["parent@demo.example"])
    assert Program.objects.count() >= 3
    kinds = dict(Offering.objects.values_list("kind").annotate(n=Count("pk")))
    assert sum(kinds.values()) >= 40 and set(kinds) == {"class", "camp", "event"}
    assert StaffProfile.objects.count() == 5
    assert Family.objects.count() == 20
    ages = {s.date_of_birth.year for s in Student.objects.all()}
    assert len(ages) >= 6
    assert Announcement.objects.count() >= 3
    assert Offering.objects.filter(seats_taken__gte=1).exists()
    for offering in Offering.objects.all():
        offering.full_clean()
    assert seed_business(slug=slug, password=PASSWORD, family_emails=[]) is False
    assert Program.objects.count() == len({p.name for p in Program.objects.all()})


def test_demo_family_can_sign_in_and_search(in_tenant_a):
    seed_business(slug="acme", password=PASSWORD, family_emails=["parent@demo.example"])
    client = client_for(in_tenant_a)
    token = client.post(
        "/api/v1/auth/token", {"email": "parent@demo.example", "password": PASSWORD}, format="json"
    ).json()["token"]
    family = client_for(in_tenant_a, token=token).get("/api/v1/family").json()
    assert family["name"] == "Rivera family"
    results = client.get("/api/v1/offerings?q=ninja&page_size=50").json()
    assert results["count"] >= 5


def test_demo_sells_punch_passes(in_tenant_a):
    from portal.store.models import PunchPassProduct

    seed_business(slug="zen", password=PASSWORD, family_emails=[])
    assert PunchPassProduct.objects.filter(is_active=True).count() == 2


def test_demo_businesses_get_different_published_themes(in_tenant_a):
    from demo.branding import THEMES, brand_demo
    from theming.services import theme_current

    brand_demo("acme")
    brand_demo("acme")  # once
    version = theme_current()
    assert version.number == 2 and version.snapshot["primary"] == THEMES["acme"]["primary"]
    assert THEMES["acme"]["primary"] != THEMES["zen"]["primary"]
    page = client_for(in_tenant_a).get("/").content.decode()
    assert '<link rel="stylesheet" href="/theme.css?v=2">' in page


def test_both_demo_palettes_pass_the_contrast_checks(in_tenant_a):
    from demo.branding import brand_demo
    from theming.services import theme_current

    brand_demo("zen")
    assert theme_current().snapshot["font"] == "nunito"
