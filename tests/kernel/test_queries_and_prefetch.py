"""kernel.queries.by_key and kernel.prefetch: the hot paths' lookups by a unique key without an
ORDER BY, and rows in hand served as a prefetched relation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kernel import prefetch
from kernel.queries import by_key, sql_literals
from portal.catalog.models import Level, Offering, Program
from tests.factories import LevelFactory, OfferingFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def test_by_key_finds_the_row_or_none_without_ordering(in_tenant_a):
    program = ProgramFactory(name="Tumbling")
    with CaptureQueriesContext(connection) as ctx:
        assert by_key(Program.objects.filter(pk=program.pk)) == program
        assert by_key(Program.objects.filter(pk=program.pk + 1000)) is None
    assert len(ctx.captured_queries) == 2
    for query in ctx.captured_queries:
        # Program has a default ordering: first() would have compiled and sent it.
        assert "ORDER BY" not in query["sql"] and query["sql"].endswith("LIMIT 1")


def test_by_key_keeps_select_and_prefetch_related(in_tenant_a):
    level = LevelFactory(name="Level 2")
    offering = OfferingFactory()
    offering.levels.set([level])
    qs = Offering.objects.select_related("program").prefetch_related("levels")
    with CaptureQueriesContext(connection) as ctx:
        found = by_key(qs.filter(pk=offering.pk))
        assert found.program.pk == offering.program_id
        assert list(found.levels.all()) == [level]
    assert len(ctx.captured_queries) == 2  # the offering with its program, then its levels


def test_attached_rows_are_served_without_a_query_and_anything_else_queries(in_tenant_a):
    first, second = LevelFactory(name="A"), LevelFactory(name="B")
    offering = OfferingFactory()
    offering.levels.set([first, second])
    fresh = Offering.objects.get(pk=offering.pk)
    assert not prefetch.attached(fresh, "levels")
    prefetch.attach(fresh, "levels", Level, {"offerings": fresh.pk}, [second])
    assert prefetch.attached(fresh, "levels")
    with CaptureQueriesContext(connection) as ctx:
        assert list(fresh.levels.all()) == [second]  # what was attached, as it was given
        assert len(fresh.levels.all()) == 1
    assert ctx.captured_queries == []
    # Filtering or ordering reads the relation afresh, whatever was attached.
    assert set(fresh.levels.all().filter(name__in=["A", "B"])) == {first, second}
    assert prefetch.attached(Offering.objects.prefetch_related("levels").get(pk=fresh.pk), "levels")


def test_sql_literals_write_only_plain_choice_values():
    from portal.enrollment.models import Hold

    assert sql_literals(Hold.SEAT_TAKING) == "'active', 'offer'"
    assert sql_literals(["reserved"]) == "'reserved'"
    for bad in (["x'; DROP TABLE y; --"], ["Active"], [""], ["a b"]):
        with pytest.raises(ValueError):
            sql_literals(bad)
