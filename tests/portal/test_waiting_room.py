"""The registration opening's waiting room (portal.catalog.waiting_room) and its API: the
pre-queue shuffled at the opening, FIFO after, pacing (a fixed rate, or checkout's own pace),
one pass per family, passes required for cart add and checkout, staff watch and pause, and
tenant isolation."""

from __future__ import annotations

import math
import time as time_module
from dataclasses import replace
from datetime import time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.catalog import waiting_room
from portal.catalog.models import RegistrationOpening
from portal.enrollment import services
from portal.enrollment.models import Hold
from portal.orders import services as orders
from tests.helpers import assert_error, client_for, make_actor
from tests.portal.enrollment_helpers import accept_policies, make_family, make_offering

pytestmark = pytest.mark.django_db


def make_opening(offerings, *, opens_in: float = -1.0, **kwargs) -> RegistrationOpening:
    opening = RegistrationOpening.objects.create(
        name=kwargs.pop("name", "Fall registration"),
        opens_at=timezone.now() + timedelta(seconds=opens_in),
        **kwargs,
    )
    opening.offerings.set(offerings)
    return opening


@pytest.fixture(autouse=True)
def _clean_queues():
    yield
    for schema in ("alpha", "beta"):
        try:
            connection.set_schema(schema)
            for opening in RegistrationOpening.objects.all():
                waiting_room.queue_clear(opening=opening)
        except Exception:  # noqa: S110 - the schema may not exist in this test
            pass
    waiting_room.configs_clear()
    connection.set_schema_to_public()


def at(opening, seconds: float):
    return opening.opens_at + timedelta(seconds=seconds)


def test_pre_queue_is_shuffled_at_the_opening_and_later_arrivals_queue_in_order(in_tenant_a):
    opening = make_opening([make_offering()], opens_in=60, checkout_slots=1, pass_minutes=5)
    early = list(range(1, 41))
    for family_id in early:
        state = waiting_room.queue_join(
            opening_id=opening.pk, family_id=family_id, now=at(opening, -30)
        )
        assert state.state == "before_opening" and state.position is None
        assert state.seconds_to_open == 30
    # Joining again (another tab) keeps the place.
    waiting_room.queue_join(opening_id=opening.pk, family_id=1, now=at(opening, -20))
    for family_id in (101, 102, 103):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id, now=at(opening, 1))
    positions = {
        f: waiting_room.queue_status(opening_id=opening.pk, family_id=f, now=at(opening, 2))
        for f in [*early, 101, 102, 103]
    }
    admitted = [f for f, s in positions.items() if s.state == "admitted"]
    assert len(admitted) == 1 and admitted[0] in early  # one slot: an early arrival first
    waiting = {f: s.position for f, s in positions.items() if s.state == "waiting"}
    assert sorted(waiting.values()) == list(range(1, 43))
    # Every early arrival is ahead of every later one; the later ones keep their order.
    assert max(waiting[f] for f in early if f in waiting) < waiting[101]
    assert waiting[101] < waiting[102] < waiting[103]
    # The shuffle is not the order of arrival.
    order = sorted((p, f) for f, p in waiting.items() if f in early)
    assert [f for _, f in order] != sorted(f for _, f in order)
    assert all(
        s.estimated_wait_seconds and s.estimated_wait_seconds > 0
        for s in positions.values()
        if s.state == "waiting"
    )


def test_a_join_read_just_before_the_opening_that_lands_after_the_shuffle_is_in_line(in_tenant_a):
    """Found by the opening benchmark: a join whose clock read 5 ms before the opening, run
    after another process's poll (its clock a few ms later) had shuffled the pre-queue, was
    queued in order but told ``not_joined``: its status still read "before the opening" and
    looked only in the pre-queue."""
    opening = make_opening([make_offering()], opens_in=60, checkout_slots=1, pass_minutes=5)
    for family_id in (1, 2):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id, now=at(opening, -30))
    # Another process's poll, a few milliseconds past the opening: the shuffle runs.
    waiting_room.queue_status(opening_id=opening.pk, family_id=1, now=at(opening, 0.003))
    late = waiting_room.queue_join(opening_id=opening.pk, family_id=3, now=at(opening, -0.005))
    assert late.state == "waiting"
    assert late.position == 2  # behind the one early family still waiting (one slot)
    again = waiting_room.queue_status(opening_id=opening.pk, family_id=3, now=at(opening, 1))
    assert (again.state, again.position) == ("waiting", 2)


def test_fixed_rate_paces_admission_and_pause_stops_it(in_tenant_a):
    opening = make_opening([make_offering()], opens_in=-1, admit_per_minute=60)
    for family_id in range(1, 11):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id, now=at(opening, 0))
    config = waiting_room.opening_config(opening.pk)
    waiting_room.advance(config, at(opening, 0.2))
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 0.3))
    assert overview["admitted"] == 0  # a second per family: none yet in 0.3 s
    waiting_room.advance(config, at(opening, 3.5))
    assert waiting_room.queue_overview(opening=opening, now=at(opening, 3.6))["admitted"] == 2
    waiting_room.opening_pause(opening=opening, paused=True)
    waiting_room.advance(config, at(opening, 10))
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 10.1))
    assert overview["paused"] and overview["admitted"] == 2
    status = waiting_room.queue_status(opening_id=opening.pk, family_id=10, now=at(opening, 10.2))
    assert status.state == "paused" and status.position is not None
    waiting_room.opening_pause(opening=opening, paused=False)
    waiting_room.advance(config, at(opening, 11))
    assert waiting_room.queue_overview(opening=opening, now=at(opening, 11.1))["admitted"] >= 3
    assert waiting_room.queue_overview(opening=opening, now=at(opening, 11.1))["admitted"] <= 4


def test_checkout_paced_admission_lets_one_in_per_finished_checkout(in_tenant_a):
    opening = make_opening([make_offering()], checkout_slots=2, pass_minutes=5)
    for family_id in range(1, 6):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id, now=at(opening, 0))
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 0.1))
    assert overview["checking_out"] == 2 and overview["waiting"] == 3
    first = next(
        f
        for f in range(1, 6)
        if waiting_room.queue_status(opening_id=opening.pk, family_id=f, now=at(opening, 0.2)).state
        == "admitted"
    )
    waiting_room.family_checked_out(family_id=first, openings=[opening], now=at(opening, 1))
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 1.2))
    assert overview["checking_out"] == 2 and overview["waiting"] == 2 and overview["admitted"] == 3
    # A pass that lapses frees its slot too.
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 5 * 60 + 2))
    assert overview["admitted"] == 5 and overview["waiting"] == 0


def test_one_pass_per_family_and_it_expires(in_tenant_a):
    opening = make_opening([make_offering()], checkout_slots=1, pass_minutes=1)
    first = waiting_room.queue_join(opening_id=opening.pk, family_id=7, now=at(opening, 0))
    assert first.state == "admitted" and first.pass_token
    again = waiting_room.queue_join(opening_id=opening.pk, family_id=7, now=at(opening, 5))
    assert again.state == "admitted" and again.pass_expires_at == first.pass_expires_at
    later = waiting_room.queue_status(opening_id=opening.pk, family_id=7, now=at(opening, 61))
    assert later.state == "expired" and not later.pass_token
    back = waiting_room.queue_join(opening_id=opening.pk, family_id=7, now=at(opening, 62))
    assert back.state in ("admitted", "waiting")  # joins at the back of the line


def test_cart_add_and_checkout_need_the_familys_live_pass(family_a):
    offering = make_offering(name="Vault", capacity=5, tuition=0)
    other = make_offering(name="Beam", capacity=5, tuition=0, start_time=time(9), end_time=time(10))
    opening = make_opening([offering], checkout_slots=5)
    family = family_a.family
    accept_policies(family)
    kid = family_a.student.pk
    with pytest.raises(Exception) as refused:
        services.cart_add(family=family, student_id=kid, offering_id=offering.pk)
    assert refused.value.code == "waiting_room_pass_required"
    assert refused.value.fields == {"opening": [str(opening.pk)]}
    assert not Hold.objects.filter(family=family).exists()
    # Not in the opening: no pass needed.
    services.cart_add(family=family, student_id=kid, offering_id=other.pk)
    # Someone else's pass is no pass.
    stranger, _ = make_family("stranger@alpha.test")
    theirs = waiting_room.queue_join(opening_id=opening.pk, family_id=stranger.pk)
    with pytest.raises(Exception) as refused:
        services.cart_add(
            family=family, student_id=kid, offering_id=offering.pk, admission_pass=theirs.pass_token
        )
    assert refused.value.code == "waiting_room_pass_required"
    mine = waiting_room.queue_join(opening_id=opening.pk, family_id=family.pk)
    services.cart_add(
        family=family, student_id=kid, offering_id=offering.pk, admission_pass=mine.pass_token
    )
    with pytest.raises(Exception) as refused:
        orders.checkout(family=family)
    assert refused.value.code == "waiting_room_pass_required"
    order = orders.checkout(family=family, admission_pass=mine.pass_token)
    assert order.status == "confirmed"


def test_opening_ended_needs_no_pass_and_refuses_joins(family_a):
    offering = make_offering(name="Rings", capacity=5, tuition=0)
    opening = make_opening([offering], opens_in=-120)
    opening.ends_at = timezone.now() - timedelta(seconds=1)
    opening.save()
    accept_policies(family_a.family)
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    with pytest.raises(Exception) as refused:
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_a.family.pk)
    assert refused.value.code == "opening_closed"


def test_which_openings_gate_an_offering_is_read_once_per_process_copy(in_tenant_a):
    from django.test.utils import CaptureQueriesContext

    rings, vault = make_offering(name="Rings"), make_offering(name="Vault")
    first = make_opening([rings], opens_in=-60, name="Early")
    second = make_opening([rings, vault], opens_in=-30, name="Late")
    outside = make_offering(name="Beam")
    now = timezone.now()
    found = waiting_room.openings_in_effect([rings.pk], now)
    assert [o.id for o in found] == [first.pk, second.pk]  # first opened first
    with CaptureQueriesContext(connection) as ctx:
        assert [o.id for o in waiting_room.openings_in_effect([vault.pk], now)] == [second.pk]
        assert waiting_room.openings_in_effect([outside.pk], now) == []
    assert len(ctx.captured_queries) == 0  # warm: the process's copies
    # An opening ended since the copy was read is no longer in effect; one deleted since
    # (read inside a transaction that rolled back, say) is skipped, not a 404.
    ended = second.opens_at + timedelta(minutes=5)
    waiting_room._configs[(connection.schema_name, second.pk)] = (
        time_module.monotonic() + 60,
        replace(waiting_room.opening_config(second.pk), ends_at=ended),
    )
    assert [o.id for o in waiting_room.openings_in_effect([rings.pk], ended)] == [first.pk]
    waiting_room._configs.pop((connection.schema_name, first.pk))
    RegistrationOpening.objects.filter(pk=first.pk).delete()  # no signal: the copy stays stale
    assert waiting_room.openings_in_effect([rings.pk], now) == [
        waiting_room.opening_config(second.pk)
    ]


def test_leaving_frees_the_checkout_slot_at_once(in_tenant_a):
    opening = make_opening([make_offering()], checkout_slots=1, pass_minutes=10)
    for family_id in (1, 2, 3):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id, now=at(opening, 0))
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 0.1))
    assert overview["checking_out"] == 1 and overview["waiting"] == 2
    first = next(
        f
        for f in (1, 2, 3)
        if waiting_room.queue_status(opening_id=opening.pk, family_id=f, now=at(opening, 0.2)).state
        == "admitted"
    )
    waiting_room.queue_leave(opening_id=opening.pk, family_id=first)
    # Its pass is gone (and with it the right to add the opening's classes) ...
    gone = waiting_room.queue_status(opening_id=opening.pk, family_id=first, now=at(opening, 1))
    assert gone.state == "not_joined" and not gone.pass_token
    # ... and the next family is in well before the 10-minute pass would have lapsed.
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 1.1))
    assert overview["checking_out"] == 1 and overview["waiting"] == 1 and overview["admitted"] == 2
    # A family still in line that leaves is out of the line; it may join again, at the back.
    waiting = next(
        f
        for f in (1, 2, 3)
        if waiting_room.queue_status(opening_id=opening.pk, family_id=f, now=at(opening, 1.2)).state
        == "waiting"
    )
    waiting_room.queue_leave(opening_id=opening.pk, family_id=waiting)
    assert waiting_room.queue_overview(opening=opening, now=at(opening, 1.3))["waiting"] == 0
    back = waiting_room.queue_join(opening_id=opening.pk, family_id=waiting, now=at(opening, 2))
    assert back.state == "waiting" and back.position == 1


def test_a_family_let_in_holds_its_slot_only_a_few_seconds_until_it_sees_its_pass(in_tenant_a):
    """Paced by checkout, a family let in that has not looked yet lends its slot to the next
    one after ``PICKUP_SECONDS``; it keeps its pass, and takes a slot again when it looks."""
    pickup = waiting_room.PICKUP_SECONDS
    opening = make_opening([make_offering()], checkout_slots=1, pass_minutes=10)
    # The first to join is let in by its own join, and sees its pass in the answer.
    first = waiting_room.queue_join(opening_id=opening.pk, family_id=1, now=at(opening, 0))
    assert first.state == "admitted"
    for family_id in (2, 3, 4):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id, now=at(opening, 0.1))

    def state(family_id: int, seconds: float) -> str:
        now = at(opening, seconds)
        return waiting_room.queue_status(opening_id=opening.pk, family_id=family_id, now=now).state

    # Family 1 holds its slot for as long as its pass lasts: nobody else comes in meanwhile.
    assert state(3, pickup + 5) == "waiting"
    waiting_room.family_checked_out(family_id=1, openings=[opening], now=at(opening, 10))
    # Family 3's poll lets family 2 in (next in line); family 2 has not looked yet.
    assert state(3, 10.1) == "waiting"
    assert state(3, 10.1 + pickup - 0.1) == "waiting"  # the slot is still family 2's ...
    assert state(3, 10.1 + pickup + 0.1) == "admitted"  # ... then lent to the next family
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 10.1 + pickup + 0.2))
    assert overview["checking_out"] == 1 and overview["admitted"] == 3
    # Family 2 looks late: its pass is good and it takes a slot again, one over the setting,
    # so the line waits until the count is back under.
    late = 10.1 + pickup + 1
    assert state(2, late) == "admitted"
    assert (
        waiting_room.queue_overview(opening=opening, now=at(opening, late + 0.1))["checking_out"]
        == 2
    )
    assert state(4, late + pickup + 1) == "waiting"
    waiting_room.family_checked_out(family_id=2, openings=[opening], now=at(opening, late + 5))
    waiting_room.family_checked_out(family_id=3, openings=[opening], now=at(opening, late + 5))
    assert state(4, late + 5.1) == "admitted"
    # A family that checked out never takes a slot again by looking at its (still good) pass.
    assert state(1, late + 6) == "admitted"
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, late + 6.1))
    assert overview["checking_out"] == 1 and overview["checked_out"] == 3


def test_no_more_slots_are_lent_than_the_opening_has(in_tenant_a):
    """Families that never look do not let the line run on without end: at most ``slots`` of
    them have their slot lent at once."""
    pickup = waiting_room.PICKUP_SECONDS
    opening = make_opening([make_offering()], checkout_slots=1, pass_minutes=10)
    waiting_room.queue_join(opening_id=opening.pk, family_id=1, now=at(opening, 0))
    for family_id in (2, 3, 4, 5):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family_id, now=at(opening, 0.1))
    waiting_room.family_checked_out(family_id=1, openings=[opening], now=at(opening, 1))

    def state(seconds: float) -> str:  # family 5, last in line, polls
        now = at(opening, seconds)
        return waiting_room.queue_status(opening_id=opening.pk, family_id=5, now=now).state

    assert state(1.1) == "waiting"  # family 2 let in, never looks
    assert state(1.2 + pickup) == "waiting"  # its slot lent: family 3 let in, never looks
    assert state(1.3 + 2 * pickup) == "waiting"  # one slot lent already: family 4 waits
    assert state(1.4 + 10 * pickup) == "waiting"
    overview = waiting_room.queue_overview(opening=opening, now=at(opening, 2 + 10 * pickup))
    assert overview["admitted"] == 3 and overview["waiting"] == 2
    # Their passes lapse (10 minutes): the line moves on.
    assert (
        waiting_room.queue_overview(opening=opening, now=at(opening, 10 * 60 + 5))["admitted"] == 4
    )


# --- API ------------------------------------------------------------------------------------


def test_api_join_poll_with_ticket_and_use_the_pass(family_a):
    offering = make_offering(name="Floor", capacity=3, tuition=0)
    opening = make_opening([offering], checkout_slots=10)
    accept_policies(family_a.family)
    client = family_a.client()
    listed = client_for(family_a.tenant).get("/api/v1/openings")
    assert listed.status_code == 200
    assert listed.json()[0]["id"] == opening.pk and listed.json()[0]["offerings"] == [offering.pk]
    joined = client.post(f"/api/v1/openings/{opening.pk}/queue")
    assert joined.status_code == 200, joined.content
    body = joined.json()
    assert body["state"] == "admitted" and body["pass_token"] and body["ticket"]
    assert body["poll_seconds"] == 30  # admitted: only the pass's expiry is left to see
    polled = client_for(family_a.tenant).get(
        f"/api/v1/openings/{opening.pk}/queue", HTTP_X_WAITING_ROOM_TICKET=body["ticket"]
    )
    assert polled.status_code == 200 and polled.json()["state"] == "admitted"
    cart = {"offering": offering.pk, "student": family_a.student.pk}
    assert_error(
        client.post("/api/v1/cart/items", cart, format="json"), 403, "waiting_room_pass_required"
    )
    added = client.post(
        "/api/v1/cart/items", cart, format="json", HTTP_X_WAITING_ROOM_PASS=body["pass_token"]
    )
    assert added.status_code == 201, added.content
    done = client.post(
        "/api/v1/checkout", {}, format="json", HTTP_X_WAITING_ROOM_PASS=body["pass_token"]
    )
    assert done.status_code == 201, done.content


def test_api_leave_with_ticket_or_token_frees_the_pass(family_a, tenant_b):
    offering = make_offering(name="Beam", capacity=3, tuition=0)
    opening = make_opening([offering], checkout_slots=1)
    client = family_a.client()
    url = f"/api/v1/openings/{opening.pk}/queue"
    body = client.post(url).json()
    assert body["state"] == "admitted"
    anonymous = client_for(family_a.tenant)
    assert anonymous.delete(url).status_code == 401
    assert_error(anonymous.delete(url, HTTP_X_WAITING_ROOM_TICKET="forged"), 400, "invalid_ticket")
    left = anonymous.delete(url, HTTP_X_WAITING_ROOM_TICKET=body["ticket"])
    assert left.status_code == 204
    assert client.get(url).json()["state"] == "not_joined"
    # The pass it had is no longer accepted.
    cart = {"offering": offering.pk, "student": family_a.student.pk}
    refused = client.post(
        "/api/v1/cart/items", cart, format="json", HTTP_X_WAITING_ROOM_PASS=body["pass_token"]
    )
    assert_error(refused, 403, "waiting_room_pass_required")
    # Joined again, then left with the bearer token alone.
    assert client.post(url).json()["state"] == "admitted"
    assert client.delete(url).status_code == 204
    assert client.get(url).json()["state"] == "not_joined"
    assert_error(client.delete("/api/v1/openings/999999/queue"), 404, "opening_not_found")
    # The ticket means nothing on another tenant's opening; the token is refused there.
    connection.set_tenant(tenant_b)
    other = make_opening([make_offering()])
    connection.set_schema_to_public()
    other_url = f"/api/v1/openings/{other.pk}/queue"
    cross = client_for(tenant_b).delete(other_url, HTTP_X_WAITING_ROOM_TICKET=body["ticket"])
    assert_error(cross, 400, "invalid_ticket")
    assert family_a.client(tenant_b).delete(other_url).status_code == 401


def test_api_bad_input_and_permissions(family_a, tenant_b):
    opening = make_opening([make_offering()])
    anonymous = client_for(family_a.tenant)
    assert anonymous.post(f"/api/v1/openings/{opening.pk}/queue").status_code == 401
    assert anonymous.get(f"/api/v1/openings/{opening.pk}/queue").status_code == 401
    assert_error(
        anonymous.get(f"/api/v1/openings/{opening.pk}/queue", HTTP_X_WAITING_ROOM_TICKET="forged"),
        400,
        "invalid_ticket",
    )
    assert_error(family_a.client().post("/api/v1/openings/999999/queue"), 404, "opening_not_found")
    # A ticket from tenant A means nothing in tenant B (another schema, another opening).
    ticket = family_a.client().post(f"/api/v1/openings/{opening.pk}/queue").json()["ticket"]
    connection.set_tenant(tenant_b)
    other = make_opening([make_offering()])
    connection.set_schema_to_public()
    cross = client_for(tenant_b).get(
        f"/api/v1/openings/{other.pk}/queue", HTTP_X_WAITING_ROOM_TICKET=ticket
    )
    assert_error(cross, 400, "invalid_ticket")
    # The family's token from A is refused on B's host.
    assert family_a.client(tenant_b).post(f"/api/v1/openings/{other.pk}/queue").status_code == 401


def test_staff_watch_and_pause_with_the_named_permission(family_a, tenant_a):
    from django.contrib.auth.models import Permission

    opening = make_opening([make_offering()], checkout_slots=1)
    family_a.client().post(f"/api/v1/openings/{opening.pk}/queue")
    manager = make_actor(tenant_a, email="manager@alpha.test", staff=True)
    coach = make_actor(tenant_a, email="coach@alpha.test", staff=True)
    connection.set_tenant(tenant_a)
    manager.user.user_permissions.add(
        Permission.objects.get(codename="manage_registration_openings")
    )
    connection.set_schema_to_public()
    url = f"/api/v1/staff/openings/{opening.pk}/queue"
    assert client_for(tenant_a).get(url).status_code == 401
    assert client_for(tenant_a, token=coach.token).get(url).status_code == 403
    assert family_a.client().get(url).status_code == 403
    seen = client_for(tenant_a, token=manager.token).get(url)
    assert seen.status_code == 200, seen.content
    assert seen.json()["admitted"] == 1 and seen.json()["paused"] is False
    pause = f"/api/v1/staff/openings/{opening.pk}/pause"
    assert client_for(tenant_a, token=coach.token).post(pause, {"paused": True}).status_code == 403
    bad = client_for(tenant_a, token=manager.token).post(pause, {"paused": "maybe"}, format="json")
    assert bad.status_code == 400
    done = client_for(tenant_a, token=manager.token).post(pause, {"paused": True}, format="json")
    assert done.status_code == 200 and done.json()["paused"] is True
    connection.set_tenant(tenant_a)
    assert RegistrationOpening.objects.get(pk=opening.pk).paused
    connection.set_schema_to_public()
    missing = client_for(tenant_a, token=manager.token).get("/api/v1/staff/openings/999999/queue")
    assert_error(missing, 404, "opening_not_found")


def test_poll_cadence_follows_the_place_in_line(in_tenant_a):
    """Every second near the front (the place and the pass show within 2 s), less often
    further back, so a long line does not poll the server 1,500 times a second."""
    cadence = waiting_room.poll_seconds_for
    assert cadence("waiting", estimated_wait=3) == 1
    assert cadence("waiting", estimated_wait=15) == 1
    assert cadence("waiting", estimated_wait=40) == 2
    assert cadence("waiting", estimated_wait=150) == 10
    assert cadence("waiting", estimated_wait=3600) == 20
    assert cadence("waiting", estimated_wait=None) == 1
    assert cadence("before_opening", seconds_to_open=300) == 10
    assert cadence("before_opening", seconds_to_open=3) == 3
    assert cadence("before_opening", seconds_to_open=0) == 1
    assert cadence("paused") == 5 and cadence("admitted") == 30
    # Through the queue: one admission a second, so the place is the wait in seconds.
    opening = make_opening([make_offering()], admit_per_minute=60)
    opened = opening.opens_at + timedelta(seconds=1)
    for family in range(1, 61):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family, now=opened)
    near = waiting_room.queue_status(opening_id=opening.pk, family_id=5, now=opened)
    far = waiting_room.queue_status(opening_id=opening.pk, family_id=60, now=opened)
    assert near.state == far.state == "waiting"
    assert near.position < far.position
    assert near.poll_seconds == 1 and far.poll_seconds == 3  # ~59 s away: every 3 s
    api = client_for(in_tenant_a)
    ticket = waiting_room.ticket_for(waiting_room.opening_config(opening.pk), 60)
    body = api.get(f"/api/v1/openings/{opening.pk}/queue", HTTP_X_WAITING_ROOM_TICKET=ticket).json()
    assert body["state"] == "waiting" and body["poll_seconds"] == 3


def test_in_the_openings_first_seconds_the_estimate_assumes_a_quick_checkout(in_tenant_a):
    """Before 5 s of admissions can be measured, paced by checkout, the estimate assumes each
    family takes 10 s to check out (not its whole 10-minute pass): a family 100 places back
    is told about 100 s and to ask every 6 s, not 100 minutes and every 20 s (the opening
    benchmark's families were let in long before their next ask)."""
    opening = make_opening([make_offering()], checkout_slots=10)
    opened = opening.opens_at + timedelta(seconds=1)
    for family in range(1, 131):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family, now=opened)
    status = waiting_room.queue_status(opening_id=opening.pk, family_id=130, now=opened)
    assert status.state == "waiting" and status.position == 120  # 10 let in
    assert status.estimated_wait_seconds == 120  # 1 a second: 10 slots / 10 s
    assert status.poll_seconds == 8
    # Once 5 s are measured, the measure: 10 let in over 6 s.
    later = opened + timedelta(seconds=5)
    status = waiting_room.queue_status(opening_id=opening.pk, family_id=130, now=later)
    assert status.estimated_wait_seconds == math.ceil(120 / (10 / 6))
    # Measured and nobody let in lately: never slower than each family using its whole pass.
    config = waiting_room.opening_config(opening.pk)
    assert waiting_room._rate_from(config, later, 0) == 10 / (10 * 60)


def _pre_queue(opening, count: int, now) -> dict:
    """Families 1 to ``count`` join before the opening at ``now``: each one's answer then."""
    for family in range(1, count + 1):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family, now=now)
    return {
        family: waiting_room.queue_status(opening_id=opening.pk, family_id=family, now=now)
        for family in range(1, count + 1)
    }


def test_the_pre_queue_does_not_all_ask_at_the_opening(in_tenant_a):
    """Before the opening the shuffle already decides each family's place (its random score):
    a family the line can reach at once asks right at the opening, one further back only when
    the line could reach it at the fastest pace, so 1,500 early families do not all poll in
    the same second (and those at the front are not answered behind them)."""
    cadence = waiting_room.poll_seconds_for
    assert cadence("before_opening", seconds_to_open=3, opening_stagger=5) == 8
    assert cadence("before_opening", seconds_to_open=30, opening_stagger=5) == 10  # not yet
    assert cadence("before_opening", seconds_to_open=0, opening_stagger=0) == 1
    opening = make_opening([make_offering()], opens_in=5, checkout_slots=10)
    config = waiting_room.opening_config(opening.pk)
    stagger = waiting_room.opening_stagger_for
    assert [stagger(config, place) for place in (1, 10, 11, 25, 10_000)] == [0, 0, 1, 2, 20]
    fixed = replace(config, admit_per_minute=120)  # 2 a second, a burst of 4
    assert [stagger(fixed, place) for place in (1, 4, 5, 24)] == [0, 0, 0, 10]
    before = opening.opens_at - timedelta(seconds=3)
    answers = _pre_queue(opening, 40, before)
    assert {a.state for a in answers.values()} == {"before_opening"}
    asks = sorted(a.poll_seconds for a in answers.values())
    assert asks == [3] * 10 + [4] * 10 + [5] * 10 + [6] * 10  # by place: 10 slots a second
    # The order is the shuffle's: those asking first are those let in first.
    first = sorted(answers, key=lambda f: answers[f].poll_seconds)[:10]
    opened = opening.opens_at + timedelta(seconds=0.1)
    admitted = {
        f
        for f in range(1, 41)
        if waiting_room.queue_status(opening_id=opening.pk, family_id=f, now=opened).state
        == "admitted"
    }
    assert admitted == set(first)


def test_the_front_of_the_line_polls_with_a_front_ticket(family_a):
    """The families let in within FRONT_WAIT_SECONDS (or, before the opening, at the opening
    itself) are the front: their answers carry a front ticket, which the fair gunicorn worker
    serves in a lane of its own; moving out of the front gives the plain ticket back. A front
    prefix added by hand to a plain ticket fails its signature."""
    opening = make_opening([make_offering()], admit_per_minute=60)
    opened = opening.opens_at + timedelta(seconds=1)
    # Families far from real ids: family_a joins at the back below, whatever its id.
    first, second, last = 9_000_001, 9_000_002, 9_000_020
    for family in range(first, last + 1):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family, now=opened)
    config = waiting_room.opening_config(opening.pk)
    near = waiting_room.queue_status(opening_id=opening.pk, family_id=second, now=opened)
    far = waiting_room.queue_status(opening_id=opening.pk, family_id=last, now=opened)
    assert near.estimated_wait_seconds <= waiting_room.FRONT_WAIT_SECONDS and near.front
    assert far.estimated_wait_seconds > waiting_room.FRONT_WAIT_SECONDS and not far.front

    plain = waiting_room.ticket_for(config, second)
    front = waiting_room.ticket_for(config, second, front=True)
    assert front.startswith(waiting_room.FRONT_PREFIX) and not plain.startswith("front:")
    assert waiting_room.family_from_ticket(config, front) == second
    assert waiting_room.family_from_ticket(config, plain) == second
    assert waiting_room.family_from_ticket(config, "front:" + plain) is None
    assert waiting_room.family_from_ticket(config, front[:-1] + "x") is None
    assert waiting_room.ticket_update(config, second, plain, near) == front
    assert waiting_room.ticket_update(config, second, front, near) == ""
    # Further back: a line ticket (below), instead of the front one.
    line = waiting_room.ticket_for(config, last, order=far.order)
    assert waiting_room.ticket_update(config, last, front, far) == line
    assert waiting_room.ticket_update(config, last, line, far) == ""

    # Through the API (the fast path answers a poll by ticket): the poll that finds the family
    # at the front hands it the front ticket; a poll with it needs nothing new.
    api = client_for(family_a.tenant)
    url = f"/api/v1/openings/{opening.pk}/queue"
    queue_front = waiting_room.queue_status(opening_id=opening.pk, family_id=second)
    assert queue_front.front  # still within 3 s by the live clock (one a second, place 2)
    body = api.get(url, HTTP_X_WAITING_ROOM_TICKET=plain).json()
    # (Signed again now: its timestamp may be a second later than ``front``'s.)
    assert body["state"] == "waiting" and waiting_room.is_front_ticket(body["ticket"])
    assert waiting_room.family_from_ticket(config, body["ticket"]) == second
    body = api.get(url, HTTP_X_WAITING_ROOM_TICKET=front).json()
    assert body["state"] == "waiting" and "ticket" not in body
    body = api.get(url, HTTP_X_WAITING_ROOM_TICKET=line).json()
    assert body["state"] == "waiting" and "ticket" not in body
    assert_error(api.get(url, HTTP_X_WAITING_ROOM_TICKET="front:" + plain), 400, "invalid_ticket")
    # A family joining at the back of this line gets the plain ticket.
    joined = family_a.client().post(url).json()
    assert joined["state"] == "waiting" and joined["position"] >= 15
    assert waiting_room.ticket_order(joined["ticket"]) is not None


def test_a_family_further_back_polls_with_its_order_in_the_line(family_a):
    """Behind the front, a waiting family's ticket says its order in the line (its score,
    which never changes while it waits; signed with the ticket): the fair gunicorn worker
    answers a business's polls in that order. It comes once; an order added or changed by hand
    fails the signature; let in, the family gets the plain ticket back."""
    opening = make_opening([make_offering()], admit_per_minute=60)
    opened = opening.opens_at + timedelta(seconds=1)
    for family in range(9_200_001, 9_200_021):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family, now=opened)
    config = waiting_room.opening_config(opening.pk)
    far = waiting_room.queue_status(opening_id=opening.pk, family_id=9_200_020, now=opened)
    behind = waiting_room.queue_status(opening_id=opening.pk, family_id=9_200_010, now=opened)
    near = waiting_room.queue_status(opening_id=opening.pk, family_id=9_200_002, now=opened)
    assert far.state == "waiting" and not far.front
    # Later arrivals: 2, 3, ... in the line (1 + the arrival count), scaled.
    assert far.order == 21 * waiting_room.ORDER_SCALE
    assert behind.order == 11 * waiting_room.ORDER_SCALE < far.order
    assert near.front and near.order is None  # the front has its own ticket
    later = opened + timedelta(seconds=5)  # the line moved: the order did not
    moved_on = waiting_room.queue_status(opening_id=opening.pk, family_id=9_200_020, now=later)
    assert moved_on.order == far.order

    family = 9_200_020
    plain = waiting_room.ticket_for(config, family)
    line = waiting_room.ticket_for(config, family, order=far.order)
    assert line.startswith(f"{waiting_room.ORDER_PREFIX}{far.order}:")
    assert waiting_room.ticket_order(line) == far.order
    assert waiting_room.ticket_order(plain) is None
    assert waiting_room.family_from_ticket(config, line) == family
    assert waiting_room.family_from_ticket(config, f"line{far.order}:" + plain) is None
    assert waiting_room.family_from_ticket(config, line.replace("line", "line1", 1)) is None
    assert waiting_room.ticket_update(config, family, plain, far) == line
    assert waiting_room.ticket_update(config, family, line, far) == ""
    other = replace(far, order=far.order + 1)
    changed = waiting_room.ticket_update(config, family, line, other)
    assert waiting_room.ticket_order(changed) == far.order + 1
    let_in = waiting_room.QueueStatus(state="admitted")
    assert waiting_room.ticket_update(config, family, line, let_in) == plain  # the plain one
    assert waiting_room.ticket_update(config, family, plain, let_in) == ""

    # Through the API's fast path: the plain ticket's poll gets the line ticket, and a poll
    # with it needs nothing new; a forged one is refused.
    api = client_for(family_a.tenant)
    url = f"/api/v1/openings/{opening.pk}/queue"
    body = api.get(url, HTTP_X_WAITING_ROOM_TICKET=plain).json()
    assert body["state"] == "waiting" and waiting_room.ticket_order(body["ticket"]) == far.order
    assert waiting_room.family_from_ticket(config, body["ticket"]) == family
    again = api.get(url, HTTP_X_WAITING_ROOM_TICKET=body["ticket"]).json()
    assert again["state"] == "waiting" and "ticket" not in again
    forged = f"line{far.order}:" + plain
    assert_error(api.get(url, HTTP_X_WAITING_ROOM_TICKET=forged), 400, "invalid_ticket")


def test_a_line_whose_classes_are_all_full_says_so_and_polls_slowly(family_a):
    """While every class of the opening is full (holds count: a family checking out holds its
    seat), a family in line is told so at once, keeps its place (a seat may open up), is asked
    to poll every 10 s and is not in the front lane, and nobody is let in. One seat left in any
    of the opening's classes, and it is as before; an opening without classes is never full."""
    from django.db.models import F

    from portal.catalog.availability import availability_clear
    from portal.catalog.models import Offering

    one, two = make_offering(name="A", capacity=2), make_offering(name="B", capacity=2)
    opening = make_opening([one, two], admit_per_minute=60)
    opened = opening.opens_at + timedelta(seconds=1)
    for family in range(9_100_001, 9_100_011):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family, now=opened)
    before = waiting_room.queue_status(opening_id=opening.pk, family_id=9_100_004, now=opened)
    assert before.state == "waiting" and not before.all_full and before.front
    assert before.poll_seconds == waiting_room.POLL_NEAR_SECONDS

    Offering.objects.filter(pk__in=[one.pk, two.pk]).update(seats_taken=F("capacity"))
    availability_clear()
    waiting_room.configs_clear()  # this process's copy lasts CONFIG_TTL
    full = waiting_room.queue_status(opening_id=opening.pk, family_id=9_100_004, now=opened)
    assert full.state == "waiting" and full.all_full and not full.front
    assert full.estimated_wait_seconds is None  # nobody is let in meanwhile
    assert full.position == before.position
    assert full.poll_seconds == waiting_room.POLL_FULL_SECONDS
    # Nobody is let in meanwhile: a pass would buy nothing (by now the bucket would have let
    # in ten more).
    later = opened + timedelta(seconds=10)
    held = waiting_room.queue_status(opening_id=opening.pk, family_id=9_100_002, now=later)
    assert held.state == "waiting" and held.position == 1 and held.all_full
    # Through the API (the fast path by ticket) and the whole stack (a family's own join).
    config = waiting_room.opening_config(opening.pk)
    url = f"/api/v1/openings/{opening.pk}/queue"
    ticket = waiting_room.ticket_for(config, 9_100_004)
    body = client_for(family_a.tenant).get(url, HTTP_X_WAITING_ROOM_TICKET=ticket).json()
    assert body["all_full"] is True and body["poll_seconds"] == waiting_room.POLL_FULL_SECONDS
    joined = family_a.client().post(url).json()
    assert joined["state"] == "waiting" and joined["all_full"] is True

    Offering.objects.filter(pk=two.pk).update(seats_taken=1)  # a hold lapsed
    availability_clear()
    waiting_room.configs_clear()
    let_in = waiting_room.queue_status(opening_id=opening.pk, family_id=9_100_002, now=later)
    assert let_in.state == "admitted"
    again = waiting_room.queue_status(opening_id=opening.pk, family_id=9_100_010, now=later)
    assert again.state == "waiting" and not again.all_full
    assert again.poll_seconds == waiting_room.POLL_NEAR_SECONDS

    empty = make_opening([], name="Nothing yet", admit_per_minute=60)
    waiting_room.queue_join(opening_id=empty.pk, family_id=9_100_001, now=opened)
    waiting_room.queue_join(opening_id=empty.pk, family_id=9_100_002, now=opened)
    waiting_room.queue_join(opening_id=empty.pk, family_id=9_100_003, now=opened)
    status = waiting_room.queue_status(opening_id=empty.pk, family_id=9_100_003, now=opened)
    assert status.state == "waiting" and not status.all_full


def test_a_family_joining_at_the_front_gets_the_front_ticket_at_once(family_a):
    """Paced by checkout, 50 slots: 50 of 60 let in, the other 10 wait, 5 a second by the
    opening's first estimate (50 slots / 10 s): the 61st is 11th, 3 s away, the front."""
    opening = make_opening([make_offering()], checkout_slots=50)
    for family in range(100_001, 100_061):
        waiting_room.queue_join(opening_id=opening.pk, family_id=family)
    joined = family_a.client().post(f"/api/v1/openings/{opening.pk}/queue")
    assert joined.status_code == 200, joined.content
    body = joined.json()
    assert body["state"] == "waiting" and body["position"] == 11
    assert body["estimated_wait_seconds"] <= waiting_room.FRONT_WAIT_SECONDS
    assert body["ticket"].startswith(waiting_room.FRONT_PREFIX)
    config = waiting_room.opening_config(opening.pk)
    assert waiting_room.family_from_ticket(config, body["ticket"]) == family_a.family.pk


def test_before_the_opening_the_families_let_in_at_once_are_the_front(in_tenant_a):
    """The shuffle's first ``checkout_slots`` are the front; every other family polls with its
    order in the pre-queue (its shuffled score), the one it keeps in the line after the
    opening."""
    opening = make_opening([make_offering()], opens_in=5, checkout_slots=10)
    before = opening.opens_at - timedelta(seconds=3)
    answers = _pre_queue(opening, 30, before)
    # The shuffle's first ten (the checkout slots) are let in at the opening itself.
    assert sum(a.front for a in answers.values()) == 10
    assert {a.poll_seconds for a in answers.values() if a.front} == {3}
    assert all(a.order is None for a in answers.values() if a.front)
    later = {f: a for f, a in answers.items() if not a.front}
    assert len(later) == 20
    assert all(0 <= a.order < waiting_room.ORDER_SCALE for a in later.values())
    # By order, the families in the order the shuffle put them (the stagger grows with it).
    ranked = sorted(later.values(), key=lambda a: a.order)
    assert [a.poll_seconds for a in ranked] == sorted(a.poll_seconds for a in ranked)
    opened = opening.opens_at + timedelta(seconds=1)
    for family, before_opening in later.items():
        status = waiting_room.queue_status(opening_id=opening.pk, family_id=family, now=opened)
        assert status.order == before_opening.order or status.front


def test_the_fair_worker_reads_the_tickets_the_waiting_room_signs(family_a):
    """The fair gunicorn worker reads a poll ticket's front or line prefix from the request's
    bytes before anything is decoded, with regular expressions of its own
    (``saas_platform.gunicorn_fair``): held here to the tickets this module signs, in the apps'
    header and in the web's cookie."""
    from portal_web.waiting_room import TICKET_COOKIE
    from saas_platform.gunicorn_fair import flow_of, poll_order

    opening = make_opening([make_offering()])
    config = waiting_room.opening_config(opening.pk)
    tickets = {
        "front": waiting_room.ticket_for(config, 7, front=True),
        "line": waiting_room.ticket_for(config, 7, order=2_345_678),
        "plain": waiting_room.ticket_for(config, 7),
    }
    api = f"GET /api/v1/openings/{opening.pk}/queue HTTP/1.1\r\nHost: a.test\r\n"
    web = f"GET /waiting-room/{opening.pk}/status.json HTTP/1.1\r\nHost: a.test\r\n"
    cookie = TICKET_COOKIE % opening.pk
    for head in (api + "X-Waiting-Room-Ticket: {}\r\n\r\n", web + f"Cookie: {cookie}={{}}\r\n\r\n"):
        read = {name: head.format(ticket).encode() for name, ticket in tickets.items()}
        assert flow_of(read["front"]) == "a.test front" and poll_order(read["front"]) is None
        assert flow_of(read["line"]) == "a.test poll" and poll_order(read["line"]) == 2_345_678
        assert flow_of(read["plain"]) == "a.test poll" and poll_order(read["plain"]) is None
