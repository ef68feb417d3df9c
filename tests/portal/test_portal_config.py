from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.config.models import Announcement, PortalSettings
from portal.config.selectors import portal_settings_get
from portal.config.services import portal_settings_update
from tests.factories import AnnouncementFactory, LevelFactory, ProgramFactory
from tests.helpers import assert_error, client_for, make_actor

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def test_every_setting_has_a_default_and_help_text(in_tenant_a):
    row = portal_settings_get()
    for field in PortalSettings._meta.get_fields():
        if field.name in {"id", "updated_at"}:
            continue
        assert field.has_default() or field.null or field.blank, field.name
        assert field.help_text, field.name
    assert row.hold_timer_minutes == 15
    assert row.openings_display == "numbers"
    assert row.stored_payment_method_policy == "optional"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hold_timer_minutes": 0}, "hold_timer_minutes"),
        ({"hold_timer_minutes": 500}, "hold_timer_minutes"),
        ({"class_search_rate_limit": 1}, "class_search_rate_limit"),
        ({"openings_display": "stars"}, "openings_display"),
        ({"priority_registration_starts_at": NOW}, "priority_registration_ends_at"),
        (
            {
                "priority_registration_starts_at": NOW,
                "priority_registration_ends_at": NOW - timedelta(hours=1),
            },
            "priority_registration_ends_at",
        ),
        (
            {
                "priority_registration_starts_at": NOW,
                "priority_registration_ends_at": NOW + timedelta(days=1),
                "priority_registration_mode": "keyword",
            },
            "priority_keywords",
        ),
        ({"referral_source_required": True}, "referral_sources"),
        ({"makeup_token_expiry_days": 0}, "makeup_token_expiry_days"),
    ],
)
def test_settings_validation(changes, field, in_tenant_a):
    with pytest.raises(ValidationError) as excinfo:
        portal_settings_update(**changes)
    assert field in excinfo.value.message_dict
    assert PortalSettings.objects.get().hold_timer_minutes == 15


def test_priority_window(in_tenant_a):
    row = portal_settings_update(
        priority_registration_starts_at=NOW - timedelta(hours=1),
        priority_registration_ends_at=NOW + timedelta(hours=1),
        priority_registration_mode="keyword",
        priority_keywords="GOLD\n  silver  \n",
    )
    assert row.priority_window_open()
    assert row.keyword_list == ["GOLD", "silver"]
    assert not row.priority_window_open(NOW + timedelta(hours=2))


def test_portal_config_api(in_tenant_a):
    body = client_for(in_tenant_a).get("/api/v1/portal").json()
    assert body["tenant"] == {
        "name": "Alpha Gymnastics",
        "slug": "alpha",
        "timezone": "America/New_York",
        "currency": "USD",
        "locale": "en",
        "contact_email": "owner@alpha.test",
    }
    assert body["settings"]["hold_timer_minutes"] == 15
    assert body["settings"]["welcome_heading"] == "Welcome to Alpha Gymnastics"
    assert "class_search_rate_limit" not in body["settings"]  # internal
    assert "priority_keywords" not in body["settings"]  # a secret that unlocks early registration
    assert body["theme"]["version"] == 1 and body["theme"]["css_url"].endswith("/theme.css?v=1")
    assert body["announcements"] == []


def test_each_business_sees_its_own_settings(in_tenant_a, tenant_b):
    portal_settings_update(hold_timer_minutes=30)
    assert (
        client_for(in_tenant_a).get("/api/v1/portal").json()["settings"]["hold_timer_minutes"] == 30
    )
    other = client_for(tenant_b).get("/api/v1/portal").json()
    assert other["settings"]["hold_timer_minutes"] == 15
    assert other["tenant"]["name"] == "Beta Swim School"


def test_announcements_by_dates_and_audience(family_a):
    gym = ProgramFactory(name="Gym")
    level = LevelFactory(program=gym, position=1)
    family_a.student.level = level
    family_a.student.save()
    AnnouncementFactory(title="Everyone now", severity="warning")
    AnnouncementFactory(title="Expired", ends_at=NOW - timedelta(days=1))
    AnnouncementFactory(title="Future", starts_at=NOW + timedelta(days=1))
    AnnouncementFactory(title="Unpublished", is_published=False)
    AnnouncementFactory(title="Members", audience="logged_in", kind="news")
    gym_news = AnnouncementFactory(title="Gym families", audience="programs")
    gym_news.programs.set([gym])
    other = AnnouncementFactory(title="Swim families", audience="programs")
    other.programs.set([ProgramFactory(name="Swim")])
    visitor = [a["title"] for a in client_for(family_a.tenant).get("/api/v1/announcements").json()]
    assert visitor == ["Everyone now"]
    member = [a["title"] for a in family_a.client().get("/api/v1/announcements").json()]
    assert sorted(member) == ["Everyone now", "Gym families", "Members"]
    portal = family_a.client().get("/api/v1/portal").json()
    assert sorted(a["title"] for a in portal["announcements"]) == sorted(member)


def test_announcement_dates_validated(in_tenant_a):
    announcement = Announcement(title="X", starts_at=NOW, ends_at=NOW - timedelta(hours=1))
    with pytest.raises(ValidationError):
        announcement.full_clean()


FAMILY_PATHS = [
    ("get", "/api/v1/portal"),
    ("get", "/api/v1/offerings"),
    ("get", "/api/v1/family"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/signup"),
    ("get", "/api/v1/staff"),
    ("get", "/api/v1/announcements"),
    ("get", "/api/v1/nope"),
]


@pytest.mark.parametrize(("method", "path"), FAMILY_PATHS)
def test_a_disabled_portal_answers_every_api_call_with_503(method, path, family_a):
    portal_settings_update(portal_enabled=False)
    response = getattr(family_a.client(), method)(path)
    assert_error(response, 503, "portal_disabled", "Our Customer Portal is currently unavailable.")


def test_a_disabled_portal_keeps_the_staff_admin(in_tenant_a):
    portal_settings_update(portal_enabled=False)
    page = client_for(in_tenant_a).get("/")
    assert page.status_code == 503
    assert b"Our Customer Portal is currently unavailable" in page.content
    staff = make_actor(in_tenant_a, email="boss@alpha.test", staff=True, superuser=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(staff.user)
    connection.set_schema_to_public()
    assert client.get("/admin/portal_config/portalsettings/1/change/").status_code == 200
    # ... and the other business is unaffected.
    from tenants.models import Tenant

    assert (
        client_for(Tenant.objects.get(schema_name="beta")).get("/api/v1/portal").status_code == 200
    )


def test_staff_switch_the_portal_back_on_in_the_admin(in_tenant_a):
    staff = make_actor(in_tenant_a, email="boss@alpha.test", staff=True, superuser=True)
    client = client_for(in_tenant_a)
    with tenant_context(in_tenant_a):
        client.force_login(staff.user)
        portal_settings_update(portal_enabled=False)
        form = {
            f.name: getattr(PortalSettings.objects.get(), f.name)
            for f in PortalSettings._meta.fields
            if f.editable and f.name != "id"
        }
    connection.set_schema_to_public()
    form = {k: ("" if v is None else v) for k, v in form.items() if v is not False}
    form["portal_enabled"] = "on"
    response = client.post("/admin/portal_config/portalsettings/1/change/", form)
    assert response.status_code == 302, response.content[:2000]
    assert client.get("/api/v1/portal").status_code == 200
