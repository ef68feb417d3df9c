"""Staff decide families' requests through one service (``request_decide``), which the console,
the staff API and the Django admin all call: approve (what the approval does per type), deny
with the reason the family reads, refusals that change nothing (stale, bad input, unknown),
the inbox items it writes and marks, and the staff lists' filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from kernel.errors import ApplicationError
from portal.activity.models import ActivityItem
from portal.billing.models import LedgerEntry
from portal.enrollment.models import Enrollment, Order
from portal.privacy.models import AuditEntry
from portal.requests import selectors, services
from portal.requests.models import MakeupToken, Request
from tests.helpers import make_actor, tenant_today
from tests.portal.request_helpers import pending_requests

pytestmark = pytest.mark.django_db


def refused(code: str, call, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        call(**kwargs)
    assert info.value.code == code, (info.value.code, info.value.message)
    return info.value


def snapshot() -> tuple:
    return (
        sorted(Request.objects.values_list("pk", "status", "staff_note", "decided_at")),
        Enrollment.objects.filter(status="active").count(),
        MakeupToken.objects.count(),
        LedgerEntry.objects.count(),
        Order.objects.count(),
        sorted(ActivityItem.objects.values_list("pk", "processed_at")),
    )


@pytest.fixture
def desk(in_tenant_a):
    actor = make_actor(in_tenant_a, email="decider@alpha.test", role="front_desk")
    connection.set_tenant(in_tenant_a)
    return actor.user


def test_approving_each_type_does_what_the_request_asks(
    in_tenant_a, desk, django_capture_on_commit_callbacks
):
    today = tenant_today()
    asks = pending_requests()
    with django_capture_on_commit_callbacks(execute=True):
        absence = services.request_decide(
            request_id=asks.absence.pk, approve=True, note="Feel better", by=desk
        )
    assert absence.status == "approved" and absence.decided_by == desk
    assert absence.issued_token is not None  # the business's rule: an absence gives a makeup
    assert any("absence request" in m.subject and "approved" in m.subject for m in mail.outbox)
    assert any("Feel better" in m.body for m in mail.outbox)
    drop = services.request_decide(request_id=asks.drop.pk, approve=True, by=desk)
    assert Enrollment.objects.get(pk=asks.other_enrollment.pk).end_date == today + timedelta(14)
    transfer = services.request_decide(request_id=asks.transfer.pk, approve=True, by=desk)
    assert Enrollment.objects.get(pk=asks.enrollment.pk).status == "transferred"
    assert Enrollment.objects.get(offering=asks.target, status="active").student == asks.student
    assert transfer.price_difference > 0
    assert Order.objects.filter(kind="adjustment", family=asks.family).exists()  # owed
    assert {drop.status, transfer.status} == {"approved"}


def test_denying_needs_a_reason_the_family_reads(
    in_tenant_a, desk, django_capture_on_commit_callbacks
):
    asks = pending_requests()
    before = snapshot()
    for note in ("", "   ", None):
        error = refused(
            "deny_reason_required",
            services.request_decide,
            request_id=asks.drop.pk,
            approve=False,
            note=note,
            by=desk,
        )
        assert error.status == 400
        assert error.fields == {"note": ["Give the family the reason for the denial."]}
    assert snapshot() == before
    with django_capture_on_commit_callbacks(execute=True):
        denied = services.request_decide(
            request_id=asks.drop.pk, approve=False, note="  Term fees are due.  ", by=desk
        )
    assert (denied.status, denied.staff_note, denied.decided_by) == (
        "denied",
        "Term fees are due.",
        desk,
    )
    assert Enrollment.objects.get(pk=asks.other_enrollment.pk).end_date is None  # untouched
    (email,) = [m for m in mail.outbox if "drop request" in m.subject]
    assert "denied" in email.subject and "Term fees are due." in email.body


def test_stale_decisions_are_refused_and_change_nothing(in_tenant_a, desk):
    asks = pending_requests()
    services.request_decide(request_id=asks.absence.pk, approve=True, by=desk)
    services.request_cancel(family=asks.family, request_id=asks.drop.pk)
    before = snapshot()
    outbox = len(mail.outbox)
    for approve in (True, False):
        error = refused(
            "request_not_pending",
            services.request_decide,
            request_id=asks.absence.pk,
            approve=approve,
            note="Again",
            by=desk,
        )
        assert error.status == 409
        assert error.message.startswith("This request was already approved by decider@alpha.test")
        assert error.message.endswith("nothing was changed.")
    cancelled = refused(
        "request_not_pending",
        services.request_decide,
        request_id=asks.drop.pk,
        approve=True,
        by=desk,
    )
    assert cancelled.message == "The family cancelled this request; there is nothing to decide."
    assert snapshot() == before and len(mail.outbox) == outbox
    assert MakeupToken.objects.count() == 1  # the first approval's only


def test_bad_input_and_unknown_requests_change_nothing(in_tenant_a, desk):
    asks = pending_requests()
    before = snapshot()
    for approve in ("yes", 1, None):
        refused("invalid_input", services.request_decide, request_id=asks.absence.pk,
                approve=approve, by=desk)  # fmt: skip
    for note in ("x" * 2001, "nul\x00byte", ["a list"]):
        refused("invalid_input", services.request_decide, request_id=asks.absence.pk,
                approve=True, note=note, by=desk)  # fmt: skip
    assert refused("request_not_found", services.request_decide, request_id=999999,
                   approve=True, by=desk).status == 404  # fmt: skip
    assert snapshot() == before


def test_a_full_class_refuses_the_transfer_and_changes_nothing(in_tenant_a, desk):
    asks = pending_requests()
    type(asks.target).objects.filter(pk=asks.target.pk).update(capacity=0)
    before = snapshot()
    refused("offering_full", services.request_decide, request_id=asks.transfer.pk,
            approve=True, by=desk)  # fmt: skip
    assert snapshot() == before
    assert Request.objects.get(pk=asks.transfer.pk).status == "pending"


def test_another_businesss_request_is_not_found(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        asks = pending_requests()
    with tenant_context(tenant_b):
        error = refused("request_not_found", services.request_decide,
                        request_id=asks.absence.pk, approve=True)  # fmt: skip
        assert error.status == 404
        refused("request_not_found", selectors.staff_request_get, request_id=asks.absence.pk)
        assert list(selectors.staff_request_list(status="all")) == []
    with tenant_context(tenant_a):
        assert Request.objects.get(pk=asks.absence.pk).status == "pending"


def test_a_decision_processes_the_familys_inbox_item_and_keeps_its_own(in_tenant_a, desk):
    asks = pending_requests()
    label = Request._meta.label_lower
    about = ActivityItem.objects.filter(object_type=label, object_id=str(asks.drop.pk))
    (asked,) = about
    assert asked.summary == "Mia: asked for drop" and asked.processed_at is None
    services.request_decide(request_id=asks.drop.pk, approve=False, note="No", by=desk)
    asked.refresh_from_db()
    assert asked.processed_at is not None and asked.processed_by == desk
    decided = about.exclude(pk=asked.pk).get()
    assert (decided.kind, decided.summary, decided.processed_by) == (
        "request",
        "Mia: drop denied",
        desk,
    )
    trail = AuditEntry.objects.get(object_id=str(asked.pk), action="activity_processed")
    assert trail.fields == {"kind": "request", "via": "request_decided"}
    # Nothing about it is left to process; the other requests' items still are.
    assert not about.filter(processed_at__isnull=True).exists()
    assert ActivityItem.objects.filter(kind="request", processed_at__isnull=True).count() == 2


def test_an_absence_approved_by_the_rule_lands_in_the_inbox(in_tenant_a):
    from portal.config.services import portal_settings_update

    asks = pending_requests()
    portal_settings_update(absences_auto_approve=True)
    req = services.absence_request(
        family=asks.family,
        enrollment_id=asks.enrollment.pk,
        meeting_date=asks.enrollment.offering.meetings()[3],
    )
    assert req.status == "approved"
    item = ActivityItem.objects.get(object_id=str(req.pk), object_type="portal_requests.request")
    assert item.summary == "Mia: asked for absence" and item.processed_at is None


def test_staff_lists_filter_by_status_type_class_and_day(in_tenant_a, desk):
    today = tenant_today()
    asks = pending_requests()
    others = pending_requests("other@alpha.test", first_name="Leo")
    Request.objects.filter(pk=others.absence.pk).update(created_at=others.absence.created_at
                                                        - timedelta(days=10))  # fmt: skip
    services.request_decide(request_id=asks.absence.pk, approve=True, by=desk)

    def ids(**filters) -> list[int]:
        return [r.pk for r in selectors.staff_request_list(**filters)]

    pending = ids()
    assert asks.absence.pk not in pending and len(pending) == 5
    assert pending[0] == others.absence.pk  # the oldest first: a queue
    assert ids(status="approved") == [asks.absence.pk]
    assert set(ids(type="drop")) == {asks.drop.pk, others.drop.pk}
    assert ids(status="all", type="transfer", offering=str(asks.target.pk)) == [asks.transfer.pk]
    # The class filter matches a request's own class and the class it goes to.
    assert set(ids(status="all", offering=asks.enrollment.offering_id)) == {
        asks.absence.pk,
        asks.transfer.pk,
    }
    # The business's day (its time zone), as the filter counts it.
    old_day = timezone.localdate(others.absence.created_at - timedelta(days=10)).isoformat()
    assert ids(since=old_day, until=old_day) == [others.absence.pk]
    assert others.absence.pk not in ids(since=today.isoformat())
    for filters, field in (
        ({"status": "maybe"}, "status"),
        ({"type": "refund"}, "type"),
        ({"offering": "abc"}, "offering"),
        ({"offering": "-3"}, "offering"),
        ({"since": "2026-13-01"}, "since"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "until"),
    ):
        error = refused("invalid_filter", selectors.staff_request_list, **filters)
        assert list(error.fields) == [field], filters
    offerings = {o.name for o in selectors.staff_request_offerings()}
    assert offerings == {"Rec Gym Mon", "Rec Gym Wed", "Rec Gym Thu"}
    assert selectors.staff_requests_pending_count() == 5
