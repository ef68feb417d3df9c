"""A gthread worker whose thread pool takes turns between businesses (issue 21).

gunicorn's gthread worker hands every readable connection to a ``ThreadPoolExecutor``: one FIFO
queue per process. In a registration rush one business's families (joins, polls, holds,
checkouts: nothing admission control may shed) fill that queue, and every other business's
request waits behind all of them: the other business's p99 went to ~100x its calm figure, though
admission control counted it under its fair share. The share has to be applied where the
requests wait, in the worker's own queue.

``FairThreadWorker`` keeps one queue per *flow* and its threads take the flows in turn (round
robin, one request per turn). A flow is the request's ``Host`` (a business's portal; its custom
domain is a flow of its own), read with ``MSG_PEEK`` from the bytes already in the socket, so
nothing is parsed twice and nothing is consumed; the waiting room's status polls (``GET
.../openings/<id>/queue``, ``GET /waiting-room/<id>/status.json``) are a flow of their own per
host, so a family near the front of the line sees its place and its pass while the same
business's checkouts queue; the polls of the front of the line (a front ticket, which the
waiting room hands the few dozen families it lets in next: ``FRONT_WAIT_SECONDS``) are another,
served first (up to ``FairQueue.FRONT_TURNS`` turns in a row), so their answers do not wait
behind thousands of polls from further back nor behind a round of every other flow (a ticket
whose prefix was added by hand fails its signature and gets a 400); and the requests of families
the line has let in (carrying a waiting-room pass: the apps' ``X-Waiting-Room-Pass`` header or
the web's ``wr_pass`` cookie: their class list, holds and checkouts) are another, so they do not
wait behind the thousands of families joining the line at the opening minute; more than that,
a business's turn goes to its pass flow while it has requests queued, up to ``pass_turns``
(``GUNICORN_PASS_TURNS``, 8) of the business's turns in a row before its joins or polls get
one: the seats of an opening are sold first, and the line's joins and polls, which families
repeat as often as they are answered, take what is left (docs/rush.md, twenty-fourth pass).
Another business's turns come as often as before: a turn given to the passes counts as the
flow's whose turn it was. Only the pass's presence is read here (a forged one buys its
business's own turns, nothing more: the application checks the pass itself). A connection
just accepted waits in gthread's poller until its first bytes arrive (instead of in a thread),
so its flow is known when it is queued; one whose bytes cannot be read (TLS terminated here) is
the flow ``""``.

Only when the threads are all busy is there a queue to take turns in: an idle server serves
requests in arrival order, as before. The share is by requests, not by CPU: a flow of costly
requests still gets one turn per round, which is what keeps another business's searches from
waiting behind a hundred checkouts. And one flow runs on at most all threads but one while
another flow came in the last 2 s: taking turns alone would still make the other business wait
for one of the rush's checkouts to finish (seconds, on a saturated machine), so a thread is kept
for the others. A server serving one flow alone uses every thread.

Fewer threads may *run* at once than the pool has (``GUNICORN_RUNNING``): on two cores, twenty
requests computing at once (five workers of four threads) each cost 1.3-2x the CPU they cost
alone, while a thread waiting on Stripe or S3 costs nothing but itself. So a request takes a
running place when its turn comes, gives it back while it waits on another service
(``kernel.cpu_slots.waiting_on_network``: the Stripe client and the storage uploads say so) and
takes one again, ahead of requests not started, before it goes on. The place kept for other
businesses applies to running places too: one business runs on at most all places but one
while another came lately.

A request that finds another of its business already in the worker runs at a lower CPU priority
(``ThreadPriority``, ``GUNICORN_BUSY_NICE``): a rush's threads give the cores to another
business's request first, where the worker may raise a thread's priority back afterwards.

A thread that finishes a request gives back its place and takes the next request in one step
(``FairQueue.done_and_get``), so no other thread is woken while requests keep coming; a place
freed otherwise wakes one waiting thread, a request resuming after a network wait first. Waking
every idle thread each time cost ~0.1 ms of a worker's CPU a request (docs/rush.md, fourteenth
pass).

The workers share one listening socket, and a keep-alive connection stays with the worker that
accepted it: whichever worker's main loop woke first took every connection waiting, so a load
balancer's (or a benchmark's) few connections could all land on one worker of three while the
others idled (docs/rush.md, eighteenth pass: a search round answered by one worker in 3 runs of
17, another business's searches all on one worker in 10). So the workers share a small board
(``ConnectionBoard``: each worker's pid and the connections it holds, in memory the master
mapped before forking) and a worker that holds more connections than the least loaded of the
others that are accepting leaves a new connection to them for a moment
(``ConnectionBoard.DEFER_SECONDS``), then takes it anyway once it has waited
``MAX_DEFER_SECONDS``: a sibling too busy to accept delays a connection by that much at most,
never loses it (``GUNICORN_BALANCED_ACCEPT=0`` turns this off).

One worker accepts nothing itself (``QuietLane``, ``GUNICORN_QUIET_LANE``): a worker that finds
a request's business quiet while another is busy in it hands the connection over, before any
byte is read, so another business's search does not share a process, and its GIL, with the
rush; that worker runs a few nice steps above the others where it may
(``GUNICORN_LANE_PRIORITY``), and its threads in the real-time round-robin policy
(``GUNICORN_LANE_REALTIME``), so the search gets a core first too, however many of a business's
requests come at once while it stays within its share of a core (``QuietShare``,
``GUNICORN_LANE_QUIET_SHARE``); once started, it serves itself its first request
(``saas_platform.warmup``), so a rush's first quiet search does not pay for the process's.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import mmap
import os
import re
import selectors
import socket
import struct
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

from kernel import cpu_slots

PEEK_BYTES = 2048
_HOST = re.compile(rb"\r\n[Hh][Oo][Ss][Tt][ \t]*:[ \t]*([^\r\n:]{1,253})")
_POLL = re.compile(
    rb"^GET (?:/api/v1/openings/\d{1,9}/queue|/waiting-room/\d{1,9}/status\.json)[ ?]"
)


# A waiting-room pass: the apps' header, or the web's cookie (portal.catalog.waiting_room).
_PASS = re.compile(
    rb"\r\n(?:x-waiting-room-pass[ \t]*:[ \t]*[^\s]|cookie[ \t]*:[^\r\n]*\bwr_pass=[^;\s])",
    re.IGNORECASE,
)


# A front ticket (portal.catalog.waiting_room.FRONT_PREFIX): the apps' header, or the web's
# cookie.
_FRONT = re.compile(
    rb"\r\n(?:x-waiting-room-ticket[ \t]*:[ \t]*front:"
    rb"|cookie[ \t]*:[^\r\n]*\bwr_ticket_\d{1,9}=front:)",
    re.IGNORECASE,
)


# A line ticket (portal.catalog.waiting_room.ORDER_PREFIX): its family's order in the line.
_ORDER = re.compile(
    rb"\r\n(?:x-waiting-room-ticket[ \t]*:[ \t]*line(\d{1,15}):"
    rb"|cookie[ \t]*:[^\r\n]*\bwr_ticket_\d{1,9}=line(\d{1,15}):)",
    re.IGNORECASE,
)


def poll_order(head: bytes) -> int | None:
    """The polling family's order in the line, from its line ticket in the request's first
    bytes; None without one. Read unsigned: a forged one orders a poll the application then
    refuses (``invalid_ticket``)."""
    found = _ORDER.search(head)
    if found is None:
        return None
    return int(found[1] or found[2])


POLL_FLOW = " poll"  # a host's other waiting-room polls: "<host> poll", in the line's order
FRONT_FLOW = " front"  # a host's front-of-the-line polls: "<host> front"
# Requests of a host's families the line has let in: "<host> pass".
PASS_FLOW = " pass"  # noqa: S105 - a flow's name, not a password


def flow_of(head: bytes) -> str:
    """The flow of a request from its first bytes: ``host``, ``host poll`` (a waiting-room
    status poll), ``host front`` (a poll with a front-of-the-line ticket) or ``host pass`` (a
    request carrying a waiting-room pass); "" unknown."""
    found = _HOST.search(head)
    if found is None:
        return ""
    host = found[1].strip().lower().decode("latin-1")
    if _POLL.match(head):
        return f"{host}{FRONT_FLOW}" if _FRONT.search(head) else f"{host}{POLL_FLOW}"
    if _PASS.search(head):
        return f"{host}{PASS_FLOW}"
    return host


# A business with this many requests taken or queued in a worker is busy there (``QuietLane``).
BUSY = 2


class LineQueue:
    """A poll flow's queue (``POLL_FLOW``): the requests in their families' order in the line
    (``poll_order``), then as they came; a poll without one (a family let in, not in line, or
    an older ticket) goes first, as it came. The families next in line, or let in since they
    asked, are answered first, however many polls from further back came before theirs: while
    seats are sold a business's polls wait their turns behind its passes' holds and checkouts,
    ~10 s for the last in line in the opening benchmark. The deque's interface, as far as
    ``FairQueue`` uses it."""

    __slots__ = ("_heap", "_order")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, object]] = []
        self._order = itertools.count()

    def push(self, item, order: int | None) -> None:
        heapq.heappush(self._heap, (-1 if order is None else order, next(self._order), item))

    def popleft(self):
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self):
        return (item for _, _, item in sorted(self._heap))


class FairQueue:
    """Per-flow FIFO queues served in turn (a poll flow in the line's order, ``LineQueue``).
    Thread-safe; ``get`` blocks.

    With ``limit`` (threads - 1 in the pool), one business (a host: its flow and its polls'
    together) never runs on more than ``limit`` threads at once while another business has been
    seen in the last ``RECENT_SECONDS``: a thread is kept for the others, so another business's
    request does not wait for one of the rush's checkouts to finish. A server serving one
    business alone uses every thread.

    With ``running`` (running places), at most that many requests compute at once; one taken
    with ``get`` holds a place until ``done``, except between ``pause`` and ``resume`` (a network
    wait), and a business keeps to all places but one while another came lately, as above."""

    RECENT_SECONDS = 2.0
    # The front of the line's polls (``FRONT_FLOW``) go first, up to this many turns in a row
    # before every other flow gets one: a millisecond each, a few dozen families, so they take
    # a small share of the worker even if someone floods them (a forged front ticket is refused
    # by the application, but its request still takes its turn).
    FRONT_TURNS = 4
    # A thread that found only flows at their limit looks again this soon (a business's
    # "lately" ends with no request to wake anyone).
    LOOK_AGAIN_SECONDS = 0.25

    def __init__(
        self,
        limit: int | None = None,
        running: int | None = None,
        idle: Callable[[], None] | None = None,
        pass_turns: int = 0,
    ) -> None:
        self._flows: OrderedDict[str, deque | LineQueue] = OrderedDict()
        # A business's turn goes to its families holding a waiting-room pass (``PASS_FLOW``)
        # while they have requests queued, up to this many of its turns in a row; then one
        # turn to the flow whose turn it was (its joins, its polls). 0: every flow its own turn.
        self._pass_turns = pass_turns
        self._pass_streak: dict[str, int] = {}  # by business: its turns given to its passes
        # Called by a thread about to wait for a request, with the queue's lock held: keep it
        # to a call or two (the pool's: one setpriority, and only when the thread was lowered).
        self._idle = idle
        self._running: dict[str, int] = {}  # requests taken (computing or waiting), by business
        self._seen: dict[str, float] = {}
        self._limit = limit
        # Running places (None: every thread runs). Requests computing now, in all and by
        # business, and threads waiting to take a place again after a network wait.
        self._places = running
        self._computing = 0
        self._computing_by: dict[str, int] = {}
        self._resuming = 0
        self._front_streak = 0  # front-of-the-line turns taken in a row
        # Per thread: did this thread's request find its business already running here?
        self._mine = threading.local()
        # Re-entrant: gunicorn's SIGQUIT handler shuts the pool down from the main thread, which
        # may be inside ``put`` at that moment. Threads waiting for a request (``get``) and
        # requests waiting to resume (``resume``) wait on conditions of their own over the one
        # lock, so a freed place wakes one thread that can take it, not every thread.
        lock = threading.RLock()
        self._ready = threading.Condition(lock)
        self._resumable = threading.Condition(lock)
        self._closed = False

    def put(self, flow: str, item, order: int | None = None) -> None:
        """Queue ``item`` in ``flow``; ``order``: a poll's order in the line (``LineQueue``)."""
        with self._ready:
            queue = self._flows.get(flow)
            if queue is None:
                queue = self._flows[flow] = LineQueue() if flow.endswith(POLL_FLOW) else deque()
            if isinstance(queue, LineQueue):
                queue.push(item, order)
            else:
                queue.append(item)
            self._seen[self.business(flow)] = time.monotonic()
            self._ready.notify()

    @staticmethod
    def business(flow: str) -> str:
        return flow.partition(" ")[0]  # "host poll" -> "host"

    def _others_lately(self, group: str, now: float) -> bool:
        return any(
            other != group and now - seen < self.RECENT_SECONDS
            for other, seen in self._seen.items()
        )

    def _eligible(self, flow: str, now: float) -> bool:
        group = self.business(flow)
        at_thread_limit = self._limit is not None and self._running.get(group, 0) >= self._limit
        at_place_limit = (
            self._places is not None
            and self._places > 1
            and self._computing_by.get(group, 0) >= self._places - 1
        )
        if not at_thread_limit and not at_place_limit:
            return True
        # At a limit: only while no other business came lately (then it has every thread).
        return not self._others_lately(group, now)

    def _place_free(self) -> bool:
        """A running place for a request not started yet (work under way resumes first)."""
        return self._places is None or (self._computing < self._places and not self._resuming)

    def _compute(self, group: str, delta: int) -> None:
        self._computing += delta
        left = self._computing_by.get(group, 0) + delta
        if left > 0:
            self._computing_by[group] = left
        else:
            self._computing_by.pop(group, None)

    def get(self):
        """The next item (and its flow), the flows in turn; None once closed and empty."""
        with self._ready:
            return self._take()

    def done_and_get(self, flow: str):
        """``done(flow)`` then ``get()`` under one hold of the lock: the pool's threads call it
        between requests. The thread that freed the place takes the next request itself, so no
        other thread is woken for it (a request waiting to resume is, first)."""
        with self._ready:
            self._finish(flow)
            if self._resuming:
                self._resumable.notify()
            return self._take()

    def _take(self):
        """``get``'s body; the caller holds the lock."""
        while True:
            if not self._flows and self._closed:
                return None
            now = time.monotonic()
            for flow in self._order() if self._place_free() else ():
                if self._eligible(flow, now):
                    flow = self._turn_of(flow)
                    queue = self._flows[flow]
                    item = queue.popleft()
                    if queue:
                        # Its next request waits for every other flow.
                        self._flows.move_to_end(flow)
                    else:
                        del self._flows[flow]
                    if flow.endswith(FRONT_FLOW):
                        self._front_streak += 1
                    else:
                        self._front_streak = 0
                    group = self.business(flow)
                    self._mine.second = group in self._running
                    self._running[group] = self._running.get(group, 0) + 1
                    self._compute(group, 1)
                    return flow, item
            # Nothing, or only flows at their limit: wait for a request or a thread
            # (and look again soon: "lately" moves on by itself).
            if self._idle is not None:
                self._idle()
            self._ready.wait(self.LOOK_AGAIN_SECONDS if self._flows else None)

    def _turn_of(self, flow: str) -> str:
        """The flow that takes ``flow``'s turn (the caller holds the lock): its business's
        pass flow, when that has requests queued and has not had ``pass_turns`` of the
        business's turns in a row; then ``flow`` itself, which had waited its turn. A turn
        given to the passes still counts as ``flow``'s: it waits for every other flow again,
        so another business's turn comes as often as before."""
        if not self._pass_turns or flow.endswith((PASS_FLOW, FRONT_FLOW)):
            return flow  # its own turn (the streak counts the turns taken from the others)
        group = self.business(flow)
        passes = group + PASS_FLOW
        streak = self._pass_streak.get(group, 0)
        if passes not in self._flows or streak >= self._pass_turns:
            self._pass_streak.pop(group, None)
            return flow
        self._pass_streak[group] = streak + 1
        self._flows.move_to_end(flow)
        return passes

    def _order(self) -> list[str]:
        """The flows in the order this turn looks at them: the front of a waiting room's line
        first (up to ``FRONT_TURNS`` turns in a row), then every flow in turn."""
        flows = list(self._flows)
        if self._front_streak >= self.FRONT_TURNS:
            return flows
        front = [flow for flow in flows if flow.endswith(FRONT_FLOW)]
        return front + [flow for flow in flows if not flow.endswith(FRONT_FLOW)] if front else flows

    def busy_with_another(self, business: str) -> bool:
        """Whether another business has ``BUSY`` requests or more taken or queued in this
        worker while ``business`` has fewer: its request would share the worker (its GIL, its
        running places) with another's rush (``QuietLane``)."""
        with self._ready:
            counts = dict(self._running)
            for flow, queue in self._flows.items():
                group = self.business(flow)
                counts[group] = counts.get(group, 0) + len(queue)
        if counts.get(business, 0) >= BUSY:
            return False
        # A request whose host is unknown ("": a kept-alive connection closing, TLS) is no
        # business's rush.
        return any(n >= BUSY for group, n in counts.items() if group not in (business, ""))

    def taken_beside_its_own(self) -> bool:
        """Whether the request this thread took last found another request of its business
        already taken in the worker (``ThreadPriority`` runs it at a lower CPU priority)."""
        return getattr(self._mine, "second", False)

    def pause(self, flow: str) -> None:
        """A request of ``flow`` waits on the network: its running place is free meanwhile."""
        with self._ready:
            self._compute(self.business(flow), -1)
            self._wake_one()

    def resume(self, flow: str) -> None:
        """A paused request goes on: it waits for a running place, ahead of new requests."""
        with self._ready:
            self._resuming += 1
            try:
                while self._places is not None and self._computing >= self._places:
                    self._resumable.wait()
            finally:
                self._resuming -= 1
            self._compute(self.business(flow), 1)
            self._wake_one()  # another place may be free (resumers go first)

    def done(self, flow: str) -> None:
        """A request of ``flow`` taken with ``get`` finished."""
        with self._ready:
            self._finish(flow)
            self._wake_one()

    def _finish(self, flow: str) -> None:
        group = self.business(flow)
        left = self._running.get(group, 0) - 1
        if left > 0:
            self._running[group] = left
        else:
            self._running.pop(group, None)
        self._compute(group, -1)
        now = time.monotonic()
        for stale in [g for g, seen in self._seen.items() if now - seen > 60]:
            if stale not in self._running:
                del self._seen[stale]
                self._pass_streak.pop(stale, None)

    def _wake_one(self) -> None:
        """A place or a thread came free: wake the one thread that should take it, a request
        waiting to resume first (the caller holds the lock). Every thread waiting in ``get``
        could take the same requests, so one is enough; one that finds nothing it may take
        waits again, and looks again within ``LOOK_AGAIN_SECONDS`` while requests wait."""
        if self._resuming and (self._places is None or self._computing < self._places):
            self._resumable.notify()
        elif self._flows and self._place_free():
            self._ready.notify()

    def computing(self) -> int:
        """Requests holding a running place now (read by the tests)."""
        with self._ready:
            return self._computing

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
            self._resumable.notify_all()

    def drain(self) -> list:
        with self._ready:
            items = [item for queue in self._flows.values() for item in queue]
            self._flows.clear()
            return items

    def __len__(self) -> int:
        with self._ready:
            return sum(len(queue) for queue in self._flows.values())


def allow_nice(nice: int) -> None:
    """Let this process set a thread's nice value as high as ``nice`` (lower is higher
    priority): raise the soft ``RLIMIT_NICE`` to the 20 - ``nice`` that takes, if the hard limit
    allows it. Does nothing otherwise (``CAP_SYS_NICE`` needs no limit)."""
    import resource

    wanted = 20 - nice
    soft, hard = resource.getrlimit(resource.RLIMIT_NICE)
    if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NICE, (wanted, hard))


class ThreadPriority:
    """A pool thread's CPU priority, request by request: a business's request that finds
    another of the same business already in the worker runs ``lower`` nice steps below the
    process's priority; the others at the process's priority.

    On a saturated machine another business's search spent most of its time waiting for a
    core, not for the GIL: measured in the opening benchmark (``/proc/thread-self/schedstat``
    around each request), 3-5 ms at the median of its 5-9 ms runnable behind the rush's
    threads, PostgreSQL and the rest, 0.2-0.6 ms waiting on the GIL or the network. The kept
    place gives it a thread and a running place at once; this gives it the core (2-2.7 ms
    waiting for one instead). A business alone with one request at a time never runs
    lowered.

    Linux sets nice values per thread. Lowering one's priority is always allowed; raising it
    back needs ``CAP_SYS_NICE`` or ``RLIMIT_NICE`` >= 20 (compose sets 35, for the quiet lane's
    raised worker too: ``ulimits: nice: 35``; systemd: ``LimitNICE=35``). ``available``
    tries both ways on a thread of its own once per worker; where it may not restore a
    priority it does nothing, so no thread is lowered that could not be raised back. (Should
    the right be taken away later, the raise that fails leaves that one thread lowered and
    turns the rest off: nothing else could raise it.)

    ``realtime`` (the quiet lane's, ``GUNICORN_LANE_REALTIME``): the threads run in the
    real-time round-robin policy, which the nice value does not lower, so a lowered request
    also leaves it for the normal policy and takes it again after."""

    def __init__(self, lower: int, *, realtime: bool = False) -> None:
        self.lower = lower
        self.realtime = realtime
        self.base = os.getpriority(os.PRIO_PROCESS, 0)
        self._local = threading.local()
        self.enabled = (lower > 0 or realtime) and self.available(lower, realtime=realtime)

    @staticmethod
    def available(lower: int, *, realtime: bool = False) -> bool:
        """Whether a thread of this process may lower its priority and raise it back (raising
        the soft ``RLIMIT_NICE`` up to its hard limit first, if that is what it takes);
        ``realtime``: and leave the real-time policy and take it again."""
        allow_nice(os.getpriority(os.PRIO_PROCESS, 0))
        result: list[bool] = []

        def probe() -> None:
            tid = threading.get_native_id()
            base = os.getpriority(os.PRIO_PROCESS, tid)
            try:
                os.setpriority(os.PRIO_PROCESS, tid, base + lower)
                os.setpriority(os.PRIO_PROCESS, tid, base)
            except OSError:
                result.append(False)
                return
            result.append(not realtime or (realtime_set(False, tid) and realtime_set(True, tid)))

        thread = threading.Thread(target=probe, name="priority-probe", daemon=True)
        thread.start()
        thread.join()
        return bool(result and result[0])

    def set(self, lowered: bool) -> None:
        """This thread's priority for the request it is about to serve (``realtime``: a
        lowered request also leaves the real-time policy for the others' one)."""
        if not self.enabled or getattr(self._local, "lowered", False) == lowered:
            return
        tid = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, tid, self.base + self.lower if lowered else self.base)
        except OSError:
            self.enabled = False  # the right was taken away since the probe: stop here
            return
        if self.realtime and not realtime_set(not lowered, tid):
            self.enabled = False
            return
        self._local.lowered = lowered


class QuietShare:
    """Which businesses are quiet in the quiet lane, by the CPU their requests there took: a
    leaky bucket per business that each request fills with its thread's CPU seconds and that
    drains at ``share`` of a core; a business is quiet while its bucket holds no more than
    ``BURST`` seconds. A quiet business's requests all run raised in the lane, however many
    come at once; a business past its share (a rush that found its way into the lane behind a
    proxy's shared connection, say) gets one raised request at a time until its bucket drains.

    Taking only the first of a business's requests at a time raised (the rule before) lowered
    a quiet business's second request whenever two came together: 4 % of business B's searches
    in the opening benchmark, its slowest four among them, each waiting 8.1-12.4 ms for a core
    behind the rush (docs/rush.md, "The quiet lane"). B takes ~6 % of a core; a business needs
    four times that before it is lowered, and a burst above the share is bounded by ``BURST``."""

    BURST = 0.05  # seconds of CPU above the share before a business is lowered
    MAX_BUSINESSES = 1024  # drained buckets are dropped past this many

    def __init__(self, share: float) -> None:
        self.share = share
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # business -> (level, when)

    def _level(self, business: str, now: float) -> float:
        level, when = self._buckets.get(business, (0.0, now))
        return max(0.0, level - (now - when) * self.share)

    def quiet(self, business: str, now: float | None = None) -> bool:
        """Whether ``business`` is within its share now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._level(business, now) <= self.BURST

    def spend(self, business: str, cpu: float, now: float | None = None) -> None:
        """A request of ``business`` took ``cpu`` seconds of its thread's CPU."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._buckets) >= self.MAX_BUSINESSES and business not in self._buckets:
                for other in [b for b in self._buckets if self._level(b, now) == 0.0]:
                    del self._buckets[other]
            self._buckets[business] = (self._level(business, now) + cpu, now)


DEFAULT_LANE_QUIET_SHARE = 25


def lane_quiet_share() -> float:
    """``GUNICORN_LANE_QUIET_SHARE`` (default 25): the percentage of a core a business's
    requests in the quiet lane may take and still all run raised there (``QuietShare``); 0:
    only a business's first request at a time runs raised."""
    return env_int("GUNICORN_LANE_QUIET_SHARE", DEFAULT_LANE_QUIET_SHARE, high=100) / 100


class FairThreadPool:
    """What gthread needs of its pool (``submit``, ``shutdown``), over a ``FairQueue``."""

    def __init__(
        self,
        threads: int,
        running: int | None = None,
        priority: ThreadPriority | None = None,
        pass_turns: int = 0,
        quiet_share: QuietShare | None = None,
    ) -> None:
        places = None if running is None or running >= threads else max(running, 1)
        self.priority = priority
        # The quiet lane's: a business's requests beside its own run lowered only past its
        # share (None: always, as in the other workers).
        self.quiet_share = quiet_share if priority is not None else None
        self.queue = FairQueue(
            limit=threads - 1 if threads > 1 else None,
            running=places,
            # A thread waits for its next request at the process's priority: the request that
            # wakes it may be another business's, and it would wake lowered.
            idle=partial(priority.set, False) if priority is not None else None,
            pass_turns=pass_turns,
        )
        self._threads = [
            threading.Thread(target=self._run, name=f"fair-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn, *args, flow: str = "", order: int | None = None) -> Future:
        future: Future = Future()
        self.queue.put(flow, (future, fn, args), order)
        return future

    def _run(self) -> None:
        taken = self.queue.get()
        while taken is not None:
            flow, (future, fn, args) = taken
            try:
                if future.set_running_or_notify_cancel():
                    quiet, business = self.quiet_share, FairQueue.business(flow)
                    if self.priority is not None:
                        lowered = self.queue.taken_beside_its_own()
                        if lowered and quiet is not None:
                            lowered = not quiet.quiet(business)
                        self.priority.set(lowered)
                    cpu_slots.bind(
                        partial(self.queue.pause, flow), partial(self.queue.resume, flow)
                    )
                    started = time.thread_time() if quiet is not None else 0.0
                    try:
                        result = fn(*args)
                    except BaseException as exc:  # to the future, as ThreadPoolExecutor does
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
                    if quiet is not None:
                        quiet.spend(business, time.thread_time() - started)
            except BaseException:
                cpu_slots.unbind()
                self.queue.done(flow)
                raise
            cpu_slots.unbind()
            # This request's place is given back and the next request taken in one step.
            taken = self.queue.done_and_get(flow)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for future, _fn, _args in self.queue.drain():
                future.cancel()
        self.queue.close()
        if wait:
            for thread in self._threads:
                thread.join()


def _read_ahead(conn) -> bytes:
    """Bytes of the connection's next request its parser already read from the socket."""
    parser = getattr(conn, "parser", None)
    if parser is None:
        return b""
    try:
        return parser.unreader.buf.getvalue()
    except AttributeError:
        return b""


def peek(conn) -> bytes | None:
    """The bytes of the request waiting on ``conn``, without consuming any; None when none
    have arrived yet."""
    if getattr(conn.cfg, "is_ssl", False):
        return b""
    buffered = _read_ahead(conn)  # a kept-alive connection may hold bytes read ahead
    if len(buffered) >= PEEK_BYTES:
        return buffered
    try:
        head = conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return buffered or None
    except OSError:
        head = b""  # the handler meets the error and closes the connection
    return buffered + head


DEFAULT_RUNNING = 2


def env_int(name: str, default: int, *, low: int | None = 0, high: int | None = None) -> int:
    """The integer in the environment variable ``name`` (spaces around it ignored), ``default``
    when it is unset or empty, held within ``low`` and ``high`` (None: no bound)."""
    raw = os.environ.get(name, "").strip()
    value = int(raw) if raw else default
    if low is not None:
        value = max(low, value)
    return value if high is None else min(high, value)


def env_on(name: str) -> bool:
    """An on/off setting that is on unless the environment variable ``name`` says ``0``,
    ``false`` or ``no`` (spaces around it ignored)."""
    return os.environ.get(name, "1").strip() not in ("0", "false", "no")


def running_places(threads: int) -> int | None:
    """How many of a worker's threads run at once (``GUNICORN_RUNNING``, default 2; 0: all of
    them); None when that is every thread."""
    places = env_int("GUNICORN_RUNNING", DEFAULT_RUNNING, low=None)
    return None if places <= 0 or places >= threads else places


DEFAULT_BUSY_NICE = 5


def busy_nice() -> int:
    """How many nice steps lower a business's requests run while another of its requests is
    in the worker (``GUNICORN_BUSY_NICE``, default 5; 0: never)."""
    return env_int("GUNICORN_BUSY_NICE", DEFAULT_BUSY_NICE, high=19)


DEFAULT_PASS_TURNS = 8


def pass_turns() -> int:
    """How many of a business's turns in a row go to its families holding a waiting-room
    pass before its other flows (joins, polls) get one (``GUNICORN_PASS_TURNS``, default 8;
    0: every flow its own turn, as before the twenty-fourth pass)."""
    return env_int("GUNICORN_PASS_TURNS", DEFAULT_PASS_TURNS)


class ConnectionBoard:
    """Each worker's pid and how many connections it holds, in a page of memory shared by
    the master and its workers (mapped before the workers fork), so a worker can leave a new
    connection to a sibling holding fewer. Slots are handed out in the master, one per worker
    as it is created (before its fork), a slot whose process is gone being free again. A slot's
    count is -1 while its worker does not accept (shutting down, or at its connection limit).
    Reads and writes are single aligned 32-bit words: never torn, at worst a moment stale."""

    SLOTS = 64
    DEFER_SECONDS = 0.002  # how long a worker leaves a connection to the others at a time
    MAX_DEFER_SECONDS = 0.02  # and in all, before it takes the connection itself

    def __init__(self) -> None:
        self._page = mmap.mmap(-1, self.SLOTS * 8)  # anonymous and shared with forked children
        self._deferring_since: float | None = None

    def _slot(self, i: int) -> tuple[int, int]:
        return struct.unpack_from("ii", self._page, i * 8)

    def claim(self) -> int:
        """In the master: a free slot for a worker about to be forked (its pid unknown yet,
        the master's own pid stands in until the worker writes its own); -1 if none is free."""
        for i in range(self.SLOTS):
            pid, _ = self._slot(i)
            if pid == 0 or not _alive(pid):
                struct.pack_into("ii", self._page, i * 8, os.getpid(), -1)
                return i
        return -1

    def publish(self, slot: int, connections: int) -> None:
        """In a worker: its pid and the connections it holds (-1: it does not accept)."""
        if slot >= 0:
            struct.pack_into("ii", self._page, slot * 8, os.getpid(), connections)

    def least_of_others(self, slot: int) -> int | None:
        """The fewest connections held by another live worker that accepts; None if none."""
        least = None
        me, master = os.getpid(), os.getppid()
        for i in range(self.SLOTS):
            if i == slot:
                continue
            pid, held = self._slot(i)
            if pid == 0 or held < 0 or pid in (me, master) or not _alive(pid):
                continue
            least = held if least is None else min(least, held)
        return least

    def should_defer(self, slot: int, held: int, now: float) -> bool:
        """Whether a worker holding ``held`` connections leaves a waiting one to the others:
        while another accepting worker holds fewer, for ``MAX_DEFER_SECONDS`` at most."""
        least = self.least_of_others(slot) if slot >= 0 else None
        if least is None or held <= least:
            self._deferring_since = None
            return False
        if (
            self._deferring_since is None
            or now - self._deferring_since > 5 * self.MAX_DEFER_SECONDS
        ):
            # A new connection (a sibling took the one this worker last left to it).
            self._deferring_since = now
        if now - self._deferring_since >= self.MAX_DEFER_SECONDS:
            self._deferring_since = None  # waited long enough: this worker takes it
            return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process took the pid: not one of ours
        return False
    return True


def balanced_accept() -> bool:
    """``GUNICORN_BALANCED_ACCEPT`` (default on; 0 turns it off)."""
    return env_on("GUNICORN_BALANCED_ACCEPT")


# Mapped in the master when gunicorn loads the worker class, so every worker shares it.
BOARD = ConnectionBoard() if balanced_accept() else None


class QuietLane:
    """One worker kept for the businesses that are not in a rush: a connection whose request
    belongs to a business that is quiet in the worker holding it, while another business is
    busy there, is handed to that worker (its file descriptor, over a Unix socket), which
    accepts nothing from the listening socket itself.

    Inside one worker the fair pool gives another business's search a thread and a running
    place at once, and ``ThreadPriority`` the core first; but it still shares the worker's GIL
    with the rush's threads, and a priority the GIL does not know about stops there (docs/
    rush.md, sixteenth pass: the rush's threads under ``SCHED_IDLE`` halved business B's wait
    for a core and B's answers came no sooner, the time moved to the GIL). In a process of its
    own, B's request has its own GIL, threads that all run and none lowered; the rush's
    threads compete with it only for the cores.

    The hand-over happens where the fair worker reads a request's first bytes with
    ``MSG_PEEK`` (nothing consumed, so the lane's worker reads the request from the start),
    only at a request's boundary with no bytes read ahead, and only while the lane's worker is
    alive, taking connections and holding fewer than ``MAX_CONNECTIONS``; otherwise the
    request is served where it is, as without the lane. A connection handed over stays in the
    lane's worker for its next requests (a keep-alive client's connection is its own; behind
    a proxy that sends many businesses' requests over one upstream connection, the others'
    come along, served all the same). The socket pair and a few words of shared memory (the
    lane worker's pid, the connections it holds, the role's token and when the master gave
    it) are made in the master before the workers fork; the master gives the role to the next
    worker it creates whenever no live worker has it, so a lane worker recycled or killed is
    replaced by the next one forked. A lane worker left with no sibling that accepts accepts
    connections itself meanwhile."""

    MAX_CONNECTIONS = 64
    # A role the master gave a worker not forked (or not started) since is free again after
    # this long.
    CLAIM_SECONDS = 30

    def __init__(self) -> None:
        self.sender, self.receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sender.setblocking(False)
        self.receiver.setblocking(False)
        # The lane worker's pid, the connections it holds (-1: taking none), the role's token
        # (a new one each time the role is given or taken back) and when it was given.
        self._page = mmap.mmap(-1, 16)

    def _read(self) -> tuple[int, int, int, int]:
        return struct.unpack_from("iiii", self._page, 0)

    def claim(self) -> int:
        """In the master, for a worker about to be forked: the role's token if it is the lane's
        worker (no live worker is; the master's own pid stands in until the worker writes its
        own), else 0."""
        pid, _held, token, claimed = self._read()
        now = int(time.monotonic())
        if pid and _alive(pid) and (pid != os.getpid() or now - claimed < self.CLAIM_SECONDS):
            return 0
        token = token % 2_000_000_000 + 1
        struct.pack_into("iiii", self._page, 0, os.getpid(), -1, token, now)
        return token

    def release(self) -> None:
        """In the master, reloading (``HUP``): the role goes to the first new worker it forks;
        the old lane worker, stopping, writes no more (its token is no longer the role's)."""
        _pid, _held, token, _claimed = self._read()
        struct.pack_into("iiii", self._page, 0, 0, -1, token % 2_000_000_000 + 1, 0)

    def publish(self, held: int, token: int) -> None:
        """In the lane's worker: its pid and the connections it holds (-1: taking none), while
        the role is still its own."""
        _pid, _held, current, claimed = self._read()
        if current == token:
            struct.pack_into("iiii", self._page, 0, os.getpid(), held, token, claimed)

    def open(self) -> bool:
        """In another worker: whether the lane's worker takes a connection now."""
        pid, held, _token, _claimed = self._read()
        return (
            pid > 0
            and 0 <= held < self.MAX_CONNECTIONS
            and pid not in (os.getpid(), os.getppid())
            and _alive(pid)
        )

    def hand_over(self, sock: socket.socket) -> bool:
        """Send the connection to the lane's worker; False (the caller keeps it) if the
        socket pair's buffer is full."""
        try:
            socket.send_fds(self.sender, [b"c"], [sock.fileno()])
        except OSError:
            return False
        return True

    def received(self) -> list[socket.socket]:
        """In the lane's worker: the connections handed over since it last looked."""
        socks: list[socket.socket] = []
        while True:
            try:
                _msg, fds, _flags, _addr = socket.recv_fds(self.receiver, 1, 1)
            except OSError:  # BlockingIOError: none left
                break
            socks.extend(socket.socket(fileno=fd) for fd in fds)
        return socks


DEFAULT_LANE_PRIORITY = 15


def lane_priority() -> int:
    """``GUNICORN_LANE_PRIORITY`` (default 15): how many nice steps above the other workers the
    quiet lane's worker runs, where it may (0: at theirs)."""
    return env_int("GUNICORN_LANE_PRIORITY", DEFAULT_LANE_PRIORITY, high=20)


def raise_priority(steps: int) -> int:
    """Raise this thread (and the threads it starts next) up to ``steps`` nice steps, as far as
    allowed: ``CAP_SYS_NICE``, or ``RLIMIT_NICE`` >= 20 + the steps above nice 0 (the soft
    limit is raised to the hard one first, if that is what it takes). The steps it raised:
    ``steps``, fewer where only fewer are allowed (a limit set for an earlier, smaller
    default still gives that much), 0 where none is (the priority is left as it was)."""
    if steps <= 0:
        return 0
    base = os.getpriority(os.PRIO_PROCESS, 0)
    allow_nice(base - steps)
    for raised in range(steps, 0, -1):
        try:
            os.setpriority(os.PRIO_PROCESS, 0, base - raised)
        except OSError:
            continue
        # What it became: Linux stops at -20 without a word (a master started raised already).
        return base - os.getpriority(os.PRIO_PROCESS, 0)
    return 0


REALTIME_PRIORITY = 1  # the lowest real-time priority: above every thread of the others' policy


def lane_realtime() -> bool:
    """``GUNICORN_LANE_REALTIME`` (default on; 0 turns it off): the quiet lane's worker runs
    its threads in the real-time round-robin policy, where it may."""
    return env_on("GUNICORN_LANE_REALTIME")


def realtime_set(on: bool, tid: int = 0) -> bool:
    """Put the thread ``tid`` (0: this one; the threads it starts next inherit it) in the
    real-time round-robin policy at ``REALTIME_PRIORITY``, or back in the normal one. Taking
    it needs ``CAP_SYS_NICE`` or an ``RLIMIT_RTPRIO`` of 1 or more (the soft limit is raised to
    the hard one first, if that is what it takes); leaving it is always allowed. Whether it
    did."""
    import resource

    try:
        if on:
            soft, hard = resource.getrlimit(resource.RLIMIT_RTPRIO)
            if soft < REALTIME_PRIORITY and (
                hard == resource.RLIM_INFINITY or hard >= REALTIME_PRIORITY
            ):
                with contextlib.suppress(ValueError, OSError):
                    resource.setrlimit(resource.RLIMIT_RTPRIO, (REALTIME_PRIORITY, hard))
            os.sched_setscheduler(tid, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
        else:
            os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
    except (OSError, AttributeError):  # not allowed; or not Linux
        return False
    return True


def lane_warm_up() -> bool:
    """``GUNICORN_LANE_WARM_UP`` (default on; 0 turns it off): the quiet lane's worker serves
    itself one class search once it starts (``saas_platform.warmup``)."""
    return env_on("GUNICORN_LANE_WARM_UP")


def quiet_lane() -> bool:
    """``GUNICORN_QUIET_LANE`` (default on; 0 turns it off)."""
    return env_on("GUNICORN_QUIET_LANE")


# Made in the master when gunicorn loads the worker class, before the workers fork.
LANE = QuietLane() if quiet_lane() else None


class FairThreadWorker(ThreadWorker):
    """gthread with the fair pool (``saas_platform/gunicorn_conf.py`` uses it), accepting
    connections in balance with its siblings (``ConnectionBoard``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # In the master, before the fork: this worker's slot on the board.
        self.board = BOARD
        self.board_slot = BOARD.claim() if BOARD is not None else -1
        self._accept_after = 0.0  # deferring a new connection to the others until then
        # The quiet lane's worker (``QuietLane``): given the role in the master, before the
        # fork; a server of one worker has none (it must accept).
        self.lane = LANE
        self.lane_token = LANE.claim() if LANE is not None and self.cfg.workers >= 2 else 0
        self.quiet = bool(self.lane_token)
        self._lane_listening = False
        self._alone_since: float | None = None

    def set_accept_enabled(self, enabled):
        if self.quiet:
            # The lane's worker takes connections from its siblings only, unless none is left
            # to accept them (the workers cut to one with TTOU, the others gone): then it
            # accepts, until one is back.
            enabled = enabled and self._alone()
        if enabled and time.monotonic() < self._accept_after:
            enabled = False  # leaving the waiting connection to a sibling a moment longer
        super().set_accept_enabled(enabled)

    def accept(self, listener):
        board = self.board
        if board is not None:
            now = time.monotonic()
            if board.should_defer(self.board_slot, self.nr_conns, now):
                self._accept_after = now + board.DEFER_SECONDS
                self.set_accept_enabled(False)
                return
        super().accept(listener)
        if board is not None:
            board.publish(self.board_slot, self._held())

    # How long the lane's worker must have seen no sibling accepting before it accepts itself
    # (its siblings, forked with it, publish within milliseconds of starting).
    ALONE_SECONDS = 2.0

    def _alone(self) -> bool:
        """Whether no live sibling has accepted connections for ``ALONE_SECONDS`` (as the
        board says; without the board, ``GUNICORN_BALANCED_ACCEPT=0``, the lane's worker cannot
        tell and never accepts)."""
        board = self.board
        if board is None or board.least_of_others(self.board_slot) is not None:
            self._alone_since = None
            return False
        now = time.monotonic()
        if self._alone_since is None:
            self._alone_since = now
        return now - self._alone_since >= self.ALONE_SECONDS

    def _held(self) -> int:
        """The connections this worker holds, for its siblings; -1 when it takes no more
        (stopping, or at its limit). A worker deferring to a sibling still counts: it would
        take a connection if the sibling did not."""
        if self.quiet or not self.alive or self.nr_conns >= self.worker_connections:
            return -1
        return self.nr_conns

    def wait_for_and_dispatch_events(self, timeout):
        if self.quiet:
            self._lane_turn()
        board = self.board
        if board is not None:
            board.publish(self.board_slot, self._held())
            if self._accept_after:
                remaining = self._accept_after - time.monotonic()
                if remaining > 0:
                    timeout = min(timeout, remaining)
                else:
                    self._accept_after = 0.0
        super().wait_for_and_dispatch_events(timeout)

    def init_process(self):
        if self.quiet:
            # Before the pool's threads start: they take the main thread's priority (and its
            # scheduling policy).
            self.lane_raised = raise_priority(lane_priority())
            self.lane_realtime = lane_realtime() and realtime_set(True)
        super().init_process()

    def _lane_turn(self) -> None:
        """The lane's worker, each time round its loop: listening on the socket pair while it
        is alive, not once it stops (a stopping worker takes no more), and saying how many
        connections it holds."""
        lane = self.lane
        if lane is None:
            return
        taking = self.alive and self.nr_conns < min(self.worker_connections, lane.MAX_CONNECTIONS)
        if taking and not self._lane_listening:
            self.poller.register(lane.receiver, selectors.EVENT_READ, self._take_handed)
            self._lane_listening = True
        elif not self.alive and self._lane_listening:
            self.poller.unregister(lane.receiver)
            self._lane_listening = False
        lane.publish(self.nr_conns if self.alive else -1, self.lane_token)
        # Accepting itself only while no sibling does (gthread's loop asks only when its own
        # limit changes).
        self.set_accept_enabled(self.alive and self.nr_conns < self.worker_connections)

    def _take_handed(self, _receiver) -> None:
        """The connections a sibling handed over, each queued like one just accepted (its
        request's bytes are waiting, unread)."""
        lane = self.lane
        if lane is None:
            return
        for sock in lane.received():
            try:
                client, server = sock.getpeername(), sock.getsockname()
            except OSError:  # the client left meanwhile
                sock.close()
                continue
            self.nr_conns += 1
            self.enqueue_req(TConn(self.cfg, sock, client, server))
        lane.publish(self.nr_conns if self.alive else -1, self.lane_token)

    def _hands_over(self, conn, flow: str) -> bool:
        """Hand ``conn`` to the quiet lane's worker, if its request's business is quiet here
        while another is busy (``QuietLane``); whether it did (this worker no longer holds
        it)."""
        lane = self.lane
        if lane is None or self.quiet or not flow or not self.alive or conn.is_http2:
            return False
        if _read_ahead(conn):
            return False  # bytes this worker's parser already took would not go with it
        queue = getattr(self.tpool, "queue", None)
        if queue is None or not queue.busy_with_another(FairQueue.business(flow)):
            return False
        if not lane.open() or not lane.hand_over(conn.sock):
            return False
        self.nr_conns -= 1
        conn.sock.close()  # this process's descriptor; the connection lives on in the lane's
        return True

    def get_thread_pool(self):
        if self.quiet:
            # The businesses not in a rush: every thread runs; raised above the other workers
            # where allowed, a business's second request at once back at their priority once
            # the business is past its share of a core (``QuietShare``).
            raised = getattr(self, "lane_raised", 0)
            realtime = getattr(self, "lane_realtime", False)
            share = lane_quiet_share()
            return FairThreadPool(
                self.cfg.threads,
                priority=ThreadPriority(raised, realtime=realtime) if raised or realtime else None,
                quiet_share=QuietShare(share) if share > 0 else None,
            )
        lower = busy_nice()
        return FairThreadPool(
            self.cfg.threads,
            running=running_places(self.cfg.threads),
            priority=ThreadPriority(lower) if lower else None,
            pass_turns=pass_turns(),
        )

    def enqueue_req(self, conn):
        head = peek(conn)
        if head is None and not conn.initialized and not conn.data_ready and self.alive:
            # Just accepted, nothing sent yet: wait in the poller (gthread's own place for
            # connections without data) so its flow is known when it is queued.
            conn.timeout = time.monotonic() + self.cfg.keepalive
            self.pending_conns.append(conn)
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
            )
            return
        flow = flow_of(head or b"")
        if self._hands_over(conn, flow):
            return
        order = poll_order(head) if head and flow.endswith(POLL_FLOW) else None
        fs = self.tpool.submit(self.handle, conn, flow=flow, order=order)
        fs.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))
