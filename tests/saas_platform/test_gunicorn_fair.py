"""The fair thread pool of the production server (saas_platform/gunicorn_fair.py): queued
requests are taken by business (Host) in turn, the waiting room's polls as a flow of their own,
so one business saturating the workers cannot make another's requests wait behind it; and the
workers accepting connections in balance (``ConnectionBoard``); and a quiet business's
connections handed to a worker of their own while another business is busy (``QuietLane``)."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from kernel import cpu_slots
from saas_platform import gunicorn_fair
from saas_platform.gunicorn_fair import (
    FairQueue,
    FairThreadPool,
    QuietShare,
    ThreadPriority,
    busy_nice,
    flow_of,
    pass_turns,
    poll_order,
    running_places,
)

ROOT = Path(__file__).resolve().parents[2]


def test_flow_is_the_host_and_polls_are_their_own_flow():
    assert flow_of(b"GET /api/v1/offerings HTTP/1.1\r\nHost: Swim.Example.com:8000\r\n\r\n") == (
        "swim.example.com"
    )
    assert flow_of(b"GET /api/v1/openings/12/queue HTTP/1.1\r\nhost: a.test\r\n\r\n") == (
        "a.test poll"
    )
    assert flow_of(b"GET /waiting-room/3/status.json?x=1 HTTP/1.1\r\nHOST:a.test\r\n\r\n") == (
        "a.test poll"
    )
    # Joining and leaving the line are the business's ordinary flow, not polls.
    assert flow_of(b"POST /api/v1/openings/12/queue HTTP/1.1\r\nHost: a.test\r\n\r\n") == "a.test"
    assert flow_of(b"GET /api/v1/openings/12/queue/x HTTP/1.1\r\nHost: a.test\r\n\r\n") == "a.test"
    # No Host yet (a partial head), or garbage: the unknown flow.
    assert flow_of(b"GET / HTTP/1.1\r\n") == ""
    assert flow_of(b"\x00\xff garbage") == ""
    assert flow_of(b"") == ""


def test_requests_with_a_waiting_room_pass_are_their_own_flow():
    head = b"POST /api/v1/checkout HTTP/1.1\r\nHost: a.test\r\n"
    assert flow_of(head + b"X-Waiting-Room-Pass: abc.def\r\n\r\n") == "a.test pass"
    assert flow_of(head + b"x-waiting-room-pass:abc\r\n\r\n") == "a.test pass"
    assert flow_of(head + b"Cookie: lang=es; wr_pass=abc:1; x=y\r\n\r\n") == "a.test pass"
    assert flow_of(head + b"Cookie: wr_pass=\r\n\r\n") == "a.test"  # empty: no pass
    assert flow_of(head + b"X-Waiting-Room-Pass: \r\n\r\n") == "a.test"
    assert flow_of(head + b"Cookie: old_wr_pass=1\r\n\r\n") == "a.test"
    assert flow_of(head + b"X-Other: wr_pass=1\r\n\r\n") == "a.test"
    # A status poll stays a poll, pass or not (the web's poll carries the cookie).
    poll = b"GET /waiting-room/3/status.json HTTP/1.1\r\nHost: a.test\r\nCookie: wr_pass=a\r\n\r\n"
    assert flow_of(poll) == "a.test poll"
    assert FairQueue.business("a.test pass") == "a.test"  # one business for the thread limit


def test_polls_with_a_front_ticket_are_a_lane_of_their_own():
    """The waiting room hands the few dozen families it lets in next a front ticket
    (``waiting_room.FRONT_PREFIX``): their polls skip the line of every other family's polls."""
    api = b"GET /api/v1/openings/12/queue HTTP/1.1\r\nHost: a.test\r\n"
    assert flow_of(api + b"X-Waiting-Room-Ticket: front:eyJ4:abc:def\r\n\r\n") == "a.test front"
    assert flow_of(api + b"x-waiting-room-ticket:front:e\r\n\r\n") == "a.test front"
    assert flow_of(api + b"X-Waiting-Room-Ticket: eyJ4:abc\r\n\r\n") == "a.test poll"
    web = b"GET /waiting-room/3/status.json HTTP/1.1\r\nHost: a.test\r\n"
    assert flow_of(web + b"Cookie: lang=es; wr_ticket_3=front:eyJ4:a:b\r\n\r\n") == ("a.test front")
    assert flow_of(web + b"Cookie: wr_ticket_3=eyJ4:a\r\n\r\n") == "a.test poll"
    assert flow_of(web + b"X-Other: wr_ticket_3=front:a\r\n\r\n") == "a.test poll"
    # Only polls: a join or a checkout carrying the header is its usual flow.
    join = b"POST /api/v1/openings/12/queue HTTP/1.1\r\nHost: a.test\r\n"
    assert flow_of(join + b"X-Waiting-Room-Ticket: front:e\r\n\r\n") == "a.test"
    assert FairQueue.business("a.test front") == "a.test"
    # Behind a thousand polls from further back, a front poll is the next one answered.
    queue = FairQueue()
    for i in range(1000):
        queue.put("a.test poll", f"p{i}")
    queue.put("a.test front", "front")
    assert [queue.get()[1] for _ in range(2)] == ["front", "p0"]


def test_a_business_polls_are_answered_in_the_line_order():
    """A line ticket (``waiting_room.ORDER_PREFIX``) says its family's order in the line: a
    business's polls are answered in that order, not as they came, so the families next in
    line (or let in since they asked) are not answered behind the polls of the whole line; a
    poll without one goes first, as it came; other flows stay first come, first served."""
    api = b"GET /api/v1/openings/12/queue HTTP/1.1\r\nHost: a.test\r\n"
    web = b"GET /waiting-room/3/status.json HTTP/1.1\r\nHost: a.test\r\n"
    assert poll_order(api + b"X-Waiting-Room-Ticket: line2000000:eyJ4:a:b\r\n\r\n") == 2000000
    assert poll_order(api + b"x-waiting-room-ticket:line5:e\r\n\r\n") == 5
    assert poll_order(web + b"Cookie: lang=es; wr_ticket_3=line42:eyJ4:a:b\r\n\r\n") == 42
    assert poll_order(api + b"X-Waiting-Room-Ticket: eyJ4:abc\r\n\r\n") is None
    assert poll_order(api + b"X-Waiting-Room-Ticket: front:eyJ4:abc\r\n\r\n") is None
    assert poll_order(api + b"X-Other: line5:e\r\n\r\n") is None
    assert poll_order(web + b"Cookie: wr_ticket_3=lineX:e\r\n\r\n") is None
    assert flow_of(api + b"X-Waiting-Room-Ticket: line5:eyJ4:a\r\n\r\n") == "a.test poll"

    queue = FairQueue()
    queue.put("a.test poll", "last", order=3_000_000)
    queue.put("a.test poll", "let in, asking for its pass")  # no order: first
    queue.put("a.test poll", "next", order=812_345)
    queue.put("a.test poll", "first of the shuffle", order=1_234)
    queue.put("a.test poll", "not in line either")
    queue.put("a.test", "join")
    queue.put("a.test", "join 2", order=1)  # not a poll: first come, first served
    assert len(queue) == 7
    taken = [queue.get()[1] for _ in range(7)]
    assert [t for t in taken if not t.startswith("join")] == [
        "let in, asking for its pass", "not in line either", "first of the shuffle", "next",
        "last",
    ]  # fmt: skip
    assert [t for t in taken if t.startswith("join")] == ["join", "join 2"]
    for i in range(3):
        queue.put("a.test poll", f"p{i}", order=10 - i)
    assert sorted(queue.drain()) == ["p0", "p1", "p2"] and len(queue) == 0


def test_the_front_lane_goes_first_but_at_most_four_turns_in_a_row():
    """A flood of front polls (say, someone replaying a stale front ticket) still leaves every
    other flow a turn after each four."""
    queue = FairQueue()
    for i in range(10):
        queue.put("a.test front", f"f{i}")
    queue.put("a.test pass", "checkout")
    queue.put("b.test", "search")
    taken = [queue.get()[1] for _ in range(len(queue))]
    assert taken == [
        "f0", "f1", "f2", "f3", "checkout", "f4", "f5", "f6", "f7", "search", "f8", "f9",
    ]  # fmt: skip
    assert FairQueue.FRONT_TURNS == 4


def _rush_taken(queue: FairQueue) -> list[str]:
    """A rushing business's 4 joins, 3 polls and 6 holds of families let in, and another
    business's 2 searches, queued in that order; the order ``queue`` takes them in."""
    for i in range(4):
        queue.put("a.test", f"join{i}")
    for i in range(3):
        queue.put("a.test poll", f"poll{i}")
    for i in range(6):
        queue.put("a.test pass", f"hold{i}")
    queue.put("b.test", "b0")
    queue.put("b.test", "b1")
    return [queue.get()[1] for _ in range(len(queue))]


def test_a_business_turn_goes_to_its_families_with_a_pass_first():
    """In a rush, a business's turns go first to the families its line has let in (their
    class list, holds and checkouts), at most ``pass_turns`` in a row before its joins or polls
    get one; another business's turns come as often as they would without it."""
    taken = _rush_taken(FairQueue(pass_turns=2))
    assert taken == [
        "hold0", "hold1", "b0", "join0", "hold2", "b1", "hold3", "poll0", "hold4", "hold5",
        "join1", "poll1", "join2", "poll2", "join3",
    ]  # fmt: skip
    # Each flow its own turn (pass_turns 0, the pool's default): b's second request comes
    # later, the holds wait behind the joins and polls.
    taken_in_turn = _rush_taken(FairQueue())
    assert taken_in_turn[:8] == ["join0", "poll0", "hold0", "b0", "join1", "poll1", "hold1", "b1"]
    assert taken.index("b1") <= taken_in_turn.index("b1")


def test_the_front_of_the_line_still_goes_before_the_passes():
    queue = FairQueue(pass_turns=8)
    queue.put("a.test", "join")
    queue.put("a.test pass", "hold")
    queue.put("a.test front", "front poll")
    queue.put("a.test poll", "poll")
    # The hold took the joins' turn: the polls' comes next, then the joins' again.
    assert [queue.get()[1] for _ in range(4)] == ["front poll", "hold", "poll", "join"]


def test_a_business_without_a_pass_queued_takes_its_turns_as_before():
    queue = FairQueue(pass_turns=8)
    for i in range(2):
        queue.put("a.test", f"join{i}")
        queue.put("a.test poll", f"poll{i}")
    queue.put("b.test pass", "b's hold")  # another business's pass takes only b's turns
    assert [queue.get()[1] for _ in range(5)] == ["join0", "poll0", "b's hold", "join1", "poll1"]


def test_queue_takes_the_flows_in_turn_fifo_within_each():
    queue = FairQueue()
    for i in range(5):
        queue.put("a.test", f"a{i}")
    queue.put("b.test", "b0")
    queue.put("a.test poll", "p0")
    queue.put("b.test", "b1")
    taken = [queue.get() for _ in range(len(queue))]
    # b0 is served second although five of a's requests came before it.
    assert [item for _, item in taken] == ["a0", "b0", "p0", "a1", "b1", "a2", "a3", "a4"]
    assert taken[1] == ("b.test", "b0")
    assert len(queue) == 0


def test_queue_with_one_flow_is_first_come_first_served_on_every_thread():
    queue = FairQueue(limit=1)  # a pool of two threads
    for i in range(4):
        queue.put("a.test", i)
    # Alone, the flow is not held to its limit: both threads take its requests.
    assert [queue.get()[1] for _ in range(4)] == [0, 1, 2, 3]


def test_a_flow_at_its_limit_leaves_a_thread_for_the_others():
    queue = FairQueue(limit=1)  # a pool of two threads
    queue.put("b.test", "b0")  # another business was here a moment ago
    assert queue.get() == ("b.test", "b0")
    queue.done("b.test")
    queue.put("a.test", "a0")
    queue.put("a.test", "a1")
    assert queue.get() == ("a.test", "a0")
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(queue.get()), daemon=True)
    waiter.start()
    waiter.join(0.3)
    assert got == []  # a1 is held back: the second thread is kept for the others
    queue.put("c.test", "c0")
    waiter.join(2)
    assert got == [("c.test", "c0")]  # another business takes it at once, ahead of a1
    queue.done("c.test")
    # The business's polls count with it: a's poll waits too while a0 holds a's one thread.
    queue.put("a.test poll", "p0")
    waiter = threading.Thread(target=lambda: got.append(queue.get()), daemon=True)
    waiter.start()
    waiter.join(0.3)
    assert got == [("c.test", "c0")]
    queue.done("a.test")  # a0 finished: a1 runs (a's turn came before its polls')
    waiter.join(2)
    assert got[1] == ("a.test", "a1")
    queue.done("a.test")
    assert queue.get() == ("a.test poll", "p0")


def test_a_flow_alone_for_a_while_gets_every_thread_again():
    queue = FairQueue(limit=1)
    queue.RECENT_SECONDS = 0.1
    queue.put("b.test", "b0")
    queue.get()
    queue.done("b.test")
    queue.put("a.test", "a0")
    queue.put("a.test", "a1")
    assert queue.get() == ("a.test", "a0")
    time.sleep(0.2)  # nobody else lately
    assert queue.get() == ("a.test", "a1")


def test_pool_runs_submissions_hands_errors_to_the_future_and_shuts_down():
    pool = FairThreadPool(2)
    ok = pool.submit(lambda x: x * 2, 21, flow="a.test")
    assert ok.result(timeout=5) == 42

    def boom():
        raise ValueError("no")

    failed = pool.submit(boom, flow="b.test")
    with pytest.raises(ValueError):
        failed.result(timeout=5)
    gate = threading.Event()
    blockers = [pool.submit(gate.wait, 5, flow=flow) for flow in ("x.test", "y.test")]
    queued = pool.submit(lambda: "late")
    time.sleep(0.05)
    pool.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert queued.cancelled()
    assert all(b.result(timeout=5) for b in blockers)
    pool.shutdown(wait=True)


# --- CPU priority: a business's requests beside its own run lower ---------------------------


def test_a_request_taken_beside_another_of_its_business_is_marked_as_such():
    queue = FairQueue(limit=3)
    queue.put("a.test", "a0")
    queue.put("a.test poll", "p0")
    queue.put("b.test", "b0")
    assert queue.get() == ("a.test", "a0")
    assert queue.taken_beside_its_own() is False  # the business's first request here
    assert queue.get() == ("a.test poll", "p0")
    assert queue.taken_beside_its_own() is True  # a poll is the same business
    assert queue.get() == ("b.test", "b0")
    assert queue.taken_beside_its_own() is False  # another business, alone
    queue.done("a.test")
    queue.done("a.test poll")  # a.test has nothing left in the worker
    queue.put("a.test", "a1")
    assert queue.get() == ("a.test", "a1")
    assert queue.taken_beside_its_own() is False
    # Per thread: another thread's take does not change what this one took.
    queue.put("a.test", "a2")
    seen: list = []
    other = threading.Thread(
        target=lambda: seen.append((queue.get(), queue.taken_beside_its_own())), daemon=True
    )
    other.start()
    other.join(5)
    assert seen == [(("a.test", "a2"), True)]
    assert queue.taken_beside_its_own() is False


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def _may_restore_priority() -> bool:
    return ThreadPriority.available(1)


def test_thread_priority_lowers_a_thread_for_its_request_and_restores_it():
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority back (CAP_SYS_NICE)")
    priority = ThreadPriority(5)
    assert priority.enabled
    base = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list = []

    def serve() -> None:
        tid = threading.get_native_id()
        priority.set(True)
        seen.append(_nice(tid))
        priority.set(True)  # unchanged: no call
        seen.append(_nice(tid))
        priority.set(False)
        seen.append(_nice(tid))

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(5)
    assert seen == [base + 5, base + 5, base]
    assert _nice(threading.get_native_id()) == base  # other threads keep theirs


def _may_run_realtime() -> bool:
    return ThreadPriority.available(0, realtime=True)


def _policy(tid: int) -> int:
    return os.sched_getscheduler(tid)


def test_a_thread_takes_the_realtime_policy_and_leaves_it():
    if not _may_run_realtime():
        pytest.skip("this process may not take the real-time policy (CAP_SYS_NICE, RLIMIT_RTPRIO)")
    seen: list = []

    def run() -> None:
        tid = threading.get_native_id()
        seen.append(gunicorn_fair.realtime_set(True))
        seen.append((_policy(tid), os.sched_getparam(tid).sched_priority))
        seen.append(gunicorn_fair.realtime_set(False))
        seen.append(_policy(tid))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    assert seen == [True, (os.SCHED_RR, 1), True, os.SCHED_OTHER]
    assert _policy(threading.get_native_id()) == os.SCHED_OTHER  # other threads keep theirs


def test_a_thread_refused_the_realtime_policy_stays_as_it_was(monkeypatch):
    def refused(tid, policy, param):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refused)
    assert gunicorn_fair.realtime_set(True) is False
    assert _policy(0) == os.SCHED_OTHER
    # Nor is a lane's priority real-time then: its requests keep the nice steps alone.
    assert ThreadPriority(3, realtime=True).enabled is False


def test_in_the_realtime_lane_a_business_second_request_leaves_the_policy():
    """The quiet lane's threads run real-time; a business's request that finds another of its
    own in the lane runs in the normal policy, at the others' nice value, and the next request
    is real-time again."""
    if not _may_run_realtime() or not _may_restore_priority():
        pytest.skip("this process may not take the real-time policy (CAP_SYS_NICE, RLIMIT_RTPRIO)")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list = []

    def serve() -> None:
        tid = threading.get_native_id()
        assert gunicorn_fair.realtime_set(True)  # as the lane's main thread leaves its threads
        priority = ThreadPriority(3, realtime=True)
        assert priority.enabled
        for lowered in (False, True, True, False):
            priority.set(lowered)
            seen.append((_policy(tid), _nice(tid)))
        gunicorn_fair.realtime_set(False)

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(5)
    assert seen == [
        (os.SCHED_RR, base),
        (os.SCHED_OTHER, base + 3),
        (os.SCHED_OTHER, base + 3),
        (os.SCHED_RR, base),
    ]


def test_thread_priority_does_nothing_where_it_may_not_restore_a_priority(monkeypatch):
    """Lowering is always allowed, raising back is not (no CAP_SYS_NICE, RLIMIT_NICE 0): then
    no thread is ever lowered, the probe's own thread included."""
    real = os.setpriority
    probed: list = []

    def only_lower(which, who, value):
        if value < os.getpriority(which, who):
            raise PermissionError(1, "Operation not permitted")
        probed.append((who, value))
        return real(which, who, value)

    monkeypatch.setattr(os, "setpriority", only_lower)
    priority = ThreadPriority(5)
    assert priority.enabled is False
    assert probed and all(who != threading.get_native_id() for who, _ in probed)
    before = _nice(threading.get_native_id())
    priority.set(True)
    assert _nice(threading.get_native_id()) == before
    assert ThreadPriority(0).enabled is False  # off by setting: not even probed


def _nice_now() -> int:
    """The nice value of the pool thread running this."""
    return _nice(threading.get_native_id())


def _nice_after(gate: threading.Event) -> int:
    """A request held until ``gate`` is set; then its thread's nice value."""
    gate.wait(5)
    return _nice_now()


def test_pool_runs_a_business_second_request_at_a_lower_priority():
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority back (CAP_SYS_NICE)")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    pool = FairThreadPool(4, priority=ThreadPriority(5))
    gate = threading.Event()
    held, now = partial(_nice_after, gate), _nice_now

    first = pool.submit(held, flow="a.test")
    time.sleep(0.05)
    second = pool.submit(now, flow="a.test")
    assert second.result(timeout=5) == base + 5  # a.test already had one in the worker
    other = pool.submit(now, flow="b.test")
    assert other.result(timeout=5) == base  # another business, alone
    gate.set()
    assert first.result(timeout=5) == base
    time.sleep(0.05)  # the held request done: a.test alone again
    assert pool.submit(now, flow="a.test").result(timeout=5) == base
    pool.shutdown(wait=True)


def test_a_pool_thread_waits_for_its_next_request_at_the_process_priority():
    """The request that wakes an idle thread may be another business's: it must not wake
    lowered, waiting for a core behind the rush it was lowered for."""
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority back (CAP_SYS_NICE)")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    pool = FairThreadPool(4, priority=ThreadPriority(5))
    gate = threading.Event()
    first = pool.submit(gate.wait, 5, flow="a.test")
    time.sleep(0.05)
    second = pool.submit(
        lambda: (threading.get_native_id(), _nice(threading.get_native_id())), flow="a.test"
    )
    tid, nice = second.result(timeout=5)
    assert nice == base + 5  # beside a.test's first request
    deadline = time.monotonic() + 5
    while _nice(tid) != base and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _nice(tid) == base  # idle again: back at the process's priority
    gate.set()
    first.result(timeout=5)
    pool.shutdown(wait=True)


# --- the quiet lane: a business within its share of a core runs raised, however many at once


def test_quiet_share_fills_with_cpu_and_drains_at_the_share():
    share = QuietShare(0.25)
    assert share.quiet("a.test", now=100.0)  # never seen: quiet
    share.spend("a.test", 0.04, now=100.0)
    assert share.quiet("a.test", now=100.0)  # 40 ms: within the burst
    share.spend("a.test", 0.02, now=100.0)
    assert not share.quiet("a.test", now=100.0)  # 60 ms: past it
    assert share.quiet("b.test", now=100.0)  # by business
    # Drains at a quarter of a core: 12.5 ms gone after 50 ms.
    assert share.quiet("a.test", now=100.05)  # 47.5 ms
    share.spend("a.test", 0.0525, now=100.05)  # 100 ms
    assert not share.quiet("a.test", now=100.2)  # 62.5 ms
    assert share.quiet("a.test", now=100.25)  # 47.5 ms
    assert share.quiet("a.test", now=200.0)
    # A business at 20 searches a second of 3 ms each (business B) stays quiet for good;
    # one computing a whole core does not.
    steady, busy = QuietShare(0.25), QuietShare(0.25)
    for tick in range(200):
        now = 100.0 + tick * 0.05
        steady.spend("b.test", 0.003, now=now)
        busy.spend("rush.test", 0.05, now=now)
    assert steady.quiet("b.test", now=now)
    assert not busy.quiet("rush.test", now=now)


def test_quiet_share_drops_drained_businesses_past_its_bound(monkeypatch):
    monkeypatch.setattr(QuietShare, "MAX_BUSINESSES", 3)
    share = QuietShare(0.25)
    share.spend("a.test", 0.001, now=1.0)
    share.spend("b.test", 1.0, now=1.0)
    share.spend("c.test", 0.001, now=1.0)
    share.spend("d.test", 0.001, now=2.0)  # a.test and c.test drained by then: dropped
    assert set(share._buckets) == {"b.test", "d.test"}
    assert not share.quiet("b.test", now=2.0)  # one still past its share is kept


@pytest.mark.parametrize(
    ("env", "share"),
    [(None, 0.25), ("", 0.25), ("25", 0.25), ("50", 0.5), ("0", 0.0), ("-5", 0.0), ("150", 1.0)],
)
def test_lane_quiet_share_setting(monkeypatch, env, share):
    if env is None:
        monkeypatch.delenv("GUNICORN_LANE_QUIET_SHARE", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_LANE_QUIET_SHARE", env)
    assert gunicorn_fair.lane_quiet_share() == share


def _burn(seconds: float) -> None:
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_in_the_lane_a_quiet_business_second_request_runs_raised_and_a_busy_one_lowered():
    """With a ``QuietShare`` (the quiet lane's pool), a request that finds another of its
    business running is lowered only once the business is past its share of a core, which the
    pool measures from its requests' own CPU."""
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority back (CAP_SYS_NICE)")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    share = QuietShare(0.25)
    pool = FairThreadPool(4, priority=ThreadPriority(5), quiet_share=share)
    gate = threading.Event()
    held, now = partial(_nice_after, gate), _nice_now

    first = pool.submit(held, flow="a.test")
    time.sleep(0.05)
    assert pool.submit(now, flow="a.test").result(timeout=5) == base  # quiet: raised too
    # b.test computes 0.2 s of CPU: past its share, its second request at once is lowered,
    # its first still raised.
    pool.submit(_burn, 0.2, flow="b.test").result(timeout=5)
    assert not share.quiet("b.test")
    assert share.quiet("a.test")
    held_b = pool.submit(held, flow="b.test")
    time.sleep(0.05)
    assert pool.submit(now, flow="b.test").result(timeout=5) == base + 5
    gate.set()
    assert first.result(timeout=5) == base
    assert held_b.result(timeout=5) == base
    pool.shutdown(wait=True)


def test_without_a_quiet_share_every_second_request_is_lowered_in_the_lane_too():
    """``GUNICORN_LANE_QUIET_SHARE=0``: the rule before it, one raised request a business."""
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority back (CAP_SYS_NICE)")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    pool = FairThreadPool(4, priority=ThreadPriority(5), quiet_share=None)
    gate = threading.Event()
    first = pool.submit(gate.wait, 5, flow="a.test")
    time.sleep(0.05)
    second = pool.submit(_nice_now, flow="a.test")
    assert second.result(timeout=5) == base + 5
    gate.set()
    first.result(timeout=5)
    pool.shutdown(wait=True)


# --- running places: fewer threads compute at once than wait -------------------------------


def _take_later(queue: FairQueue, got: list) -> threading.Thread:
    waiter = threading.Thread(target=lambda: got.append(queue.get()), daemon=True)
    waiter.start()
    return waiter


def test_a_request_waiting_on_the_network_frees_its_running_place(monkeypatch):
    # Each place given back wakes a waiting thread: no timed second look needed.
    monkeypatch.setattr(FairQueue, "LOOK_AGAIN_SECONDS", 60.0)
    queue = FairQueue(limit=3, running=2)  # four threads, two run at once
    for i in range(3):
        queue.put("a.test", f"a{i}")
    assert queue.get() == ("a.test", "a0")
    assert queue.get() == ("a.test", "a1")  # alone: both places
    got: list = []
    waiter = _take_later(queue, got)
    waiter.join(0.3)
    assert got == [] and queue.computing() == 2  # a third thread is free, no place is
    queue.pause("a.test")  # a0 waits on Stripe
    waiter.join(2)
    assert got == [("a.test", "a2")] and queue.computing() == 2
    # Stripe answered: a0 goes on as soon as a place is free, ahead of a request not started.
    queue.put("a.test", "a3")
    resumed = threading.Event()
    resumer = threading.Thread(target=lambda: (queue.resume("a.test"), resumed.set()), daemon=True)
    resumer.start()
    got.clear()
    waiter = _take_later(queue, got)
    assert not resumed.wait(0.3)
    queue.done("a.test")  # a1 finished
    assert resumed.wait(2)
    waiter.join(0.3)
    assert got == [] and queue.computing() == 2  # a3 still waits: a0 took the place first
    queue.done("a.test")
    waiter.join(2)
    assert got == [("a.test", "a3")]


def test_a_running_place_is_kept_for_other_businesses():
    queue = FairQueue(limit=3, running=2)
    queue.put("b.test", "b0")  # another business was here a moment ago
    assert queue.get() == ("b.test", "b0")
    queue.done("b.test")
    queue.put("a.test", "a0")
    queue.put("a.test", "a1")
    assert queue.get() == ("a.test", "a0")
    got: list = []
    waiter = _take_later(queue, got)
    waiter.join(0.3)
    assert got == []  # a1 waits: a's one place of two is taken, the other kept for the others
    queue.put("c.test", "c0")
    waiter.join(2)
    assert got == [("c.test", "c0")]
    # While a0 waits on the network it holds no place: a1 runs.
    queue.pause("a.test")
    assert queue.get() == ("a.test", "a1")


def test_the_pool_never_runs_more_than_its_places_but_waits_on_the_network_on_every_thread():
    pool = FairThreadPool(4, running=2)
    lock = threading.Lock()
    now = {"computing": 0, "waiting": 0}
    most = {"computing": 0, "waiting": 0}

    def count(kind: str, delta: int) -> None:
        with lock:
            now[kind] += delta
            most[kind] = max(most[kind], now[kind])

    def request() -> None:
        count("computing", 1)
        time.sleep(0.05)  # computing (the place is held)
        count("computing", -1)
        with cpu_slots.waiting_on_network():
            count("waiting", 1)
            time.sleep(0.3)  # Stripe
            count("waiting", -1)
        count("computing", 1)
        time.sleep(0.05)
        count("computing", -1)

    started = time.monotonic()
    futures = [pool.submit(request, flow="a.test") for _ in range(8)]
    for future in futures:
        future.result(timeout=10)
    elapsed = time.monotonic() - started
    pool.shutdown()
    assert most["computing"] == 2
    assert most["waiting"] >= 3  # the threads wait on the network together
    # Eight requests of 0.1 s computing and 0.3 s waiting: two at a time would take 1.6 s.
    assert elapsed < 1.5, elapsed
    assert pool.queue.computing() == 0


def test_a_thread_that_finishes_takes_the_next_request_itself_and_wakes_no_other():
    queue = FairQueue(limit=3, running=2)
    queue.put("a.test", "a0")
    queue.put("a.test", "a1")
    assert queue.get() == ("a.test", "a0")
    assert queue.get() == ("a.test", "a1")
    queue.put("a.test", "a2")  # both places taken: a2 waits
    got: list = []
    idle = _take_later(queue, got)  # a free thread, waiting for a place
    idle.join(0.3)
    assert got == []
    # a0's thread finishes and takes a2 in the same step: the idle thread is not woken for it.
    woken: list = []
    notify = queue._ready.notify
    queue._ready.notify = lambda n=1: (woken.append(n), notify(n))  # type: ignore[method-assign]
    assert queue.done_and_get("a.test") == ("a.test", "a2")
    assert woken == []
    queue._ready.notify = notify  # type: ignore[method-assign]
    idle.join(0.4)
    assert got == [] and idle.is_alive() and queue.computing() == 2
    queue.put("a.test", "a3")
    queue.done("a.test")  # a1 finished outside the pool's loop: one waiting thread is woken
    idle.join(2)
    assert got == [("a.test", "a3")]


def test_a_request_resuming_goes_before_the_finishing_thread_takes_another():
    queue = FairQueue(limit=3, running=2)
    for i in range(3):
        queue.put("a.test", f"a{i}")
    assert queue.get() == ("a.test", "a0")
    assert queue.get() == ("a.test", "a1")
    queue.pause("a.test")  # a0 waits on Stripe
    assert queue.get() == ("a.test", "a2")
    queue.put("a.test", "a3")
    resumed = threading.Event()
    resumer = threading.Thread(target=lambda: (queue.resume("a.test"), resumed.set()), daemon=True)
    resumer.start()
    assert not resumed.wait(0.3)  # no place: a1 and a2 compute
    got: list = []
    finisher = threading.Thread(
        target=lambda: got.append(queue.done_and_get("a.test")), daemon=True
    )
    finisher.start()  # a1 finishes: the place goes to a0 resuming, not to a3
    assert resumed.wait(2)
    finisher.join(0.3)
    assert got == [] and queue.computing() == 2
    queue.done("a.test")  # a2 finished: now a3
    finisher.join(2)
    assert got == [("a.test", "a3")]


def test_a_request_resuming_passes_a_place_left_over_to_a_waiting_thread(monkeypatch):
    monkeypatch.setattr(FairQueue, "LOOK_AGAIN_SECONDS", 60.0)
    queue = FairQueue(limit=3, running=2)
    for i in range(3):
        queue.put("a.test", f"a{i}")
    for i in range(3):
        assert queue.get() == ("a.test", f"a{i}")
        if i == 0:
            queue.pause("a.test")  # a0 waits on Stripe; a1 and a2 take the places
    queue.put("a.test", "a3")
    got: list = []
    waiter = _take_later(queue, got)
    resumed = threading.Event()
    resumer = threading.Thread(target=lambda: (queue.resume("a.test"), resumed.set()), daemon=True)
    resumer.start()
    time.sleep(0.2)  # a0 waits for a place, a3 for a place
    assert not resumed.is_set() and got == []
    with queue._ready:  # a1 and a2 finish before a0's thread gets to run again
        queue.done("a.test")
        queue.done("a.test")  # two places free at once: a0 takes one ...
    assert resumed.wait(2)
    waiter.join(2)
    assert got == [("a.test", "a3")]  # ... and the other goes to a3 without a timed look


def test_the_pool_loses_no_wake_up_under_a_storm_of_mixed_requests(monkeypatch):
    """Many short requests of three businesses and the polls, a third of them waiting on the
    network midway, on four threads with two running places: every one finishes, never more
    than two computing at once. The threads' timed second look is pushed past the test's
    bound, so a request left queued with a thread and a place free, or left waiting to resume
    with a place free, and started by nothing else, fails it instead of costing 0.25 s (the
    tests above check each wake-up on its own: here other threads finishing may hide one)."""
    monkeypatch.setattr(FairQueue, "LOOK_AGAIN_SECONDS", 60.0)
    pool = FairThreadPool(4, running=2)
    lock = threading.Lock()
    now = {"computing": 0}
    most = {"computing": 0}

    def compute(delta: int) -> None:
        with lock:
            now["computing"] += delta
            most["computing"] = max(most["computing"], now["computing"])

    def request(i: int) -> int:
        compute(1)
        time.sleep(0.001)
        compute(-1)
        if i % 3 == 0:
            with cpu_slots.waiting_on_network():
                time.sleep(0.003)
            compute(1)
            compute(-1)
        return i

    flows = ["a.test", "a.test poll", "b.test", "c.test pass", "a.test front"]
    try:
        futures = [pool.submit(request, i, flow=flows[i % len(flows)]) for i in range(600)]
        assert sorted(f.result(timeout=20) for f in futures) == list(range(600))
    finally:
        pool.shutdown()
    assert most["computing"] <= 2
    assert pool.queue.computing() == 0 and len(pool.queue) == 0


def test_outside_the_pool_waiting_on_the_network_does_nothing():
    with cpu_slots.waiting_on_network():  # nothing bound: no error, nothing to release
        pass
    calls: list = []
    cpu_slots.bind(lambda: calls.append("release"), lambda: calls.append("take"))
    try:
        with cpu_slots.waiting_on_network(), cpu_slots.waiting_on_network():
            pass  # nested: given back once
        with pytest.raises(RuntimeError), cpu_slots.waiting_on_network():
            raise RuntimeError("Stripe timed out")
    finally:
        cpu_slots.unbind()
    assert calls == ["release", "take", "release", "take"]


# --- the worker's integer settings: unset, set, held within their bounds ---------------------


@pytest.mark.parametrize(
    ("read", "name", "env", "value"),
    [
        (pass_turns, "GUNICORN_PASS_TURNS", None, 8),
        (pass_turns, "GUNICORN_PASS_TURNS", "", 8),
        (pass_turns, "GUNICORN_PASS_TURNS", "0", 0),
        (pass_turns, "GUNICORN_PASS_TURNS", " 12 ", 12),
        (pass_turns, "GUNICORN_PASS_TURNS", "-1", 0),
        (busy_nice, "GUNICORN_BUSY_NICE", None, 5),
        (busy_nice, "GUNICORN_BUSY_NICE", "3", 3),
        (busy_nice, "GUNICORN_BUSY_NICE", "40", 19),
        (busy_nice, "GUNICORN_BUSY_NICE", "-2", 0),
        (gunicorn_fair.lane_priority, "GUNICORN_LANE_PRIORITY", None, 15),
        (gunicorn_fair.lane_priority, "GUNICORN_LANE_PRIORITY", "0", 0),
        (gunicorn_fair.lane_priority, "GUNICORN_LANE_PRIORITY", "99", 20),
        (lambda: running_places(4), "GUNICORN_RUNNING", None, 2),
        (lambda: running_places(4), "GUNICORN_RUNNING", "", 2),
        (lambda: running_places(2), "GUNICORN_RUNNING", "", None),
        (lambda: running_places(4), "GUNICORN_RUNNING", "3", 3),
        (lambda: running_places(4), "GUNICORN_RUNNING", "4", None),  # every thread
        (lambda: running_places(4), "GUNICORN_RUNNING", "9", None),
        (lambda: running_places(4), "GUNICORN_RUNNING", "0", None),
        (lambda: running_places(4), "GUNICORN_RUNNING", "-3", None),
        (lambda: running_places(2), "GUNICORN_RUNNING", "1", 1),
    ],
)
def test_integer_settings(monkeypatch, read, name, env, value):
    if env is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, env)
    assert read() == value


@pytest.mark.parametrize("env", ["eight", "1.5"])
def test_an_integer_setting_that_is_not_one_is_refused(monkeypatch, env):
    monkeypatch.setenv("GUNICORN_PASS_TURNS", env)
    with pytest.raises(ValueError):
        pass_turns()


# --- the worker in gunicorn ----------------------------------------------------------------

APP = """
import time

def app(environ, start_response):
    rush = environ.get("HTTP_HOST", "").startswith("rush.test")
    if rush and not environ["PATH_INFO"].endswith("/queue"):
        time.sleep(0.25)  # a checkout of the business in a rush: slow, and never shed
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, host: str, path: str = "/") -> float:
    return _answered(*_sent(port, host, path))


def _sent(port: int, host: str, path: str = "/") -> tuple[http.client.HTTPConnection, float]:
    """The request on its way (connected and written), with when it was sent."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Host": host})
    return conn, started


def _answered(conn: http.client.HTTPConnection, started: float) -> float:
    """How long the request sent at ``started`` took to be answered."""
    try:
        response = conn.getresponse()
        assert response.status == 200 and response.read() == b"ok"
    finally:
        conn.close()
    return time.monotonic() - started


@contextlib.contextmanager
def _gunicorn(
    app: str, *, threads: int, worker_class: str, running: str = "", workers: int = 1, env=None
):
    """gunicorn with ``workers`` workers (one) serving ``app`` (a module's source) on a free
    port, once it answers; ``running``: ``GUNICORN_RUNNING`` (the shell's own value never
    counts); ``env``: more of the workers' environment."""
    folder = Path(tempfile.mkdtemp(prefix="fair-"))
    (folder / "testapp.py").write_text(app)
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "testapp:app", "-b", f"127.0.0.1:{port}"]
    command += ["-w", str(workers), "--threads", str(threads), "-k", worker_class]
    command += ["--pythonpath", str(folder)]
    proc = subprocess.Popen(
        command,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GUNICORN_RUNNING": running,
            "GUNICORN_QUIET_LANE": "0",  # every worker accepts, unless a test asks for the lane
            **(env or {}),
        },
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(port, "calm.test")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _other_business_wait(worker_class: str) -> tuple[float, float, float]:
    """One worker, 2 threads; 16 slow requests of one business at once, then one quick request
    of another and one waiting-room poll of the rushing business: (how long the other business
    waited, how long the poll waited, how long the rush took)."""
    with (
        _gunicorn(APP, threads=2, worker_class=worker_class) as port,
        ThreadPoolExecutor(17) as pool,
    ):
        started = time.monotonic()
        # Sent one after the other from here, so all 16 are in the worker before the others
        # (from a thread pool, on a busy machine, some went out after them).
        sent = [_sent(port, "rush.test", "/api/v1/checkout") for _ in range(16)]
        rush = [pool.submit(_answered, conn, at) for conn, at in sent]
        # The rush is queued in the worker: a quarter of it answered (2 threads x 0.25 s), the
        # rest waiting. 0.15 s was too short for gunicorn's own pool on a loaded machine: its
        # main loop had not yet queued every rush request when the other arrived, so the other
        # went ahead of some of them (1.15 s instead of > 1.2 in one CI run).
        time.sleep(0.5)
        other = pool.submit(_get, port, "calm.test", "/api/v1/offerings")
        poll = pool.submit(_get, port, "rush.test", "/api/v1/openings/7/queue")
        waits = other.result(), poll.result()
        for future in rush:
            future.result()
        return waits[0], waits[1], time.monotonic() - started


@pytest.mark.integration
def test_another_business_is_served_while_one_saturates_the_worker():
    other, poll, rush = _other_business_wait("saas_platform.gunicorn_fair.FairThreadWorker")
    # The rush needs 16 x 0.25 s = 2 to 4 s (on one thread of the two while another business
    # was here lately, the other kept for the others); the other business, and the rushing
    # business's own waiting-room poll (a flow of its own), are served at once, not behind it.
    assert rush >= 1.8
    assert other < 0.8, other
    assert poll < 0.8, poll
    # gunicorn's own first-come pool, the same load: both wait behind the rush (this is what
    # the fair pool fixes, and shows the test can tell them apart).
    fifo_other, fifo_poll, _ = _other_business_wait("gthread")
    assert fifo_other > 1.2, fifo_other
    assert fifo_poll > 1.2, fifo_poll
    assert fifo_other > 2 * other


PASS_APP = """
import time

def app(environ, start_response):
    body = b"ok"  # the readiness check's
    if environ.get("HTTP_HOST", "").startswith("rush.test"):
        time.sleep(0.3)  # every request of the rush takes a while
        body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _answer_order(turns: str) -> list[str]:
    """One worker of one thread: a join of the rushing business taken at once, then five more
    joins and five of its families' holds (with a waiting-room pass) queued behind it; the
    order the eleven answers came in (by path)."""
    with _gunicorn(
        PASS_APP,
        threads=1,
        worker_class="saas_platform.gunicorn_fair.FairThreadWorker",
        env={"GUNICORN_PASS_TURNS": turns},
    ) as port:
        sent = []
        for i, path in enumerate(["/join0"] + [f"/join{i}" for i in range(1, 6)]):
            if i == 1:
                time.sleep(0.15)  # the first is taken; the rest queue behind it
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", path, headers={"Host": "rush.test"})
            sent.append(conn)
        for i in range(5):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Host": "rush.test", "X-Waiting-Room-Pass": "p"}
            conn.request("POST", f"/hold{i}", headers=headers)
            sent.append(conn)
        answered: list[tuple[float, str]] = []

        def read(conn: http.client.HTTPConnection) -> None:
            body = conn.getresponse().read().decode()
            answered.append((time.monotonic(), body))
            conn.close()

        with ThreadPoolExecutor(len(sent)) as pool:
            list(pool.map(read, sent))
    return [path.strip("/") for _, path in sorted(answered)]


@pytest.mark.integration
def test_the_families_let_in_go_before_their_business_joins_and_polls():
    # GUNICORN_PASS_TURNS unset: 8 of the business's turns in a row go to the holds.
    assert _answer_order("") == [
        "join0", "hold0", "hold1", "hold2", "hold3", "hold4",
        "join1", "join2", "join3", "join4", "join5",
    ]  # fmt: skip
    # 0: each flow its own turn, the holds and the joins alternate.
    assert _answer_order("0") == [
        "join0", "join1", "hold0", "join2", "hold1", "join3", "hold2", "join4", "hold3",
        "join5", "hold4",
    ]  # fmt: skip


@pytest.mark.integration
@pytest.mark.integration
def test_gunicorn_answers_a_business_polls_in_the_line_order():
    """One worker of one thread: a poll taken at once, then four queued behind it, sent with
    line tickets far back and near the front and one without (first): answered in that order."""
    with _gunicorn(
        PASS_APP, threads=1, worker_class="saas_platform.gunicorn_fair.FairThreadWorker"
    ) as port:
        orders = [None, 3_000_000, 900_000, None, 12_000]
        sent = []
        for opening, order in enumerate(orders, start=1):
            if opening == 2:
                time.sleep(0.15)  # the first is taken; the rest queue behind it
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Host": "rush.test"}
            if order is not None:
                headers["X-Waiting-Room-Ticket"] = f"line{order}:eyJ4:a:b"
            conn.request("GET", f"/api/v1/openings/{opening}/queue", headers=headers)
            sent.append(conn)
        answered: list[tuple[float, str]] = []

        def read(conn: http.client.HTTPConnection) -> None:
            body = conn.getresponse().read().decode()
            answered.append((time.monotonic(), body.split("/")[4]))
            conn.close()

        with ThreadPoolExecutor(len(sent)) as pool:
            list(pool.map(read, sent))
    assert [opening for _, opening in sorted(answered)] == ["1", "4", "5", "3", "2"]


PLACES_APP = """
import time

from kernel.cpu_slots import waiting_on_network

def app(environ, start_response):
    if environ["PATH_INFO"] == "/net":
        with waiting_on_network():
            time.sleep(0.4)  # waiting for Stripe
    elif environ["PATH_INFO"] == "/cpu":
        time.sleep(0.4)  # stands for computing: the running place is held
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


@pytest.mark.integration
def test_gunicorn_runs_one_request_at_a_time_but_lets_all_threads_wait_on_the_network():
    """One worker, four threads, ``GUNICORN_RUNNING=1``: four requests waiting on the network
    wait together; four computing take turns."""
    fair = "saas_platform.gunicorn_fair.FairThreadWorker"
    with _gunicorn(PLACES_APP, threads=4, worker_class=fair, running="1") as port:

        def four(path: str) -> float:
            started = time.monotonic()
            with ThreadPoolExecutor(4) as pool:
                for future in [pool.submit(_get, port, "a.test", path) for _ in range(4)]:
                    future.result()
            return time.monotonic() - started

        network, computing = four("/net"), four("/cpu")
    assert network < 1.2, network  # together: ~0.4 s (one at a time would be 1.6 s)
    assert computing >= 1.5, computing  # one running place: 4 x 0.4 s


# --- connections in balance between the workers ------------------------------------------------


@pytest.fixture
def board():
    return gunicorn_fair.ConnectionBoard()


@pytest.fixture
def siblings():
    """Two live processes standing in for sibling workers (their pids fill board slots)."""
    procs = [
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) for _ in range(2)
    ]
    yield [proc.pid for proc in procs]
    for proc in procs:
        proc.kill()
        proc.wait()


def _write(board, slot: int, pid: int, held: int) -> None:
    struct.pack_into("ii", board._page, slot * 8, pid, held)


def test_the_board_hands_out_free_slots_and_reuses_a_dead_workers(board, siblings):
    first, second = board.claim(), board.claim()
    assert (first, second) == (0, 1)
    _write(board, 0, siblings[0], 3)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write(board, 1, dead.pid, 5)
    assert board.claim() == 1  # its worker is gone: the slot is free again
    assert board.claim() == 2


def test_a_worker_defers_to_the_least_loaded_live_accepting_sibling(board, siblings):
    mine = board.claim()
    _write(board, 1, siblings[0], 4)
    _write(board, 2, siblings[1], 2)
    assert board.least_of_others(mine) == 2
    assert board.should_defer(mine, 3, now=100.0)  # 3 held, a sibling holds 2
    assert not board.should_defer(mine, 2, now=100.001)  # as few as the least: takes it
    _write(board, 2, siblings[1], -1)  # that sibling stopped accepting
    assert board.least_of_others(mine) == 4
    assert not board.should_defer(mine, 3, now=100.002)
    board.publish(mine, 3)
    assert board._slot(mine) == (os.getpid(), 3)
    # A slot of a dead worker, or one claimed for a worker not forked yet (the master's pid,
    # here this process's), is no sibling.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write(board, 1, dead.pid, 0)
    _write(board, 3, os.getpid(), 0)
    assert board.least_of_others(mine) is None
    assert not board.should_defer(mine, 50, now=100.003)


def test_a_worker_takes_the_connection_itself_after_the_longest_deferral(board, siblings):
    mine = board.claim()
    _write(board, 1, siblings[0], 0)
    limit = gunicorn_fair.ConnectionBoard.MAX_DEFER_SECONDS
    assert board.should_defer(mine, 5, now=10.0)
    assert board.should_defer(mine, 5, now=10.0 + limit / 2)
    assert not board.should_defer(mine, 5, now=10.0 + limit + 0.001)  # waited long enough
    assert board.should_defer(mine, 5, now=11.0)  # a new connection: a new deferral
    # A sibling took the connection this worker left to it; the next one, a second later, is
    # left to the others again, not taken at once for the old deferral's time.
    assert board.should_defer(mine, 5, now=12.0)
    assert board.should_defer(mine, 5, now=12.0 + limit / 2)


@pytest.mark.parametrize(
    "name, read",
    [
        ("GUNICORN_BALANCED_ACCEPT", gunicorn_fair.balanced_accept),
        ("GUNICORN_QUIET_LANE", gunicorn_fair.quiet_lane),
        ("GUNICORN_LANE_REALTIME", gunicorn_fair.lane_realtime),
        ("GUNICORN_LANE_WARM_UP", gunicorn_fair.lane_warm_up),
    ],
)
@pytest.mark.parametrize(
    ("env", "on"), [(None, True), ("1", True), ("0", False), ("no", False), (" false ", False)]
)
def test_settings_on_unless_turned_off(monkeypatch, name, read, env, on):
    if env is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, env)
    assert read() is on


PID_APP = """
import os

def app(environ, start_response):
    body = str(os.getpid()).encode() if environ["PATH_INFO"] == "/pid" else b"ok"
    if environ["PATH_INFO"] == "/policy":  # the thread's scheduling policy, mid-request
        time.sleep(0.3)
        body = str(os.sched_getscheduler(0)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _workers_of_a_burst(port: int, count: int) -> list[int]:
    """``count`` connections opened at once (all waiting in the listening socket's queue
    before any is accepted), then a request on each, all kept open until every answer is in:
    the worker (pid) that took each."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
    try:
        for sock in socks:
            sock.sendall(b"GET /pid HTTP/1.1\r\nHost: a.test\r\n\r\n")
        pids = []
        for sock in socks:
            answer = b""
            while not answer.endswith(b"\r\n\r\n") or len(answer.split(b"\r\n\r\n")[1]) == 0:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
                head, _, body = answer.partition(b"\r\n\r\n")
                length = [
                    v
                    for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                ]
                if length and len(body) >= int(length[0]):
                    break
            pids.append(int(answer.partition(b"\r\n\r\n")[2]))
        return pids
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.integration
def test_three_workers_share_a_burst_of_connections():
    """Twelve connections arriving at once: gthread's workers race for the listening socket
    and one often takes most of them (with ``GUNICORN_BALANCED_ACCEPT=0`` given to the server
    this test failed 5 runs of 5: [1, 1, 10], [1, 11], [2, 10]...); in balance, 4 each, give
    or take the one a sibling too slow to accept within ``MAX_DEFER_SECONDS`` leaves behind."""
    fair = "saas_platform.gunicorn_fair.FairThreadWorker"
    totals: Counter[int] = Counter()
    with _gunicorn(PID_APP, threads=4, worker_class=fair, workers=3) as port:
        time.sleep(0.5)  # every worker up (the first answer only says one is)
        for _ in range(3):
            pids = _workers_of_a_burst(port, 12)
            counts = sorted(Counter(pids).values())
            assert len(counts) == 3 and counts[0] >= 2, counts
            totals.update(pids)
            time.sleep(0.3)  # the connections closed on the workers' side too
    assert min(totals.values()) >= 9, totals


# --- the quiet lane: a worker for the businesses not in a rush ---------------------------------


def test_a_business_is_handed_over_only_while_another_is_busy_and_it_is_not():
    queue = FairQueue(limit=3)
    assert not queue.busy_with_another("b.test")  # nothing here
    queue.put("a.test", 1)
    assert not queue.busy_with_another("b.test")  # one request is not a rush
    queue.put("a.test poll", 2)  # its polls count for its business
    assert queue.busy_with_another("b.test")
    assert not queue.busy_with_another("a.test")  # never the busy business itself
    queue.get()  # taken or queued, the same
    assert queue.busy_with_another("b.test")
    queue.put("b.test", 3)
    assert queue.busy_with_another("b.test")  # b has one: still quiet here
    queue.put("b.test", 4)
    assert not queue.busy_with_another("b.test")  # two businesses busy: each stays
    # Connections whose host is unknown (closing kept-alive ones, whose EOF is read as a
    # request) are nobody's rush.
    unknown = FairQueue(limit=3)
    for item in range(3):
        unknown.put("", item)
    assert not unknown.busy_with_another("b.test")


@pytest.fixture
def lane():
    lane = gunicorn_fair.QuietLane()
    yield lane
    lane.sender.close()
    lane.receiver.close()


def _lane_write(lane, pid: int, held: int, claimed: int = 0) -> None:
    token = lane._read()[2]
    struct.pack_into("iiii", lane._page, 0, pid, held, token, claimed)


def test_the_master_gives_the_lane_role_to_one_live_worker_at_a_time(lane, siblings):
    assert lane.claim()  # none yet: this worker (the master's pid stands in until it starts)
    assert not lane.claim()  # claimed a moment ago, not started yet
    _lane_write(lane, siblings[0], 3)  # the lane's worker started
    assert not lane.claim()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _lane_write(lane, dead.pid, 3)  # it died: the next worker forked takes the role
    assert lane.claim()
    # A claim whose worker never started is free again after CLAIM_SECONDS.
    _lane_write(lane, os.getpid(), -1, int(time.monotonic()) - lane.CLAIM_SECONDS - 1)
    assert lane.claim()


def test_a_reload_gives_the_role_to_a_new_worker_and_silences_the_old(lane, siblings):
    old = lane.claim()
    lane.publish(2, old)  # the lane worker (this process stands in) says what it holds
    assert lane._read()[:2] == (os.getpid(), 2)
    assert not lane.claim()  # alive: nobody else gets the role
    lane.release()  # HUP
    new = lane.claim()
    assert new and new != old  # the first new worker forked takes it
    _lane_write(lane, siblings[0], 0)  # and starts
    lane.publish(5, old)  # the old one, stopping, no longer writes
    assert lane._read()[:2] == (siblings[0], 0)
    lane.publish(1, new)
    assert lane._read()[1] == 1


def test_a_worker_hands_over_only_to_a_live_lane_worker_taking_connections(lane, siblings):
    assert not lane.open()  # no lane worker
    _lane_write(lane, siblings[0], 0)
    assert lane.open()
    _lane_write(lane, siblings[0], lane.MAX_CONNECTIONS - 1)
    assert lane.open()
    _lane_write(lane, siblings[0], lane.MAX_CONNECTIONS)  # full
    assert not lane.open()
    _lane_write(lane, siblings[0], -1)  # stopping
    assert not lane.open()
    _lane_write(lane, os.getpid(), 0)  # itself
    assert not lane.open()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _lane_write(lane, dead.pid, 0)
    assert not lane.open()


def test_a_connection_handed_over_arrives_with_its_bytes_unread(lane):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    client.sendall(b"GET / HTTP/1.1\r\nHost: b.test\r\n\r\n")
    assert accepted.recv(64, socket.MSG_PEEK).startswith(b"GET /")  # read as the worker does
    assert lane.hand_over(accepted)
    accepted.close()  # the sending worker's descriptor: the connection lives on
    [handed] = lane.received()
    assert lane.received() == []
    assert handed.getpeername() == client.getsockname()
    handed.setblocking(True)
    assert handed.recv(64).startswith(b"GET / HTTP/1.1")  # nothing was consumed
    handed.sendall(b"answer")
    assert client.recv(16) == b"answer"
    for sock in (handed, client, server):
        sock.close()


LANE_APP = """
import os
import time

def app(environ, start_response):
    if environ.get("HTTP_HOST", "").startswith("rush.test"):
        time.sleep(0.5)  # the business in a rush: slow requests, many at once
    body = str(os.getpid()).encode() if environ["PATH_INFO"] == "/pid" else b"ok"
    if environ["PATH_INFO"] == "/policy":  # the thread's scheduling policy, mid-request
        time.sleep(0.3)
        body = str(os.sched_getscheduler(0)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _pid_of(conn: http.client.HTTPConnection, host: str) -> tuple[int, float]:
    """A request on ``conn`` (kept open): the worker that answered it, and how long it took."""
    started = time.monotonic()
    conn.request("GET", "/pid", headers={"Host": host})
    response = conn.getresponse()
    assert response.status == 200
    return int(response.read()), time.monotonic() - started


def _new_pid_of(port: int, host: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return _pid_of(conn, host)
    finally:
        conn.close()


def _rush(port: int, count: int) -> list[tuple[http.client.HTTPConnection, float]]:
    sent = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/pid", headers={"Host": "rush.test"})
        sent.append((conn, time.monotonic()))
    return sent


def _rush_pids(sent) -> set[int]:
    pids = set()
    for conn, _at in sent:
        response = conn.getresponse()
        assert response.status == 200
        pids.add(int(response.read()))
        conn.close()
    return pids


def _lane_pid(port: int, regular: int) -> int:
    """With one business busy in the regular worker, another business's new connection: handed
    to the lane's worker, answered at once; the lane worker's pid."""
    rush = _rush(port, 8)  # 8 x 0.5 s on 2 threads: ~2 s busy
    time.sleep(0.3)
    pid, took = _new_pid_of(port, "calm.test")
    assert pid != regular
    assert took < 0.8, took  # not behind the rush
    assert _rush_pids(rush) == {regular}  # the rush stayed where it was
    return pid


@contextlib.contextmanager
def _lane_server(config: Path | None = None, **env: str):
    """gunicorn with a regular worker and the quiet lane's (2 threads each, connections kept
    alive 30 s), once both are up; ``config``: a gunicorn config file; ``env``: more of the
    workers' environment."""
    args = "--keep-alive 30" + (f" -c {config}" if config else "")
    fair = "saas_platform.gunicorn_fair.FairThreadWorker"
    env = {"GUNICORN_QUIET_LANE": "1", "GUNICORN_CMD_ARGS": args, **env}
    with _gunicorn(LANE_APP, threads=2, worker_class=fair, workers=2, env=env) as port:
        time.sleep(0.5)  # both workers up (the first answer only says one is)
        yield port


def _replaced_lane_pid(port: int, regular: int) -> int:
    """The lane worker's pid once gunicorn has forked the worker that took the role (within
    20 s)."""
    deadline = time.monotonic() + 20
    while True:
        time.sleep(0.5)
        try:
            return _lane_pid(port, regular)
        except AssertionError:
            if time.monotonic() > deadline:
                raise


@pytest.mark.integration
def test_a_quiet_business_is_served_by_the_lane_worker_while_another_is_busy():
    with _lane_server() as port:
        # Calm: one worker accepts every connection, the other (the lane's) none.
        calm = {_new_pid_of(port, "calm.test")[0] for _ in range(6)}
        assert len(calm) == 1, calm
        [regular] = calm
        # A kept-alive connection opened while calm, in the regular worker...
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        assert _pid_of(kept, "calm.test")[0] == regular
        lane_pid = _lane_pid(port, regular)
        # ...is handed over at its next request while the rush is on, and stays there.
        rush = _rush(port, 8)
        time.sleep(0.3)
        pid, took = _pid_of(kept, "calm.test")
        assert pid == lane_pid and took < 0.8, (pid, took)
        assert _pid_of(kept, "calm.test")[0] == lane_pid
        kept.close()
        _rush_pids(rush)
        time.sleep(0.2)
        # Calm again: new connections stay in the regular worker.
        assert _new_pid_of(port, "calm.test")[0] == regular


@pytest.mark.integration
def test_a_lane_worker_killed_is_replaced_by_the_next_worker_forked():
    import signal

    with _lane_server() as port:
        regular = _new_pid_of(port, "calm.test")[0]
        first = _lane_pid(port, regular)
        os.kill(first, signal.SIGKILL)
        second = _replaced_lane_pid(port, regular)  # gunicorn forks a new worker for the role
        assert second != first
        assert _new_pid_of(port, "calm.test")[0] == regular


@pytest.mark.integration
def test_after_a_reload_one_of_the_new_workers_is_the_lane():
    import signal

    folder = Path(tempfile.mkdtemp(prefix="fair-"))
    (folder / "gunicorn_conf.py").write_text(
        "from saas_platform.gunicorn_conf import on_reload  # noqa: F401\n"
    )
    with _lane_server(config=folder / "gunicorn_conf.py") as port:
        regular = _new_pid_of(port, "calm.test")[0]
        old_lane = _lane_pid(port, regular)
        master = int(Path(f"/proc/{regular}/stat").read_text().split()[3])
        os.kill(master, signal.SIGHUP)  # new workers forked, the old ones stopped
        deadline = time.monotonic() + 20
        while True:
            time.sleep(0.5)
            new_regular = _new_pid_of(port, "calm.test")[0]
            if new_regular not in (regular, old_lane):
                try:
                    new_lane = _lane_pid(port, new_regular)
                    break
                except AssertionError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError("no lane among the new workers")
        assert new_lane not in (regular, old_lane, new_regular)


def _in_a_thread(fn):
    """``fn()`` on a thread of its own (Linux sets priorities per thread): its result and the
    thread's nice value before and after."""
    out: list = []

    def run() -> None:
        tid = threading.get_native_id()
        before = _nice(tid)
        result = fn()
        out.append((result, before, _nice(tid)))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    return out[0]


def test_the_lane_worker_raises_its_priority_where_it_may():
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority (CAP_SYS_NICE)")
    raised, before, after = _in_a_thread(lambda: gunicorn_fair.raise_priority(2))
    assert raised == 2 and after == before - 2
    assert _in_a_thread(lambda: gunicorn_fair.raise_priority(0)) == (0, before, before)


def test_the_lane_worker_stays_at_its_priority_where_it_may_not(monkeypatch):
    def refused(which, who, value):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "setpriority", refused)
    raised, before, after = _in_a_thread(lambda: gunicorn_fair.raise_priority(5))
    assert raised == 0 and after == before


def test_the_lane_worker_raises_as_far_as_it_may(monkeypatch):
    """A limit that allows fewer steps than asked (``RLIMIT_NICE`` 25, set for the earlier
    default of 5) still raises the lane that far, rather than leaving it at theirs."""
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority (CAP_SYS_NICE)")
    real = os.setpriority
    floors: list[int] = []

    def limited(which, who, value):
        floor = floors[0]
        if value < floor:
            raise PermissionError(1, "Operation not permitted")
        real(which, who, value)

    def raise_limited():
        floors.append(os.getpriority(os.PRIO_PROCESS, 0) - 5)
        return gunicorn_fair.raise_priority(15)

    monkeypatch.setattr(os, "setpriority", limited)
    raised, before, after = _in_a_thread(raise_limited)
    assert raised == 5 and after == before - 5


def test_the_lane_worker_says_how_far_it_rose_at_the_top():
    """Linux stops at nice -20 without an error: the steps it says it raised are the steps it
    did, so the lane's second request goes back to the others' priority, not below it."""
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority (CAP_SYS_NICE)")

    def near_the_top():
        os.setpriority(os.PRIO_PROCESS, 0, -17)
        return gunicorn_fair.raise_priority(15)

    raised, _before, after = _in_a_thread(near_the_top)
    assert after == -20 and raised == 3


def _thread_nices(pid: int) -> list[int]:
    return sorted(_nice(int(tid)) for tid in os.listdir(f"/proc/{pid}/task"))


@pytest.mark.integration
def test_the_lane_worker_runs_above_the_others_where_it_may():
    if not _may_restore_priority():
        pytest.skip("this process may not raise a thread's priority (CAP_SYS_NICE)")
    with _lane_server(GUNICORN_LANE_PRIORITY="3", GUNICORN_BUSY_NICE="0") as port:
        regular = _new_pid_of(port, "calm.test")[0]
        lane = _lane_pid(port, regular)
        master = _nice(int(Path(f"/proc/{regular}/stat").read_text().split()[3]))
        assert set(_thread_nices(regular)) == {master}
        assert set(_thread_nices(lane)) == {master - 3}  # its main loop and its pool


def _thread_policies(pid: int) -> set[int]:
    return {_policy(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.integration
@pytest.mark.parametrize(("env", "lane_policy"), [("1", os.SCHED_RR), ("0", os.SCHED_OTHER)])
def test_the_lane_worker_runs_realtime_where_it_may(env, lane_policy):
    """Its main loop and every thread of its pool in the real-time policy (off with
    ``GUNICORN_LANE_REALTIME=0``); the other workers in the normal one."""
    if not _may_run_realtime():
        pytest.skip("this process may not take the real-time policy (CAP_SYS_NICE, RLIMIT_RTPRIO)")
    with _lane_server(GUNICORN_LANE_REALTIME=env) as port:
        regular = _new_pid_of(port, "calm.test")[0]
        lane = _lane_pid(port, regular)
        assert _thread_policies(regular) == {os.SCHED_OTHER}
        assert _thread_policies(lane) == {lane_policy}


@pytest.mark.parametrize(
    ("share", "policies"),
    [(None, [os.SCHED_RR, os.SCHED_RR]), ("0", [os.SCHED_OTHER, os.SCHED_RR])],
)
@pytest.mark.integration
def test_a_quiet_business_two_requests_at_once_both_run_realtime_in_the_lane(share, policies):
    """Two requests of a quiet business at once in the lane: both in the real-time policy
    (``QuietShare``); with ``GUNICORN_LANE_QUIET_SHARE=0``, the second in the normal one."""
    if not _may_run_realtime():
        pytest.skip("this process may not take the real-time policy (CAP_SYS_NICE, RLIMIT_RTPRIO)")
    env = {} if share is None else {"GUNICORN_LANE_QUIET_SHARE": share}
    with _lane_server(**env) as port:
        regular = _new_pid_of(port, "calm.test")[0]
        lane = _lane_pid(port, regular)
        rush = _rush(port, 8)
        time.sleep(0.3)
        kept = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(2)]
        try:
            assert [_pid_of(conn, "calm.test")[0] for conn in kept] == [lane, lane]
            for conn in kept:
                conn.request("GET", "/policy", headers={"Host": "calm.test"})
            answers = [conn.getresponse() for conn in kept]
            assert sorted(int(answer.read()) for answer in answers) == sorted(policies)
        finally:
            for conn in kept:
                conn.close()
        _rush_pids(rush)


@pytest.mark.integration
def test_a_lane_worker_left_alone_accepts_connections_itself():
    """The lane's worker accepts nothing while a sibling does; cut to one worker (TTOU kills
    the oldest: the regular one, once the lane's worker was replaced), it accepts itself."""
    import signal

    with _lane_server() as port:
        regular = _new_pid_of(port, "calm.test")[0]
        master = int(Path(f"/proc/{regular}/stat").read_text().split()[3])
        os.kill(_lane_pid(port, regular), signal.SIGKILL)
        lane = _replaced_lane_pid(port, regular)  # the replacement, forked last
        os.kill(master, signal.SIGTTOU)  # one worker: the oldest, the regular one, goes
        deadline = time.monotonic() + 20
        while _alive(regular):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # Within ALONE_SECONDS and a turn of its loop; the connection waits in the backlog.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            assert _pid_of(conn, "calm.test")[0] == lane
        finally:
            conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
