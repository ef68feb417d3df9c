"""The database refuses a second live absence for a meeting, a second pending drop or transfer
for an enrollment, and the services turn that refusal into the same 409 their own checks give
(API and web), changing nothing. The migration that adds the constraints cancels the
duplicates races left behind."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models.query import QuerySet

from portal.config.services import portal_settings_update
from portal.requests.models import MakeupToken, Request
from tests.factories import ProgramFactory
from tests.helpers import assert_error, signed_in, tenant_today
from tests.portal.enrollment_helpers import enroll, make_offering, next_weekday

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def enrolled(family_a):
    program = ProgramFactory(name="Gymnastics")
    offering = make_offering(
        name="Rec Gym", program=program, capacity=5, start_date=next_weekday(0, after_days=1)
    )
    target = make_offering(
        name="Rec Gym Thu", program=program, weekdays=[3], start_date=next_weekday(3, 1)
    )
    return family_a, enroll(family_a.family, family_a.student, offering), target


@pytest.fixture
def check_missed(monkeypatch):
    """What the loser of a race sees: the service's "already requested" check finds nothing
    (the winner had not committed yet), so only the database stands in the way."""
    real = QuerySet.exists
    monkeypatch.setattr(QuerySet, "exists", lambda qs: False if qs.model is Request else real(qs))


def post(actor, **body):
    return actor.client().post(
        f"{API}/requests", json.dumps(body, default=str), content_type="application/json"
    )


def test_a_second_absence_past_the_check_is_refused_and_issues_no_token(enrolled, check_missed):
    actor, enrollment, _ = enrolled
    day = enrollment.offering.meetings()[1]
    assert (
        post(actor, type="absence", enrollment=enrollment.pk, meeting_date=day).status_code == 201
    )
    assert_error(
        post(actor, type="absence", enrollment=enrollment.pk, meeting_date=day),
        409,
        "absence_already_reported",
        "This absence is already reported.",
    )
    web = signed_in(actor.tenant, actor.guardian.email)
    response = web.post(
        f"/requests/absence/{enrollment.pk}/", {"meeting_date": day.isoformat(), "reason": ""}
    )
    assert response.status_code == 409
    assert "This absence is already reported." in response.content.decode()
    assert Request.objects.filter(type="absence").count() == 1
    assert MakeupToken.objects.count() == 1


def test_a_second_drop_past_the_check_is_refused(enrolled, check_missed):
    today = tenant_today()
    actor, enrollment, _ = enrolled
    later = today + timedelta(days=20)
    body = dict(type="drop", enrollment=enrollment.pk, effective_date=later, reason="Moving")
    assert post(actor, **body).status_code == 201
    assert_error(post(actor, **body), 409, "drop_already_requested")
    web = signed_in(actor.tenant, actor.guardian.email)
    response = web.post(
        f"/requests/drop/{enrollment.pk}/",
        {"effective_date": later.isoformat(), "reason": "Again"},
    )
    assert response.status_code == 409
    assert "A drop is already requested for this enrollment." in response.content.decode()
    assert Request.objects.filter(type="drop").count() == 1


@pytest.mark.parametrize(
    ("one_transfer", "code"), [(True, "transfer_limit"), (False, "transfer_already_requested")]
)
def test_a_second_transfer_past_the_check_is_refused(enrolled, check_missed, one_transfer, code):
    actor, enrollment, target = enrolled
    portal_settings_update(one_transfer_per_enrollment=one_transfer)
    body = dict(type="transfer", enrollment=enrollment.pk, offering=target.pk)
    assert post(actor, **body).status_code == 201
    assert_error(post(actor, **body), 409, code)
    web = signed_in(actor.tenant, actor.guardian.email)
    response = web.post(f"/requests/transfer/{enrollment.pk}/", {"offering": target.pk})
    assert response.status_code == 409
    assert Request.objects.filter(type="transfer").count() == 1


def test_without_the_setting_a_second_pending_transfer_is_refused_by_the_check(enrolled):
    actor, enrollment, target = enrolled
    portal_settings_update(one_transfer_per_enrollment=False)
    body = dict(type="transfer", enrollment=enrollment.pk, offering=target.pk)
    assert post(actor, **body).status_code == 201
    assert_error(
        post(actor, **body),
        409,
        "transfer_already_requested",
        "A transfer is already requested for this enrollment.",
    )


def test_a_cancelled_or_denied_request_does_not_block_a_new_one(enrolled):
    today = tenant_today()
    actor, enrollment, _ = enrolled
    later = today + timedelta(days=20)
    body = dict(type="drop", enrollment=enrollment.pk, effective_date=later, reason="Moving")
    first = post(actor, **body).json()
    assert actor.client().post(f"{API}/requests/{first['id']}/cancel").status_code == 200
    assert post(actor, **body).status_code == 201
    assert Request.objects.filter(type="drop").count() == 2


def test_the_database_refuses_duplicates_whoever_writes_them(enrolled):
    today = tenant_today()
    _, enrollment, _ = enrolled
    day = enrollment.offering.meetings()[1]
    fields = dict(
        family_id=enrollment.family_id, student_id=enrollment.student_id, enrollment=enrollment
    )
    Request.objects.create(type="absence", meeting_date=day, status="approved", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.create(type="absence", meeting_date=day, **fields)
    Request.objects.create(type="drop", effective_date=today, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.create(type="drop", effective_date=today, **fields)


BEFORE = [("portal_requests", "0002_initial")]


# Runs Django's migration executor back to an old state and forward again over the live schema
# (the DDL of every migration in between, and the project state rendered twice): the slowest
# tests of the fast loop, and about a migration that ran once; `make test` and CI run it.
@pytest.mark.integration
def test_the_migration_cancels_duplicates_and_their_unused_tokens(enrolled):
    today = tenant_today()
    _, enrollment, _ = enrolled
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    old = executor.loader.project_state(BEFORE).apps
    OldRequest = old.get_model("portal_requests", "Request")
    OldToken = old.get_model("portal_requests", "MakeupToken")
    day, other_day = enrollment.offering.meetings()[1:3]
    fields = dict(
        family_id=enrollment.family_id,
        student_id=enrollment.student_id,
        enrollment_id=enrollment.pk,
    )

    def token():
        return OldToken.objects.create(
            family_id=enrollment.family_id,
            student_id=enrollment.student_id,
            program_id=enrollment.offering.program_id,
            kind="class",
            expires_on=today + timedelta(days=60),
        )

    pending = OldRequest.objects.create(type="absence", meeting_date=day, **fields)
    approved = OldRequest.objects.create(
        type="absence", meeting_date=day, status="approved", issued_token=token(), **fields
    )
    duplicate = OldRequest.objects.create(
        type="absence", meeting_date=day, status="approved", issued_token=token(), **fields
    )
    used = token()
    used.status = "redeemed"
    used.save()
    redeemed = OldRequest.objects.create(
        type="absence", meeting_date=day, status="approved", issued_token=used, **fields
    )
    alone = OldRequest.objects.create(type="absence", meeting_date=other_day, **fields)
    drops = [OldRequest.objects.create(type="drop", effective_date=today, **fields) for _ in "ab"]
    transfers = [
        OldRequest.objects.create(type="transfer", target_offering_id=enrollment.offering_id,
                                  **fields)
        for _ in "ab"
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    def status(req):
        return Request.objects.get(pk=req.pk).status

    # The decided one stays (the oldest of those); the rest are cancelled.
    assert status(approved) == "approved"
    assert [status(r) for r in (pending, duplicate, redeemed)] == ["cancelled"] * 3
    assert status(alone) == "pending"
    assert [status(r) for r in drops] == ["pending", "cancelled"]
    assert [status(r) for r in transfers] == ["pending", "cancelled"]
    tokens = {
        t.pk: t.status
        for t in MakeupToken.objects.filter(issued_by__in=[approved.pk, duplicate.pk, redeemed.pk])
    }
    # A token already used keeps its state: the makeup it paid for happened.
    assert tokens == {
        approved.issued_token_id: "available",
        duplicate.issued_token_id: "expired",
        used.pk: "redeemed",
    }
