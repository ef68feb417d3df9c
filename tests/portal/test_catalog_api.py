from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from portal.catalog.models import Offering, age_on
from portal.config.services import portal_settings_update
from tests.factories import (
    LevelFactory,
    LocationFactory,
    OfferingFactory,
    ProgramFactory,
    StaffFactory,
    StudentFactory,
    TermFactory,
)
from tests.helpers import assert_error, client_for, tenant_today

pytestmark = pytest.mark.django_db

API = "/api/v1/offerings"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


@pytest.fixture
def catalog(in_tenant_a):
    """A small catalog in tenant A."""
    today = tenant_today()
    gym, swim = ProgramFactory(name="Gymnastics"), ProgramFactory(name="Swim")
    north, south = LocationFactory(name="North Gym"), LocationFactory(name="South Pool")
    beginner = LevelFactory(program=gym, name="Beginner", position=1)
    advanced = LevelFactory(program=gym, name="Advanced", position=2)
    coach = StaffFactory(display_name="Coach Kim", bio="Former national team gymnast.")
    other_coach = StaffFactory(display_name="Coach Lee")
    # A Friday one to two weeks ahead: the one-day event's weekday is its date's, and the
    # day filters below (Saturday, Wednesday) must not find it whatever day the suite runs.
    soon = today + timedelta(days=7 + (4 - today.weekday()) % 7)
    monday = today + timedelta(days=7 - today.weekday() + 7)  # a Monday one to two weeks out
    items = {
        "tots": OfferingFactory(
            name="Tiny Tumblers",
            program=gym,
            location=north,
            min_age=3,
            max_age=5,
            weekdays=[0, 2],
            start_time=time(9, 30),
            end_time=time(10, 15),
            levels=[beginner],
            instructors=[coach],
            description="Parent and child tumbling",
        ),
        "girls": OfferingFactory(
            name="Girls Team",
            program=gym,
            location=north,
            min_age=8,
            max_age=14,
            gender="female",
            weekdays=[1],
            start_time=time(17, 0),
            end_time=time(19, 0),
            levels=[advanced],
            instructors=[coach],
            capacity=2,
        ),
        "swim": OfferingFactory(
            name="Swim Basics",
            program=swim,
            location=south,
            min_age=5,
            max_age=10,
            weekdays=[5],
            start_time=time(13, 0),
            end_time=time(14, 0),
            instructors=[other_coach],
        ),
        "camp": OfferingFactory(
            kind="camp",
            name="Summer Flip Camp",
            program=gym,
            location=north,
            min_age=6,
            max_age=12,
            weekdays=[],
            start_date=monday,
            end_date=monday + timedelta(days=11),
            start_time=time(9, 0),
            end_time=time(15, 0),
            camp_selection="week",
        ),
        "event": OfferingFactory(
            kind="event",
            name="Parents Night Out",
            program=gym,
            location=north,
            weekdays=[],
            start_date=soon,
            end_date=soon,
            start_time=time(18, 0),
            end_time=time(21, 0),
        ),
        "past": OfferingFactory(
            name="Last Spring",
            program=gym,
            start_date=today - timedelta(days=90),
            end_date=today - timedelta(days=10),
        ),
        "draft": OfferingFactory(name="Secret Draft", program=gym, status="draft"),
    }
    Offering.objects.filter(pk=items["girls"].pk).update(seats_taken=2, waitlist_count=3)
    return {
        "items": items,
        "gym": gym,
        "swim": swim,
        "north": north,
        "south": south,
        "beginner": beginner,
        "advanced": advanced,
        "coach": coach,
        "tenant": in_tenant_a,
    }


def search(catalog, query="", token=None):
    return client_for(catalog["tenant"], token=token).get(f"{API}{query}")


def test_search_lists_upcoming_published_offerings_with_availability(catalog):
    response = search(catalog)
    assert sorted(names(response)) == sorted(
        ["Tiny Tumblers", "Girls Team", "Swim Basics", "Summer Flip Camp", "Parents Night Out"]
    )
    by_name = {item["name"]: item for item in response.json()["results"]}
    girls = by_name["Girls Team"]
    assert girls["availability"] == {"status": "FULL", "openings": 0, "waitlist": 3}
    assert by_name["Tiny Tumblers"]["availability"] == {
        "status": "OPEN",
        "openings": 10,
        "waitlist": 0,
    }
    assert girls["price"] == {
        "tuition": 12000,
        "tuition_billing": "term",
        "registration_fee": 2500,
        "deposit": 0,
        "currency": "USD",
    }
    assert girls["schedule"]["days"] == ["tue"]
    assert girls["levels"] == [
        {
            "id": catalog["advanced"].pk,
            "name": "Advanced",
            "position": 2,
            "program_id": catalog["gym"].pk,
        }
    ]
    assert girls["instructors"] == [{"id": catalog["coach"].pk, "display_name": "Coach Kim"}]
    assert by_name["Summer Flip Camp"]["schedule"]["days"] == ["mon", "tue", "wed", "thu", "fri"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?kind=camp", ["Summer Flip Camp"]),
        ("?kind=class,event", ["Tiny Tumblers", "Girls Team", "Swim Basics", "Parents Night Out"]),
        ("?day=sat", ["Swim Basics"]),
        ("?day=wed", ["Tiny Tumblers", "Summer Flip Camp"]),
        ("?time_of_day=morning", ["Tiny Tumblers", "Summer Flip Camp"]),
        ("?time_of_day=evening", ["Girls Team", "Parents Night Out"]),
        ("?age=4", ["Tiny Tumblers", "Parents Night Out"]),
        ("?age=9&gender=male", ["Swim Basics", "Summer Flip Camp", "Parents Night Out"]),
        (
            "?age=9&gender=female",
            ["Girls Team", "Swim Basics", "Summer Flip Camp", "Parents Night Out"],
        ),
        ("?has_openings=false", ["Girls Team"]),
        ("?q=tumbl", ["Tiny Tumblers"]),
        ("?q=swim basics", ["Swim Basics"]),
        ("?q=pool", ["Swim Basics"]),
    ],
)
def test_search_filters(query, expected, catalog):
    assert sorted(names(search(catalog, query))) == sorted(expected)


def test_search_filters_by_ids(catalog):
    assert sorted(names(search(catalog, f"?program={catalog['swim'].pk}"))) == ["Swim Basics"]
    assert "Swim Basics" not in names(search(catalog, f"?location={catalog['north'].pk}"))
    assert sorted(names(search(catalog, f"?instructor={catalog['coach'].pk}"))) == [
        "Girls Team",
        "Tiny Tumblers",
    ]
    level = names(search(catalog, f"?level={catalog['beginner'].pk}"))
    assert (
        "Tiny Tumblers" in level and "Girls Team" not in level and "Swim Basics" in level
    )  # any-level


def test_date_range_includes_past_offerings_when_asked(catalog):
    today = tenant_today()
    start = (today - timedelta(days=60)).isoformat()
    end = (today - timedelta(days=30)).isoformat()
    assert names(search(catalog, f"?from={start}&to={end}")) == ["Last Spring"]


def test_full_open_display_hides_numbers(catalog):
    portal_settings_update(openings_display="full_open", show_levels=False)
    items = search(catalog, "?q=girls").json()["results"]
    assert items[0]["availability"] == {"status": "FULL", "openings": None, "waitlist": 3}
    assert items[0]["levels"] == []


def test_hidden_kinds_are_not_listed(catalog):
    portal_settings_update(show_camps=False, show_events=False)
    assert "Summer Flip Camp" not in names(search(catalog))
    assert names(search(catalog, "?kind=camp")) == []
    assert_error(
        search(catalog).__class__
        and client_for(catalog["tenant"]).get(f"{API}/{catalog['items']['camp'].pk}"),
        404,
        "offering_not_found",
    )


def test_visitors_need_to_sign_in_when_the_list_is_private(catalog, family_a):
    portal_settings_update(list_visible_when_logged_out=False)
    assert_error(
        search(catalog), 401, "login_required", "Sign in to see the classes this business offers."
    )
    assert search(catalog, token=family_a.token).status_code == 200


def test_a_page_costs_the_same_queries_whatever_its_size(catalog):
    with tenant_context(catalog["tenant"]):
        for i in range(30):
            OfferingFactory(
                name=f"Extra {i}",
                program=catalog["gym"],
                levels=[catalog["beginner"]],
                instructors=[catalog["coach"]],
            )
    client = client_for(catalog["tenant"])
    client.get(f"{API}?page_size=1")  # warm routing
    counts = []
    for size in (2, 30):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{API}?page_size={size}")
        assert len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 8, counts


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("?kind=lesson", "kind"),
        ("?program=abc", "program"),
        ("?program=999999", "program"),
        ("?location=-1", "location"),
        ("?level=1.5", "level"),
        ("?instructor=999999", "instructor"),
        ("?term=0", "term"),
        ("?day=funday", "day"),
        ("?time_of_day=noon", "time_of_day"),
        ("?age=-3", "age"),
        ("?age=abc", "age"),
        ("?age=200", "age"),
        ("?gender=robot", "gender"),
        ("?has_openings=maybe", "has_openings"),
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-05-01&to=2026-04-01", "to"),
        ("?colour=red", "colour"),
        ("?q=" + "x" * 101, "q"),
    ],
)
def test_bad_filters_are_a_clear_400(query, param, catalog):
    body = assert_error(search(catalog, query), 400, "invalid_filter")
    assert list(body["fields"]) == [param]


@pytest.mark.parametrize("query", ["?page=abc", "?page=0", "?page_size=1000", "?page_size=-1"])
def test_bad_pages_are_a_clear_400(query, catalog):
    assert_error(search(catalog, query), 400, "invalid_page")


def test_age_minus_three_message_a_parent_understands(catalog):
    assert_error(
        search(catalog, "?age=-3"), 400, "invalid_filter", "Age must be between 0 and 120."
    )


def test_detail_has_meetings_and_instructor_bios_per_settings(catalog):
    offering = catalog["items"]["tots"]
    body = client_for(catalog["tenant"]).get(f"{API}/{offering.pk}").json()
    assert body["description"] == "Parent and child tumbling"
    meetings = [date.fromisoformat(d) for d in body["meetings"]]
    assert meetings and all(d.weekday() in (0, 2) for d in meetings)
    assert meetings[0] >= offering.start_date and meetings[-1] <= offering.end_date
    assert body["instructors"][0]["bio"] == "Former national team gymnast."
    assert body["instructors"][0]["availability"] is None
    portal_settings_update(staff_bios_visible=False, staff_availability_visible=True)
    body = client_for(catalog["tenant"]).get(f"{API}/{offering.pk}").json()
    assert body["instructors"][0]["bio"] is None
    assert body["instructors"][0]["availability"] == []


def test_event_meets_once_and_camp_on_weekdays(catalog):
    client = client_for(catalog["tenant"])
    event = client.get(f"{API}/{catalog['items']['event'].pk}").json()
    assert len(event["meetings"]) == 1
    camp = client.get(f"{API}/{catalog['items']['camp'].pk}").json()
    assert len(camp["meetings"]) == 10  # two weeks, Monday to Friday
    assert camp["camp_selection"] == "week"


def test_unknown_draft_or_other_tenants_offering_is_not_found(catalog, tenant_b):
    client = client_for(catalog["tenant"])
    assert_error(
        client.get(f"{API}/999999"), 404, "offering_not_found", "We could not find that class."
    )
    assert_error(client.get(f"{API}/{catalog['items']['draft'].pk}"), 404, "offering_not_found")
    other = client_for(tenant_b).get(f"{API}/{catalog['items']['tots'].pk}")
    assert_error(other, 404, "offering_not_found")
    assert b"Tiny Tumblers" not in other.content
    assert client_for(tenant_b).get(API).json()["results"] == []


def test_find_the_right_class_for_a_student(catalog, family_a):
    with tenant_context(catalog["tenant"]):
        # Turns 6 two days after the camp starts: too young for it on its start date.
        camp_start = catalog["items"]["camp"].start_date
        born = date(camp_start.year - 6, camp_start.month, camp_start.day) + timedelta(days=2)
        kid = StudentFactory(family=family_a.family, date_of_birth=born, gender="male", level=None)
        assert age_on(born, camp_start) == 5
    response = client_for(catalog["tenant"], token=family_a.token).get(
        f"{API}/match?student={kid.pk}"
    )
    matched = names(response)
    assert "Swim Basics" in matched and "Parents Night Out" in matched
    assert "Summer Flip Camp" not in matched and "Girls Team" not in matched
    assert "Tiny Tumblers" in matched  # beginner level, ages 3-5


def test_find_the_right_class_by_age_gender_level(catalog):
    client = client_for(catalog["tenant"])
    assert sorted(
        names(client.get(f"{API}/match?age=10&gender=female&level={catalog['advanced'].pk}"))
    ) == ["Girls Team", "Parents Night Out", "Summer Flip Camp", "Swim Basics"]
    assert_error(client.get(f"{API}/match"), 400, "invalid_filter", "Give a student or an age.")
    assert_error(client.get(f"{API}/match?age=-3"), 400, "invalid_filter")
    assert_error(client.get(f"{API}/match?age=5&level=999999"), 400, "invalid_filter")
    assert_error(client.get(f"{API}/match?student=abc"), 400, "invalid_filter")
    assert_error(client.get(f"{API}/match?age=5&shoe=9"), 400, "invalid_filter")


def test_another_familys_student_cannot_be_matched(catalog, family_a):
    with tenant_context(catalog["tenant"]):
        stranger = StudentFactory()
    response = client_for(catalog["tenant"], token=family_a.token).get(
        f"{API}/match?student={stranger.pk}"
    )
    assert_error(response, 404, "student_not_found", "We could not find that student.")
    assert response.json()["fields"] == {"student": ["We could not find that student."]}
    assert_error(
        client_for(catalog["tenant"]).get(f"{API}/match?student={stranger.pk}"),
        404,
        "student_not_found",
    )


def test_staff_list_follows_visibility(catalog):
    with tenant_context(catalog["tenant"]):
        from portal.catalog.models import AvailabilitySlot

        AvailabilitySlot.objects.create(
            staff=catalog["coach"],
            weekday=3,
            start_time=time(10),
            end_time=time(12),
            location=catalog["north"],
        )
    client = client_for(catalog["tenant"])
    kim = next(s for s in client.get("/api/v1/staff").json() if s["display_name"] == "Coach Kim")
    assert kim["bio"] == "Former national team gymnast." and kim["availability"] is None
    portal_settings_update(staff_availability_visible=True, staff_bios_visible=False)
    kim = next(s for s in client.get("/api/v1/staff").json() if s["display_name"] == "Coach Kim")
    assert kim["bio"] is None
    assert kim["availability"] == [
        {
            "day": "thu",
            "start_time": "10:00",
            "end_time": "12:00",
            "location": "North Gym",
            "note": "",
        }
    ]


def test_offering_validation_in_the_model(in_tenant_a):
    from django.core.exceptions import ValidationError

    offering = OfferingFactory.build(
        program=ProgramFactory(),
        location=None,
        weekdays=[],
        min_age=9,
        max_age=5,
        start_time=time(10),
        end_time=time(9),
    )
    with pytest.raises(ValidationError) as excinfo:
        offering.full_clean()
    assert set(excinfo.value.message_dict) >= {"weekdays", "max_age", "end_time"}


def test_term_filter(catalog):
    with tenant_context(catalog["tenant"]):
        term = TermFactory(name="Fall")
        Offering.objects.filter(pk=catalog["items"]["swim"].pk).update(term=term)
    assert names(search(catalog, f"?term={term.pk}")) == ["Swim Basics"]


def test_the_hosts_port_is_never_reflected_into_cached_search_pages(catalog):
    host = catalog["tenant"].primary_host
    poisoned = client_for(catalog["tenant"])
    poisoned.defaults["HTTP_HOST"] = f"{host}:6666"
    first = poisoned.get(f"{API}?page_size=1")
    assert first.status_code == 200
    assert first.json()["next"] == f"http://{host}{API}?page=2&page_size=1"
    # The page a plain request gets next (from the same cache entry) names no foreign port.
    plain = client_for(catalog["tenant"]).get(f"{API}?page_size=1").json()
    assert plain["next"] == f"http://{host}{API}?page=2&page_size=1"
    assert ":6666" not in str(plain)
