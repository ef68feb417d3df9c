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
wait behind the thousands of families joining the line at the opening minute. Only the pass's
presence is read here (a forged one buys a turn among the business's own flows, nothing more:
the application checks the pass itself). A connection just accepted waits in gthread's poller
until its first bytes arrive (instead of in a thread), so its flow is known when it is queued;
one whose bytes cannot be read (TLS terminated here) is the flow ``""``.

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
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial

from gunicorn.workers.gthread import ThreadWorker

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


FRONT_FLOW = " front"  # a host's front-of-the-line polls: "<host> front"


def flow_of(head: bytes) -> str:
    """The flow of a request from its first bytes: ``host``, ``host poll`` (a waiting-room
    status poll), ``host front`` (a poll with a front-of-the-line ticket) or ``host pass`` (a
    request carrying a waiting-room pass); "" unknown."""
    found = _HOST.search(head)
    if found is None:
        return ""
    host = found[1].strip().lower().decode("latin-1")
    if _POLL.match(head):
        return f"{host}{FRONT_FLOW}" if _FRONT.search(head) else f"{host} poll"
    if _PASS.search(head):
        return f"{host} pass"
    return host


class FairQueue:
    """Per-flow FIFO queues served in turn. Thread-safe; ``get`` blocks.

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
    ) -> None:
        self._flows: OrderedDict[str, deque] = OrderedDict()
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

    def put(self, flow: str, item) -> None:
        with self._ready:
            queue = self._flows.get(flow)
            if queue is None:
                queue = self._flows[flow] = deque()
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

    def _order(self) -> list[str]:
        """The flows in the order this turn looks at them: the front of a waiting room's line
        first (up to ``FRONT_TURNS`` turns in a row), then every flow in turn."""
        flows = list(self._flows)
        if self._front_streak >= self.FRONT_TURNS:
            return flows
        front = [flow for flow in flows if flow.endswith(FRONT_FLOW)]
        return front + [flow for flow in flows if not flow.endswith(FRONT_FLOW)] if front else flows

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
    back needs ``CAP_SYS_NICE`` or ``RLIMIT_NICE`` >= 20 (compose: ``ulimits: nice: 20``;
    systemd: ``LimitNICE=20``). ``available`` tries both ways on a thread of its own once per
    worker; where it may not restore a priority it does nothing, so no thread is lowered that
    could not be raised back. (Should the right be taken away later, the raise that fails
    leaves that one thread lowered and turns the rest off: nothing else could raise it.)"""

    def __init__(self, lower: int) -> None:
        self.lower = lower
        self.base = os.getpriority(os.PRIO_PROCESS, 0)
        self._local = threading.local()
        self.enabled = lower > 0 and self.available(lower)

    @staticmethod
    def available(lower: int) -> bool:
        """Whether a thread of this process may lower its priority and raise it back (raising
        the soft ``RLIMIT_NICE`` up to its hard limit first, if that is what it takes)."""
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NICE)
        wanted = 20 - os.getpriority(os.PRIO_PROCESS, 0)
        if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NICE, (wanted, hard))
        result: list[bool] = []

        def probe() -> None:
            tid = threading.get_native_id()
            base = os.getpriority(os.PRIO_PROCESS, tid)
            try:
                os.setpriority(os.PRIO_PROCESS, tid, base + lower)
                os.setpriority(os.PRIO_PROCESS, tid, base)
            except OSError:
                result.append(False)
            else:
                result.append(True)

        thread = threading.Thread(target=probe, name="priority-probe", daemon=True)
        thread.start()
        thread.join()
        return bool(result and result[0])

    def set(self, lowered: bool) -> None:
        """This thread's priority for the request it is about to serve."""
        if not self.enabled:
            return
        wanted = self.base + self.lower if lowered else self.base
        if getattr(self._local, "nice", self.base) == wanted:
            return
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), wanted)
        except OSError:
            self.enabled = False  # the right was taken away since the probe: stop here
            return
        self._local.nice = wanted


class FairThreadPool:
    """What gthread needs of its pool (``submit``, ``shutdown``), over a ``FairQueue``."""

    def __init__(
        self, threads: int, running: int | None = None, priority: ThreadPriority | None = None
    ) -> None:
        places = None if running is None or running >= threads else max(running, 1)
        self.priority = priority
        self.queue = FairQueue(
            limit=threads - 1 if threads > 1 else None,
            running=places,
            # A thread waits for its next request at the process's priority: the request that
            # wakes it may be another business's, and it would wake lowered.
            idle=partial(priority.set, False) if priority is not None else None,
        )
        self._threads = [
            threading.Thread(target=self._run, name=f"fair-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn, *args, flow: str = "") -> Future:
        future: Future = Future()
        self.queue.put(flow, (future, fn, args))
        return future

    def _run(self) -> None:
        taken = self.queue.get()
        while taken is not None:
            flow, (future, fn, args) = taken
            try:
                if future.set_running_or_notify_cancel():
                    if self.priority is not None:
                        self.priority.set(self.queue.taken_beside_its_own())
                    cpu_slots.bind(
                        partial(self.queue.pause, flow), partial(self.queue.resume, flow)
                    )
                    try:
                        result = fn(*args)
                    except BaseException as exc:  # to the future, as ThreadPoolExecutor does
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
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


def peek(conn) -> bytes | None:
    """The bytes of the request waiting on ``conn``, without consuming any; None when none
    have arrived yet."""
    if getattr(conn.cfg, "is_ssl", False):
        return b""
    buffered = b""
    parser = getattr(conn, "parser", None)
    if parser is not None:  # a kept-alive connection may hold bytes read ahead
        try:
            buffered = parser.unreader.buf.getvalue()
        except AttributeError:
            buffered = b""
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


def running_places(threads: int) -> int | None:
    """How many of a worker's threads run at once (``GUNICORN_RUNNING``, default 2; 0: all of
    them); None when that is every thread."""
    raw = os.environ.get("GUNICORN_RUNNING", "").strip()
    places = int(raw) if raw else DEFAULT_RUNNING
    return None if places <= 0 or places >= threads else places


DEFAULT_BUSY_NICE = 5


def busy_nice() -> int:
    """How many nice steps lower a business's requests run while another of its requests is
    in the worker (``GUNICORN_BUSY_NICE``, default 5; 0: never)."""
    raw = os.environ.get("GUNICORN_BUSY_NICE", "").strip()
    return max(0, min(19, int(raw))) if raw else DEFAULT_BUSY_NICE


class FairThreadWorker(ThreadWorker):
    """gthread with the fair pool (``saas_platform/gunicorn_conf.py`` uses it)."""

    def get_thread_pool(self):
        lower = busy_nice()
        return FairThreadPool(
            self.cfg.threads,
            running=running_places(self.cfg.threads),
            priority=ThreadPriority(lower) if lower else None,
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
        fs = self.tpool.submit(self.handle, conn, flow=flow_of(head or b""))
        fs.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))
