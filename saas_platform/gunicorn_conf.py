"""Production gunicorn configuration: `gunicorn -c saas_platform/gunicorn_conf.py`.

Used by the container image (infra/) and by the benchmarks (tests/bench/run.py). Every value
can be overridden from the environment:

- ``GUNICORN_BIND`` (``0.0.0.0:$PORT``, port 8000 by default)
- ``GUNICORN_WORKERS``: worker processes, default ``CPUs + 1`` with threads, and one more for
  the quiet lane (``2 * CPUs + 1`` for sync workers; CPUs this process may run on, so a
  container's CPU set counts, not the host's), at least 2
- ``GUNICORN_THREADS``: threads per worker, default 4 (gthread workers: an idle keep-alive
  connection from a load balancer or a slow client waits in the worker's poller instead of
  pinning a whole process, which with sync workers stalled every worker in the benchmarks;
  1 switches to sync workers)
- ``GUNICORN_TIMEOUT`` (30 s), ``GUNICORN_GRACEFUL_TIMEOUT`` (30 s), ``GUNICORN_KEEPALIVE``
  (5 s: behind a load balancer that keeps connections open)
- ``GUNICORN_MAX_REQUESTS`` (2000, with up to 10 % jitter) recycles workers so a slow leak
  never grows unbounded; 0 turns it off
- ``GUNICORN_ACCESS_LOG`` (empty: no access log; ``-`` for stdout) and
  ``GUNICORN_ACCESS_LOG_FORMAT`` (gunicorn's ``%(...)s`` atoms; the benchmarks read ``%(D)s``)
- ``GUNICORN_BACKLOG`` (2048), ``GUNICORN_FORWARDED_ALLOW_IPS`` (127.0.0.1)
- ``GUNICORN_SWITCH_INTERVAL_MS`` (3): how often a worker's threads hand over the GIL
- ``GUNICORN_FAIR`` (1): the worker's threads take queued requests by business in turn
  (``saas_platform.gunicorn_fair``); 0 for gunicorn's own first-come thread pool
- ``GUNICORN_RUNNING`` (2): how many of a worker's threads compute at once; the others may
  wait on Stripe or S3 meanwhile (``kernel.cpu_slots``); 0 lets every thread run (fair pool
  only)
- ``GUNICORN_BUSY_NICE`` (5): how many nice steps lower a business's requests run while
  another of its requests is in the worker, so another business's request gets a core first
  (``saas_platform.gunicorn_fair.ThreadPriority``; fair pool only; off where the worker may not
  raise a thread's priority back: needs ``CAP_SYS_NICE`` or ``RLIMIT_NICE`` >= 20); 0: never
- ``GUNICORN_PASS_TURNS`` (8): how many of a business's turns in a row go to its families the
  waiting room has let in (requests carrying a pass: their class list, holds and checkouts)
  before its joins and polls get one, so a registration opening sells its seats first (fair
  pool only; the front of the line's polls still go first); 0: every flow its own turn
- ``GUNICORN_BALANCED_ACCEPT`` (1): a worker holding more connections than a sibling leaves
  a new connection to it for up to 20 ms (``saas_platform.gunicorn_fair.ConnectionBoard``),
  so keep-alive connections spread over the workers instead of piling onto whichever woke
  first; fair pool only; 0: off
- ``GUNICORN_QUIET_LANE`` (1): one worker more, which accepts no connection itself; a
  worker busy with one business hands it another business's connection (its descriptor, over
  a Unix socket, before any byte is read), so that business's requests do not share a
  process, its GIL and its cores' turns with the rush (``saas_platform.gunicorn_fair.QuietLane``);
  fair pool only; counted in ``GUNICORN_WORKERS`` when that is set; 0: off
- ``GUNICORN_LANE_PRIORITY`` (15): how many nice steps above the other workers the quiet lane's
  worker runs (a business past its share's second request at once there at theirs), as far as
  it may: ``CAP_SYS_NICE`` or ``RLIMIT_NICE`` >= 20 + steps (fewer steps with a lower limit);
  otherwise at their priority; 0: never
- ``GUNICORN_LANE_REALTIME`` (1): the quiet lane's threads in the real-time round-robin policy
  (priority 1), a business's second request at once there in the normal one once the business
  is past its share (below), where it may: ``CAP_SYS_NICE`` or ``RLIMIT_RTPRIO`` >= 1; otherwise
  the nice steps alone; 0: off
- ``GUNICORN_LANE_QUIET_SHARE`` (25): the percentage of a core a business's requests in the quiet
  lane may take and all still run raised there, however many at once
  (``saas_platform.gunicorn_fair.QuietShare``); 0: a business's second request at once always
  at the others' priority
- ``GUNICORN_LANE_WARM_UP`` (1): the quiet lane's worker serves itself one class search once it
  starts and reads the next businesses' routing entries and portal settings
  (``saas_platform.warmup``); 0: off
- ``GUNICORN_CPU_LOG_DIR`` (empty: off): a folder where each worker writes a line per request
  with the CPU its thread spent on it (``time.thread_time``: Python and C code, not the time
  waiting for PostgreSQL or Redis), how long it waited for a thread once queued, how long from
  then to its answer and, of that, how long its thread waited for a core, the answer's status,
  and how long the thread then spent on work the request left until its answer was sent
  (``kernel.after_response``; the other figures end with the answer); and a line per garbage
  collection (``GC - genN``, its CPU taken out of the request that ran it), for the benchmarks'
  "where the CPU goes" tables and business B's waits
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_workers(cpus: int | None = None, threads: int = 4) -> int:
    """``CPUs + 1`` threaded workers (each runs two requests at once: ``GUNICORN_RUNNING``), or
    gunicorn's ``2 * CPUs + 1`` sync workers (one request each); at least 2. Fewer requests
    computing at once on the same cores answer sooner at the same throughput: on 2 cores, 3
    workers answered the opening benchmark's holds and checkouts in ~60 % of the time 5 took
    (docs/benchmarks.md, "Eleventh pass")."""
    cpus = cpu_count() if cpus is None else cpus
    return max(cpus + 1 if threads > 1 else 2 * cpus + 1, 2)


def quiet_lane_on(env, threads: int) -> bool:
    """Whether the server has a quiet lane's worker (``GUNICORN_QUIET_LANE``, default on; the
    fair pool's threaded workers only)."""
    fair = env.get("GUNICORN_FAIR", "1").strip() != "0"
    return fair and threads > 1 and env.get("GUNICORN_QUIET_LANE", "1").strip() != "0"


wsgi_app = "saas_platform.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
threads = _int("GUNICORN_THREADS", 4)
# gthread with a thread pool that takes turns between businesses (and the waiting room's polls)
# when every thread is busy, so one business's rush cannot make another's requests wait behind
# it (saas_platform/gunicorn_fair.py); GUNICORN_FAIR=0 for gunicorn's own FIFO pool.
fair = os.environ.get("GUNICORN_FAIR", "1").strip() != "0"
# One more worker, kept for the businesses not in a rush (saas_platform.gunicorn_fair.QuietLane):
# it accepts nothing itself; the others hand it a quiet business's connection while another
# business is busy in them. Counted in GUNICORN_WORKERS when that is set.
quiet_lane = quiet_lane_on(os.environ, threads)
workers = _int("GUNICORN_WORKERS", default_workers(threads=threads) + (1 if quiet_lane else 0))
worker_class = (
    ("saas_platform.gunicorn_fair.FairThreadWorker" if fair else "gthread")
    if threads > 1
    else "sync"
)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
backlog = _int("GUNICORN_BACKLOG", 2048)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = os.environ.get("GUNICORN_ACCESS_LOG_FORMAT") or (
    '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'
)
errorlog = "-"
# Load the application once in the master, then fork: workers share its memory pages and start
# warm (Django set up, URL maps imported).
preload_app = True
# Worker heartbeat files in memory, not on a possibly slow container disk.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's documented choice for worker heartbeats
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


# Python hands the GIL between a worker's threads every 5 ms by default, so a quick answer
# (a shed search, a cached page) queued behind a thread busy building a page waited whole 5 ms
# slices. 1 ms was the answer while every thread of a worker computed at once; with two running
# places a worker (GUNICORN_RUNNING) and the fair pool, 3 ms did better in the opening
# benchmark on every count: registrations a minute, the other business's p99 and each
# request's CPU (fewer forced hand-overs; docs/benchmarks.md, "Fourteenth pass").
switch_interval_ms = float(os.environ.get("GUNICORN_SWITCH_INTERVAL_MS") or 3)


def pre_fork(server, worker) -> None:
    """In the master, before each worker is forked: what it has loaded (``preload_app``:
    Django, the apps, both URL maps, ~220,000 objects the garbage collector tracks) lives as
    long as the workers, so it is frozen out of the collector. A worker's full collection
    walked all of it: ~0.18 s with every thread of the worker stopped, three times a worker in
    the opening benchmark; frozen, ~10-20 ms (docs/benchmarks.md, "Twelfth pass"). Collected
    first, so no garbage is kept for good; the workers' collections no longer write to the
    pages they share with the master either."""
    import gc

    gc.collect()
    gc.freeze()


def on_reload(server) -> None:
    """In the master, on ``HUP``, before it forks the new workers: the quiet lane's role goes
    to one of them (the old lane worker stops with the other old workers)."""
    from saas_platform import gunicorn_fair

    if gunicorn_fair.LANE is not None:
        gunicorn_fair.LANE.release()


def post_fork(server, worker) -> None:
    """Connections opened in the master (preload) must not be shared by the workers."""
    import sys

    from django.db import connections

    sys.setswitchinterval(switch_interval_ms / 1000)

    for conn in connections.all(initialized_only=True):
        conn.close()
    # A psycopg pool opened in the master has no worker threads in this process: drop it, and
    # the worker opens its own on first use.
    for conn in connections.all():
        close_pool = getattr(conn, "close_pool", None)
        if close_pool is not None and conn.settings_dict.get("OPTIONS", {}).get("pool"):
            close_pool()
    # redis-py's connection pools notice the fork themselves and reconnect in the worker.


def worker_exit(server, worker) -> None:
    """In the worker, as it exits (recycled, reloaded, shut down): the API tokens' last uses
    it kept and had not written yet (``kernel.api.token_use``) are written now."""
    import logging

    from django.db import connections

    from kernel.api.token_use import flusher_stop, token_uses_flush

    try:
        flusher_stop()
        token_uses_flush()
    except Exception:  # the database away: they only slide expiries
        logging.getLogger(__name__).exception("API tokens: kept uses not written at exit")
    finally:
        connections.close_all()


def post_worker_init(worker) -> None:
    """Stamp each request when it is queued for one of the worker's threads, so admission
    control (``saas_platform.admission``) knows how long it waited: the server's own measure of
    overload. gthread workers only (a sync worker has no queue of its own). The worker's thread
    that writes the API tokens' last uses starts (``kernel.api.token_use``). With the CPU log on,
    the worker's garbage collections are logged too, and each request's figures end with its
    answer (``install_answered_hook``)."""
    from kernel.api.token_use import flusher_start

    install_queue_stamps(worker)
    # The API tokens' last uses written by a thread of the worker's own, not by requests.
    flusher_start()
    if getattr(worker, "quiet", False):
        # The quiet lane's worker: idle until a rush hands it a connection, it serves itself
        # its first request now (saas_platform.warmup).
        from saas_platform.gunicorn_fair import lane_warm_up
        from saas_platform.warmup import warm_up_in_background

        if lane_warm_up():
            warm_up_in_background(worker.wsgi)
    if cpu_log_dir:
        install_gc_log()
        install_answered_hook()


cpu_log_dir = os.environ.get("GUNICORN_CPU_LOG_DIR", "").strip()
if cpu_log_dir:
    import collections
    import gc
    import threading
    import time
    import typing

    _cpu_log = threading.local()
    _cpu_files: dict[int, typing.TextIO] = {}
    _cpu_lock = threading.Lock()
    # Lines of garbage collections, written with the next request's line: a collection may
    # start inside ``_cpu_write`` itself (the file's write allocates), on a thread holding
    # the lock, and a callback taking it again there would wait for itself for good, and every
    # other thread of the worker behind it (a worker of the opening benchmark hung that way).
    _gc_lines: collections.deque[str] = collections.deque()

    def _cpu_write(line: str) -> None:
        with _cpu_lock:
            if _gc_lines:
                collected = []
                while _gc_lines:
                    collected.append(_gc_lines.popleft())
                line = "".join(collected) + line
            out = _cpu_files.get(os.getpid())
            if out is None:
                out = open(  # noqa: SIM115 - one file per worker, written until it exits
                    os.path.join(cpu_log_dir, f"cpu-{os.getpid()}.log"), "a", buffering=1
                )
                _cpu_files[os.getpid()] = out
            out.write(line)

    def _runnable_ns() -> int:
        """Nanoseconds this thread has spent runnable but waiting for a core (the scheduler's
        own count, ``/proc/thread-self/schedstat``'s second field). The file is opened once
        per thread (``/proc/thread-self`` is the thread that opened it) and read again from
        its start: ~1 us a read instead of ~13 us for an ``open()`` each time, twice a
        request, in the benchmarks that measure the rest."""
        fd = getattr(_cpu_log, "schedstat", None)
        try:
            if fd is None:
                fd = _cpu_log.schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
            return int(os.pread(fd, 128, 0).split()[1])
        except (OSError, IndexError, ValueError):
            return 0

    def _ending() -> tuple[float, int, float, float]:
        """The request's clocks where its figures end: the thread's CPU clock first and the
        wall clock last (``pre_request`` reads them the other way round), and the collections'
        CPU so far."""
        cpu = time.thread_time()
        runnable = _runnable_ns()
        return time.monotonic(), runnable, cpu, getattr(_cpu_log, "gc", 0.0)

    def _answered() -> None:
        """An answer that left work behind is sent (``kernel.after_response``): the request's
        figures end here; the work after is the line's last figure."""
        _cpu_log.answered = _ending()

    def install_answered_hook() -> None:
        """In a worker: ``_answered`` called once each answer that deferred work is sent
        (``post_worker_init``)."""
        from kernel.after_response import on_answered

        on_answered(_answered)

    def pre_request(worker, req) -> None:
        from saas_platform.admission import queued_at

        _cpu_log.answered = None

        # The wall clock first and the thread's CPU clock last here, the other way round in
        # post_request: the wall-clock window then holds the scheduler's and the CPU's, so a
        # line never says a request waited for a core, or ran, longer than it took.
        _cpu_log.began = time.monotonic()
        _cpu_log.queued_at = queued_at()
        _cpu_log.runnable = _runnable_ns()
        _cpu_log.gc = 0.0
        _cpu_log.started = time.thread_time()

    def post_request(worker, req, environ, resp) -> None:
        """One line per request: wall clock, CPU microseconds of the thread that served it
        (less the garbage collections it ran, which have lines of their own), method, host and
        path (the request and its answer both ran on this thread); then microseconds it waited
        for a thread once queued (-1: unknown), from then to its answer, and of that how long
        its thread waited for a core (runnable, not running); then the answer's status (0: no
        answer begun, as when gunicorn itself answers an error after this hook), so a
        benchmark can count statuses without gunicorn's access log; then the microseconds
        the thread spent, once the answer was sent, on work the request left until then
        (``kernel.after_response``; 0: none), which the figures before leave out."""
        started = getattr(_cpu_log, "started", None)
        if started is None:
            return
        answered = getattr(_cpu_log, "answered", None)
        ended, runnable_ns, cpu_now, collected = answered or _ending()
        now = time.monotonic() if answered else ended
        cpu = cpu_now - started - collected
        runnable = (runnable_ns - _cpu_log.runnable) // 1000
        served = int((ended - _cpu_log.began) * 1_000_000)
        after = int((now - ended) * 1_000_000)
        host = (environ.get("HTTP_HOST") or "").split(":")[0]
        began, queued_at = _cpu_log.began, _cpu_log.queued_at
        queued = int((began - queued_at) * 1_000_000) if queued_at is not None else -1
        _cpu_write(
            f"{time.time():.3f} {int(cpu * 1_000_000)} {req.method} {host} {req.path}"
            f" {queued} {served} {runnable} {getattr(resp, 'status_code', None) or 0} {after}\n"
        )

    def _gc_logged(phase: str, info: dict) -> None:
        """One line per garbage collection: when it ended, its CPU microseconds, ``GC - genN``
        (it stops every thread of the worker meanwhile)."""
        if phase == "start":
            _cpu_log.gc_started = time.thread_time()
            return
        started = getattr(_cpu_log, "gc_started", None)
        if started is None:
            return
        spent = time.thread_time() - started
        _cpu_log.gc = getattr(_cpu_log, "gc", 0.0) + spent
        generation = info["generation"]
        _gc_lines.append(f"{time.time():.3f} {int(spent * 1_000_000)} GC - gen{generation}\n")

    def install_gc_log() -> None:
        """In a worker: its garbage collections in its CPU log (``post_worker_init``)."""
        if _gc_logged not in gc.callbacks:
            gc.callbacks.append(_gc_logged)


def install_queue_stamps(worker) -> bool:
    import time

    if not hasattr(worker, "enqueue_req") or not hasattr(worker, "handle"):
        return False
    from saas_platform import admission

    enqueue, handle = worker.enqueue_req, worker.handle

    def enqueue_req(conn):
        conn.admission_queued_at = time.monotonic()
        return enqueue(conn)

    def handle_stamped(conn):
        admission.mark_queued(getattr(conn, "admission_queued_at", None))
        return handle(conn)

    worker.enqueue_req = enqueue_req
    worker.handle = handle_stamped  # enqueue() submits ``self.handle``: this one
    return True
