"""The catalog reads the family pages and the widget make through selectors (no ORM in the
deliveries): the search page's filter choices, levels, names resolved to ids, an opening's
classes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.catalog.models import RegistrationOpening
from portal.catalog.selectors import (
    filter_choices_get,
    filter_value_ids,
    level_list,
    opening_offerings,
)
from tests.factories import (
    LevelFactory,
    LocationFactory,
    ProgramFactory,
    StaffFactory,
    TermFactory,
)
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db


def test_filter_choices_hold_only_what_a_family_can_pick(in_tenant_a):
    gym, _closed = ProgramFactory(name="Gym"), ProgramFactory(name="Old", is_active=False)
    hall, _shut = LocationFactory(name="Hall"), LocationFactory(name="Shut", is_active=False)
    coach, _gone = StaffFactory(display_name="Ana"), StaffFactory(is_active=False)
    level = LevelFactory(program=gym, name="Beginner")
    term = TermFactory(name="Spring")
    today = timezone.localdate()
    TermFactory(name="Past", start_date=today - timedelta(90), end_date=today - timedelta(1))
    choices = filter_choices_get(show_levels=True)
    assert (choices.programs, choices.locations, choices.instructors) == ([gym], [hall], [coach])
    assert (choices.levels, choices.terms) == ([level], [term])
    assert filter_choices_get(show_levels=False).levels == []


def test_levels_come_with_their_programs(in_tenant_a, django_assert_num_queries):
    LevelFactory(program=ProgramFactory(name="Swim"), name="Tadpole")
    with django_assert_num_queries(1):
        assert [(lv.program.name, lv.name) for lv in level_list()] == [("Swim", "Tadpole")]


def test_names_resolve_to_ids_case_insensitively(in_tenant_a):
    gym, swim = ProgramFactory(name="Gymnastics"), ProgramFactory(name="Swim")
    beginner = LevelFactory(program=gym, name="Beginner")
    LevelFactory(program=swim, name="Beginner")
    coach = StaffFactory(display_name="Coach Ana")
    StaffFactory(display_name="Coach Bo", is_active=False)
    hall, term = LocationFactory(name="Main Hall"), TermFactory(name="Fall")
    assert filter_value_ids(name="program", value="gymnastics") == [gym.pk]
    assert filter_value_ids(name="location", value="MAIN HALL") == [hall.pk]
    assert filter_value_ids(name="term", value="fall") == [term.pk]
    assert filter_value_ids(name="instructor", value="coach ana") == [coach.pk]
    assert filter_value_ids(name="instructor", value="Coach Bo") == []  # inactive
    assert filter_value_ids(name="level", value="Gymnastics: beginner") == [beginner.pk]
    # Without its program a level name may be ambiguous: two ids, so the caller refuses it.
    assert len(filter_value_ids(name="level", value="Beginner")) == 2
    assert filter_value_ids(name="program", value="Chess") == []
    with pytest.raises(ValueError):
        filter_value_ids(name="kind", value="class")


def test_an_opening_lists_its_classes_by_name(in_tenant_a):
    b, a, other = make_offering(name="B class"), make_offering(name="A class"), make_offering()
    opening = RegistrationOpening.objects.create(name="Day", opens_at=timezone.now())
    opening.offerings.set([b, a])
    assert list(opening_offerings(opening_id=opening.pk)) == [a, b]
    assert other not in opening_offerings(opening_id=opening.pk)
    assert list(opening_offerings(opening_id=opening.pk + 1000)) == []
