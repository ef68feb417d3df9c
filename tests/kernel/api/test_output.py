"""kernel.api.output.Output: the fields built once per class answer exactly what DRF's
per-instance fields answer, and a serializer that could not share them is refused."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework import serializers

from kernel.api.output import Output


def declare(base):
    """The same serializers on either base: nested, many, a method field, a source path, a
    time in the active zone."""

    class Ref(base):
        id = serializers.IntegerField()
        name = serializers.CharField()

    class Line(base):
        kind = serializers.ChoiceField(choices=["tuition", "fee"])
        amount = serializers.IntegerField()

    class Order(base):
        id = serializers.IntegerField()
        student = Ref()
        offering = Ref(allow_null=True)
        billing = serializers.CharField(source="offering.billing", default="")
        lines = Line(many=True, source="all_lines")
        days = serializers.ListField(child=serializers.DateField())
        created_at = serializers.DateTimeField()
        due = serializers.SerializerMethodField()

        def get_due(self, order) -> int:
            return sum(line.amount for line in order.all_lines)

    return Order


def orders():
    ref = SimpleNamespace(id=7, name="Rec Gym", billing="term")
    lines = [SimpleNamespace(kind="tuition", amount=12000), SimpleNamespace(kind="fee", amount=500)]
    at = datetime(2026, 9, 1, 15, 30, tzinfo=UTC)
    return [
        SimpleNamespace(id=1, student=ref, offering=ref, all_lines=lines, days=[], created_at=at),
        SimpleNamespace(
            id=2,
            student=ref,
            offering=None,
            all_lines=lines[:1],
            days=[date(2026, 7, 6)],
            created_at=at,
        ),
    ]


def test_it_answers_what_drf_answers_and_builds_its_fields_once():
    plain, shared = declare(serializers.Serializer), declare(Output)
    with timezone.override("America/Chicago"):
        expected = plain(orders(), many=True).data
        assert shared(orders(), many=True).data == expected
        assert shared(orders()[1]).data == expected[1]
    assert expected[0]["created_at"] == "2026-09-01T10:30:00-05:00"
    assert expected[1]["offering"] is None and expected[0]["due"] == 12500
    # One set of fields for every instance (DRF builds a new set each time).
    assert shared().fields is shared().fields
    assert plain().fields is not plain().fields
    nested = shared().fields["lines"].child
    assert nested.fields is type(nested)().fields


def test_threads_share_one_set_of_fields():
    shared = declare(Output)
    seen: list = []
    barrier = threading.Barrier(8)

    def build():
        barrier.wait()
        seen.append(shared().fields)

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(fields is seen[0] for fields in seen)


def test_a_serializer_that_chooses_its_fields_at_run_time_is_refused():
    class Dynamic(Output):
        id = serializers.IntegerField()

        def get_fields(self):
            return {"id": serializers.IntegerField()}

    with pytest.raises(TypeError, match="chooses its fields at run time"):
        _ = Dynamic(SimpleNamespace(id=1)).data


def test_it_reads_no_input():
    shared = declare(Output)
    with pytest.raises(TypeError, match="output serializer"):
        shared(data={"id": 1}).is_valid()


def test_the_api_schema_describes_an_answer_as_before():
    """drf-spectacular takes a serializer's description from the first docstring in its class's
    ancestry below DRF's own: ``Output`` adds none (mobile/api/family.json stays as it was)."""
    from drf_spectacular.plumbing import get_doc

    plain, shared = declare(serializers.Serializer), declare(Output)
    assert get_doc(shared) == get_doc(plain) == ""
