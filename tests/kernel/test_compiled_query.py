"""kernel.queries.CompiledQuery: a hot read composed and compiled once per connection, then run
with each call's values. The rows must be exactly what the queryset itself gives (fields,
select_related objects, prefetches, order), in whichever business's schema the connection is
in, and every shape it cannot fill in safely is refused the first time it is compiled."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Value
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from kernel.queries import CompiledQuery, by_key, prepared_cursor
from portal.accounts.models import Student
from portal.catalog.models import Offering, Program
from tests.factories import FamilyFactory, LevelFactory, OfferingFactory, StudentFactory

pytestmark = pytest.mark.django_db


def _students(student_id, family_id):
    return Student.objects.select_related("level__program").filter(
        pk=student_id, family_id=family_id
    )


STUDENT = CompiledQuery(_students, student_id=int, family_id=int)


def test_one_gives_the_querysets_row_with_its_related_objects_in_one_statement(in_tenant_a):
    level = LevelFactory(name="Level 3")
    student = StudentFactory(first_name="Mia", level=level)
    expected = by_key(_students(student.pk, student.family_id))
    with CaptureQueriesContext(connection) as ctx:
        found = STUDENT.one(student_id=student.pk, family_id=student.family_id)
        assert found is not None
        assert found.level.program.name == level.program.name  # no statement: joined
    assert len(ctx.captured_queries) == 1
    assert "ORDER BY" not in ctx.captured_queries[0]["sql"]
    assert ctx.captured_queries[0]["sql"].endswith("LIMIT 1")
    fields = [f.attname for f in Student._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert found.level == level and found.level.name == "Level 3"
    assert found._state.adding is False and found._state.db == "default"
    # A student with no level: the join's empty side is None, as the ORM gives it.
    plain = StudentFactory(first_name="Leo", level=None)
    assert STUDENT.one(student_id=plain.pk, family_id=plain.family_id).level is None


def test_each_call_fills_in_its_own_values_and_none_when_nothing_matches(in_tenant_a):
    mia = StudentFactory(first_name="Mia")
    leo = StudentFactory(first_name="Leo")
    assert STUDENT.one(student_id=mia.pk, family_id=mia.family_id) == mia
    assert STUDENT.one(student_id=leo.pk, family_id=leo.family_id) == leo
    # Another family's student is not found by this family.
    assert STUDENT.one(student_id=leo.pk, family_id=mia.family_id) is None
    assert STUDENT.one(student_id=mia.pk + 10_000, family_id=mia.family_id) is None


def test_it_is_composed_and_compiled_once_per_connection(in_tenant_a):
    builds = []

    def build(program_id):
        builds.append(program_id)
        return Program.objects.filter(pk=program_id)

    lookup = CompiledQuery(build, program_id=int)
    programs = [LevelFactory().program for _ in range(3)]
    for program in programs:
        assert lookup.one(program_id=program.pk) == program
    # Twice, with two sets of stand-in values (never a family's), to see the statement is the
    # same whatever the values; then never again on this connection.
    assert len(builds) == 2
    assert not set(builds) & {p.pk for p in programs}
    # Only ints and strs are compiled in.
    with pytest.raises(TypeError, match="int or a str"):
        CompiledQuery(build, program_id=float)


def test_values_of_another_type_run_through_the_orm_as_the_queryset_is_written(in_tenant_a):
    """A form's text for an id, or None: the ORM converts or refuses it as it always would,
    so callers need no branch of their own. The names are the declared ones."""
    mia = StudentFactory(first_name="Mia")
    with CaptureQueriesContext(connection) as ctx:
        assert STUDENT.one(student_id=str(mia.pk), family_id=mia.family_id) == mia
    assert "ORDER BY" not in ctx.captured_queries[0]["sql"]  # one(): no ordering, LIMIT 1
    assert ctx.captured_queries[0]["sql"].endswith("LIMIT 1")
    assert STUDENT.one(student_id=None, family_id=mia.family_id) is None
    with pytest.raises(ValueError):
        STUDENT.one(student_id="seven", family_id=mia.family_id)
    with pytest.raises(TypeError, match="takes"):
        STUDENT.one(student_id=mia.pk)


def test_the_same_statement_reads_the_schema_the_connection_is_in(in_tenant_a, tenant_b):
    """The statement is prepared by PostgreSQL (``prepared_cursor``), which parses it again
    when ``search_path`` changed: a connection moving between businesses reads each one's own
    table."""
    in_a = StudentFactory(first_name="Mia")
    assert STUDENT.one(student_id=in_a.pk, family_id=in_a.family_id) == in_a
    assert any('"portal_accounts_student"' in sql for sql in _prepared_statements())
    connection.set_tenant(tenant_b)
    try:
        in_b = StudentFactory(first_name="Ana")
        for _ in range(2):
            assert STUDENT.one(student_id=in_b.pk, family_id=in_b.family_id).first_name == "Ana"
            # Tenant A's row is not seen from tenant B's schema, even with its ids.
            found = STUDENT.one(student_id=in_a.pk, family_id=in_a.family_id)
            assert found is None or found.first_name != "Mia"
    finally:
        connection.set_tenant(in_tenant_a)
    assert STUDENT.one(student_id=in_a.pk, family_id=in_a.family_id).first_name == "Mia"


def test_all_keeps_the_order_annotations_and_prefetches(in_tenant_a):
    family = FamilyFactory()
    kids = [StudentFactory(family=family, first_name=name) for name in ("Zoe", "Ana", "Mia")]
    lookup = CompiledQuery(
        lambda family_id: (
            Student.objects.filter(family_id=family_id)
            .annotate(flag=Value(7))
            .order_by("first_name")
        ),
        family_id=int,
    )
    found = lookup.all(family_id=family.pk)
    assert [s.first_name for s in found] == ["Ana", "Mia", "Zoe"]
    assert {s.pk for s in found} == {k.pk for k in kids}
    assert all(s.flag == 7 for s in found)
    assert lookup.all(family_id=family.pk + 10_000) == []

    level = LevelFactory(name="Level 1")
    offering = OfferingFactory(name="Tumble Tots")
    offering.levels.add(level)
    with_levels = CompiledQuery(
        lambda offering_id: Offering.objects.prefetch_related("levels").filter(pk=offering_id),
        offering_id=int,
    )
    with CaptureQueriesContext(connection) as ctx:
        got = with_levels.one(offering_id=offering.pk)
        assert [lv.name for lv in got.levels.all()] == ["Level 1"]
    assert len(ctx.captured_queries) == 2  # the row and its prefetch; none when reading it


@pytest.mark.parametrize(
    "build, values, message",
    [
        # A value that reaches the SQL twice cannot be filled in.
        (
            lambda n: Program.objects.filter(pk=n) | Program.objects.filter(pk__gt=n),
            {"n": 1},
            "2 times",
        ),
        # Nor one the database backend wraps (psycopg's Int2 for a small integer column): the
        # parameter would stay the stand-in. Seen because the two compilations differ.
        (
            lambda n: Program.objects.filter(pk=n) | Program.objects.filter(sort_order=n),
            {"n": 1},
            "changes with the values",
        ),
        # Wrapped in a pattern: the value never reaches the SQL as itself.
        (lambda name: Program.objects.filter(name__contains=name), {"name": "a"}, "0 times"),
        (lambda n: Program.objects.filter(pk=n).values("name"), {"n": 1}, "model instances"),
        (lambda n: Offering.objects.with_search_related().filter(pk=n), {"n": 1}, "adds to"),
        (lambda name: Program.objects.filter(name=name), {"name": b"x"}, "int or a str"),
        # Its statement is kept on the default connection.
        (lambda n: Program.objects.using("replica").filter(pk=n), {"n": 1}, "'replica'"),
    ],
)
def test_shapes_it_cannot_fill_in_safely_are_refused_when_compiled(
    in_tenant_a, build, values, message
):
    with pytest.raises(TypeError, match=message):
        CompiledQuery(build, **{name: type(value) for name, value in values.items()}).one(**values)


def test_a_queryset_class_that_says_it_is_plain_is_accepted(in_tenant_a):
    offering = OfferingFactory(name="Open gym")
    lookup = CompiledQuery(lambda n: Offering.objects.published().filter(pk=n), n=int)
    assert lookup.one(n=offering.pk) == offering
    offering.status = Offering.Status.DRAFT
    offering.save(update_fields=["status"])
    assert lookup.one(n=offering.pk) is None


def test_a_locking_read_runs_only_inside_a_transaction(in_tenant_a, monkeypatch):
    program = LevelFactory().program
    lookup = CompiledQuery(lambda n: Program.objects.select_for_update().filter(pk=n), n=int)
    with CaptureQueriesContext(connection) as ctx:
        assert lookup.all(n=program.pk) == [program]  # the test's transaction
    assert ctx.captured_queries[0]["sql"].endswith("FOR UPDATE")
    # Outside one (autocommit), as Django refuses it when it compiles such a queryset.
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)
    with pytest.raises(TransactionManagementError, match="outside of a transaction"):
        lookup.all(n=program.pk)


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {statement for (statement,) in cursor.fetchall()}


def test_a_compiled_read_is_prepared_by_postgresql_and_nothing_else_is(in_tenant_a):
    """``prepared_cursor`` binds on the server and has psycopg prepare the statement on its
    first run: PostgreSQL stops parsing and planning it (docs/rush.md, "Tenth pass"). Each run
    is still one statement Django's wrapper sees. The connection's other statements are not
    prepared, nor counted by psycopg (its threshold stays off between prepared reads)."""
    mia = StudentFactory(first_name="Mia")
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            assert STUDENT.one(student_id=mia.pk, family_id=mia.family_id) == mia
    assert len(ctx.captured_queries) == 3
    # Django logs the prepared runs' statement as any other (its parameters as $1, $2).
    assert all('"portal_accounts_student"' in q["sql"] for q in ctx.captured_queries)
    prepared = _prepared_statements()
    assert any('"portal_accounts_student"' in sql for sql in prepared)
    assert not any("pg_prepared_statements" in sql for sql in prepared)
    assert connection.connection.prepare_threshold is None


def test_the_prepared_cursor_runs_selects_only(in_tenant_a):
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone() == (42,)
        with pytest.raises(ValueError, match="SELECT statements only"):
            cursor.execute("UPDATE portal_catalog_offering SET seats_taken = 0")


def test_the_prepared_cursor_gives_timestamps_in_djangos_time_zone(in_tenant_a):
    from django.utils import timezone

    now = timezone.now()
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [now])
        (back,) = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [now])
        (expected,) = cursor.fetchone()
    assert back == now == expected and back.tzinfo == expected.tzinfo
