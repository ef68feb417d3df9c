"""The opening-minute benchmark (issue 21, point 5), run by tests/bench/run.py
(``BENCH_ONLY=opening make bench``).

gunicorn with ``saas_platform/gunicorn_conf.py`` (DEBUG off) on 127.0.0.1. Business A schedules
a registration opening for its 20 free classes of 15 seats (300 seats), paced "as fast as
checkout can take them" (the closed loop, 100 families checking out at once). 3,000 families
arrive within 10 s of the opening (half before it: the shuffled pre-queue; half after: in order)
and go through join -> wait (polling at the cadence the server asks for) -> admitted -> hold ->
checkout (nothing due) -> leave when every class they tried was full;
tests/bench/opening_driver.py (asyncio on uvloop, its own process) plays them. Meanwhile
business B has ordinary traffic: class searches by wrk at ``BENCH_OPENING_CALM_RPS`` (20/s),
arriving at random as independent visitors' would (``BENCH_OPENING_B_ARRIVALS``: ``random``,
or ``lockstep`` as before the seventeenth pass), measured alone first (calm) and then during
the opening. Before the opening, in the same
run and on the same server, wrk measures the trivial endpoint's throughput and the cached
search's, for scale.

Reports registrations per minute end to end, time to admission p50/p99, the position updates'
spacing, fairness (Spearman's rank correlation between each family's place in the line after the
shuffle and its admission order, from the queue's own record), oversold seats (checked in the
database), 5xx (the workers' CPU log and the driver), B's p99 during the opening against calm,
and the trivial endpoint's throughput. A probe on each core (tests/bench/stall_probe.py, from the
calm phase to the opening's end; ``BENCH_OPENING_STALL_PROBE=0`` leaves it out) finds the moments
a core stopped for everything on it; the report shows business B's server-side p99 with and
without those moments.

The server runs as production does by default, without gunicorn's access log (which cost the
sale ~3 % of the workers' CPU): each request's status is in the workers' CPU log beside its CPU.

``BENCH_OPENING_SCALE`` (1.0) scales families and seats down for a quick run (0.1: 300 families
for 40 seats); ``BENCH_OPENING_MAX_SECONDS`` (150) bounds the part after the opening;
``BENCH_OPENING_POLL_SECONDS`` (0: as the server says) overrides the families' poll interval;
``BENCH_OPENING_SLOTS`` (100) is the opening's checkout slots; ``BENCH_OPENING_AWAY_SHARE`` (0)
of the families ask only every ``BENCH_OPENING_AWAY_SECONDS`` (30) after the opening, as a
hidden tab or an app in the background would; ``BENCH_OPENING_LOOP`` (``uvloop``) is the
families' event loop (``asyncio``: the standard library's, as before the twenty-fourth pass);
``BENCH_OPENING_CLIENT`` (``raw``: each family's connection, HTTP/1.1 written and read by hand) is
the families' HTTP client (``aiohttp``, as before the twenty-fifth pass; always with fewer
``BENCH_OPENING_CONNECTIONS`` than families).
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

import load
import stall_probe

ROOT = Path(__file__).resolve().parents[2]
CLASSES = 20
SEARCH = "/api/v1/offerings"
TRIVIAL = "/api/v1/theme/tokens.json"


def _spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (no ties in our data: distinct scores and positions)."""
    n = len(xs)
    if n < 2:
        return float("nan")

    def ranks(values: list[float]) -> list[int]:
        order = sorted(range(n), key=values.__getitem__)
        out = [0] * n
        for rank, index in enumerate(order):
            out[index] = rank
        return out

    rx, ry = ranks(xs), ranks(ys)
    d2 = sum((a - b) ** 2 for a, b in zip(rx, ry, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def build(*, families: int, seats_per_class: int) -> dict:
    """Business A (the opening: 20 free classes, ``families`` families with API tokens) and
    business B (ordinary: 200 classes)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from kernel.users.models import ApiToken, User
    from portal.accounts.models import Family, Guardian, Student
    from portal.catalog.models import Offering, Program
    from tenants.services import tenant_provision

    def classes(program, count: int, capacity: int, tuition: int, prefix: str) -> list[Offering]:
        today = timezone.localdate()
        rows = []
        for i in range(count):
            start = today + timedelta(days=14 + i % 30)
            rows.append(
                Offering(
                    name=f"{prefix} {i:03d}",
                    program=program,
                    capacity=capacity,
                    start_date=start,
                    end_date=start + timedelta(weeks=10),
                    start_time=clock(9 + i % 10),
                    end_time=clock(10 + i % 10),
                    weekdays=[start.weekday()],
                    tuition=tuition,
                    status=Offering.Status.PUBLISHED,
                )
            )
        return Offering.objects.bulk_create(rows)

    a = tenant_provision(
        slug="bench-opening", name="Opening Bench", owner_email="o@opening.test", launched=True
    ).tenant
    with tenant_context(a):
        program = Program.objects.create(name="Swim")
        offerings = classes(program, CLASSES, seats_per_class, 0, "Opening class")
        unusable = make_password(None)
        users = User.objects.bulk_create(
            User(email=f"parent{i}@opening.test", password=unusable) for i in range(families)
        )
        fams = Family.objects.bulk_create(Family(name=f"Family {i}") for i in range(families))
        Guardian.objects.bulk_create(
            Guardian(
                family=f,
                user=u,
                first_name="P",
                last_name=str(i),
                email=u.email,
                is_primary=True,
            )
            for i, (f, u) in enumerate(zip(fams, users, strict=True))
        )
        students = Student.objects.bulk_create(
            Student(family=f, first_name=f"K{i}", last_name="O", date_of_birth=date(2016, 1, 1))
            for i, f in enumerate(fams)
        )
        raws = [ApiToken.generate() for _ in users]
        ApiToken.objects.bulk_create(
            ApiToken(
                user=u,
                name="bench",
                prefix=raw[: ApiToken.PREFIX_LENGTH],
                key_hash=ApiToken.hash(raw),
            )
            for u, raw in zip(users, raws, strict=True)
        )
        lines = [f"{raw} {s.pk} {s.family_id}" for raw, s in zip(raws, students, strict=True)]
    b = tenant_provision(
        slug="bench-calm", name="Calm Bench", owner_email="o@calm.test", launched=True
    ).tenant
    with tenant_context(b):
        classes(Program.objects.create(name="Dance"), 200, 12, 9_000, "Calm class")
    connection.set_schema_to_public()
    return {
        "a": a,
        "b": b,
        "host_a": a.primary_host,
        "host_b": b.primary_host,
        "offerings": [o.pk for o in offerings],
        "families": lines,
    }


def _open(tenant, offerings: list[int], opens_at) -> int:
    from django_tenants.utils import tenant_context

    from portal.catalog.models import RegistrationOpening

    with tenant_context(tenant):
        opening = RegistrationOpening.objects.create(
            name="Fall registration",
            opens_at=opens_at,
            checkout_slots=int(os.environ.get("BENCH_OPENING_SLOTS", "100")),
            pass_minutes=10,
        )
        opening.offerings.set(offerings)
        return opening.pk


def _wrk(server: load.Server, host: str, path: str, seconds: int, **kwargs) -> dict:
    saved = load.HOST
    load.HOST = host
    try:
        return load.wrk(server, path, seconds=seconds, **kwargs)
    finally:
        load.HOST = saved


def _b_arrivals() -> str:
    """How business B's searches arrive (``BENCH_OPENING_B_ARRIVALS``): ``random``, each of
    wrk's four connections waiting an exponential gap (mean 200 ms at 20/s) before each
    search, so the searches come as independent visitors' do; or ``lockstep``, the passes
    before the seventeenth: every connection waiting exactly 200 ms after its answer, all four
    started together, so the searches came four at once, five times a second."""
    arrivals = os.environ.get("BENCH_OPENING_B_ARRIVALS", "random")
    if arrivals not in ("random", "lockstep"):
        raise ValueError("BENCH_OPENING_B_ARRIVALS must be random or lockstep")
    return arrivals


def _paced(server: load.Server, host: str, rps: float, stop: threading.Event, out: dict) -> None:
    """wrk at ``rps`` searches a second on ``host`` until ``stop``; its figures into ``out``."""
    connections = 4
    gap = max(int(connections * 1000 / rps), 1)
    fd, script = tempfile.mkstemp(suffix=".lua")
    with os.fdopen(fd, "w") as fh:
        fh.write(load.RANDOM_PACE_LUA if _b_arrivals() == "random" else load.PACE_LUA)
    cmd = ["wrk", "-t1", f"-c{connections}", "-d600s", "--timeout", "10s", "--latency"]
    cmd += ["-H", f"Host: {host}", "-H", "X-Forwarded-Proto: https", "-s", script]
    cmd.append(server.url(SEARCH))
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENCH_GAP_MS": str(gap)},
    )
    stop.wait()
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    os.unlink(script)
    out.update(load._parse_wrk(stdout))


def _calm_phase(server: load.Server, host: str, rps: float, seconds: float) -> dict:
    stop = threading.Event()
    out: dict = {}
    thread = threading.Thread(target=_paced, args=(server, host, rps, stop, out))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    return out


class _StallProbes:
    """tests/bench/stall_probe.py on each core this process may use, from ``start`` to
    ``stop`` (``BENCH_OPENING_STALL_PROBE=0``: none)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[tuple[subprocess.Popen, Path]] = []
        self.enabled = os.environ.get("BENCH_OPENING_STALL_PROBE", "1").strip() != "0"

    def start(self) -> None:
        if not self.enabled:
            return
        script = str(Path(__file__).with_name("stall_probe.py"))
        for cpu in sorted(os.sched_getaffinity(0)):
            out = self.workdir / f"stalls-{cpu}.txt"
            proc = subprocess.Popen([sys.executable, script, "--cpu", str(cpu), "--out", str(out)])
            self.procs.append((proc, out))

    def stop(self) -> dict:
        """What the probes saw: their policy, wake-ups and stalls ([cpu, epoch, ms] each)."""
        for proc, _ in self.procs:
            proc.send_signal(signal.SIGTERM)
        probes = []
        for proc, out in self.procs:
            proc.wait(timeout=30)
            probes.append(stall_probe.read(out))
        self.procs = []
        return {
            "policy": sorted({probe.policy for probe in probes}),
            "wakeups": sum(probe.wakeups for probe in probes),
            "cores": len(probes),
            "list": [list(stall) for probe in probes for stall in probe.stalls],
        }


def _steal_seconds() -> float:
    """The machine's steal time so far (Linux /proc/stat: the hypervisor ran another guest
    while a core of this one had work), in seconds summed over the cores."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def _b_server(cpu_dir: Path, host_b: str, windows: dict) -> list[list[float]]:
    """Business B's requests answered within one of ``windows``, as the server saw them
    (the workers' CPU logs): [epoch seconds queued, milliseconds from then to the answer]."""
    out = []
    for line in load.read_cpu_log(cpu_dir):
        if line.host != host_b or line.waits is None or line.waits[0] < 0:
            continue
        ms = (line.waits[0] + line.waits[1]) / 1000
        if any(lo <= line.at <= hi for lo, hi in windows.values()):
            out.append([line.at - ms / 1000, ms])
    return out


def _stalled_ms(start: float, ms: float, stalls: list[tuple[float, float]]) -> float:
    """Milliseconds of [start, start + ms] covered by ``stalls`` ((epoch, ms) pairs, sorted by
    start; on any core, overlaps counted once)."""
    end, covered, reach = start + ms / 1000, 0.0, start
    for at, length in stalls:
        if at >= end:
            break
        lo, hi = max(at, reach), min(at + length / 1000, end)
        if hi > lo:
            covered += hi - lo
            reach = hi
    return covered * 1000


def stall_figures(r: dict) -> dict:
    """Per window (``calm``, ``opening``): the probes' stalls (how many, their milliseconds, the
    longest), the steal seconds /proc/stat counted, and business B's server-side requests queued
    and answered in it: p99, p99 with each request's stalled milliseconds taken out, and how
    many of those slower than the p99 a stall touched. Then B's server-side ratios to calm.
    Empty without probes."""
    probes, windows = r.get("stalls"), r.get("windows")
    if not probes or not windows:
        return {}
    stalls = sorted((at, ms) for _cpu, at, ms in probes["list"])
    out: dict = {}
    for name, (lo, hi) in windows.items():
        inside = [(at, ms) for at, ms in stalls if lo <= at <= hi]
        # Queued and answered inside the window: the calm one opens right after the
        # throughput round, whose last searches are still being answered.
        requests = [
            (at, ms) for at, ms in r.get("b_server", []) if lo <= at and at + ms / 1000 <= hi
        ]
        plain = [ms for _, ms in requests]
        touched = [_stalled_ms(at, ms, stalls) for at, ms in requests]
        p99 = _p(plain, 99) if plain else math.nan
        out[name] = {
            "seconds": hi - lo,
            "stalls": len(inside),
            "stalled_ms": sum(ms for _, ms in inside),
            "longest_ms": max((ms for _, ms in inside), default=0.0),
            "steal_s": r.get("steal_s", {}).get(name, math.nan),
            "b_requests": len(plain),
            "b_p99_ms": p99,
            "b_p99_unstalled_ms": _p([ms - t for ms, t in zip(plain, touched, strict=True)], 99)
            if plain
            else math.nan,
            "b_slowest": sum(1 for ms in plain if ms > p99),
            "b_slowest_stalled": sum(
                1 for ms, t in zip(plain, touched, strict=True) if ms > p99 and t > 0
            ),
        }
    if "calm" in out and "opening" in out:
        calm, busy = out["calm"], out["opening"]
        out["b_ratio"] = busy["b_p99_ms"] / calm["b_p99_ms"]
        out["b_ratio_unstalled"] = busy["b_p99_unstalled_ms"] / calm["b_p99_unstalled_ms"]
    return out


def _db_check(tenant, offerings: list[int]) -> dict:
    from django.db.models import Count, Q
    from django_tenants.utils import tenant_context

    from portal.catalog.models import Offering

    with tenant_context(tenant):
        rows = Offering.objects.filter(pk__in=offerings).annotate(
            enrolled=Count("enrollments", filter=Q(enrollments__status="active"))
        )
        oversold = sum(max(0, o.enrolled - o.capacity) for o in rows)
        counter_wrong = sum(1 for o in rows if o.seats_taken > o.capacity)
        return {
            "capacity": sum(o.capacity for o in rows),
            "enrolled": sum(o.enrolled for o in rows),
            "oversold": oversold,
            "counters_over_capacity": counter_wrong,
        }


def _fairness(tenant, opening_id: int) -> dict:
    from django_tenants.utils import tenant_context

    from portal.catalog import waiting_room
    from portal.catalog.models import RegistrationOpening

    with tenant_context(tenant):
        opening = RegistrationOpening.objects.get(pk=opening_id)
        log = waiting_room.admission_log(opening=opening)
        admitted_at = waiting_room.admission_times(opening=opening)
    # A family that left and joined again has a second score; the log keeps its last one.
    scores = [score for _, score in log]
    return {
        "admitted": len(log),
        "spearman": _spearman(scores, list(range(len(scores)))),
        "admitted_at": admitted_at,
    }


def run() -> dict:
    from django.db import connection

    scale = float(os.environ.get("BENCH_OPENING_SCALE", "1"))
    families = max(20, round(3000 * scale))
    seats_per_class = max(1, round(15 * scale))
    max_seconds = float(os.environ.get("BENCH_OPENING_MAX_SECONDS", "150"))
    calm_rps = float(os.environ.get("BENCH_OPENING_CALM_RPS", "20"))
    calm_seconds = float(os.environ.get("BENCH_OPENING_CALM_SECONDS", "15"))
    scale_seconds = int(os.environ.get("BENCH_OPENING_SCALE_SECONDS", "5"))
    # A connection per family, as each family's browser or app has and as Caddy or an ingress in
    # front of gunicorn opens upstream (no shared pool queues a request before the server sees
    # it); 400 shared ones until the twenty-fourth pass.
    connections = int(os.environ.get("BENCH_OPENING_CONNECTIONS") or families)
    # 0: the families poll as the server says (by place in line); a figure here shows what the line
    # would do with polls that far apart (a diagnostic: the targets are at 2 s).
    poll_seconds = float(os.environ.get("BENCH_OPENING_POLL_SECONDS", "0"))
    # A share of the families who do not look after the opening: a hidden browser tab or an
    # app in the background asks every BENCH_OPENING_AWAY_SECONDS (30) instead (a diagnostic
    # of what a slot held by an absent family costs the line; the targets are at 0).
    away_share = float(os.environ.get("BENCH_OPENING_AWAY_SHARE", "0"))
    away_seconds = float(os.environ.get("BENCH_OPENING_AWAY_SECONDS", "30"))
    # The families' event loop (tests/bench/opening_driver.py): uvloop, or asyncio's.
    loop = os.environ.get("BENCH_OPENING_LOOP", "uvloop")
    # Its HTTP client: ``raw`` (HTTP/1.1 by hand on each family's connection, a fraction of
    # aiohttp's CPU a request, taken from the two cores the server has) or ``aiohttp``.
    client = os.environ.get("BENCH_OPENING_CLIENT", "raw")
    if client == "raw" and connections < families:
        client = "aiohttp"  # only a shared pool has fewer connections than families

    sys.stderr.write(f"  opening: building {families} families, {CLASSES} classes…\n")
    data = build(families=families, seats_per_class=seats_per_class)
    connection.close()
    workdir = Path(tempfile.mkdtemp(prefix="bench-opening-"))
    families_file = workdir / "families.txt"
    families_file.write_text("\n".join(data["families"]) + "\n")
    server = load.Server(workdir, cpu_log=True, access_log=False)
    probes = _StallProbes(workdir)
    server.start()
    try:
        for host in (data["host_a"], data["host_b"]):
            _wrk(server, host, TRIVIAL, 2, connections=4)
        _wrk(server, data["host_b"], SEARCH, 2, connections=4)
        sys.stderr.write("  opening: trivial and search throughput…\n")
        trivial = _wrk(server, data["host_a"], TRIVIAL, scale_seconds, connections=8)
        search = _wrk(server, data["host_b"], SEARCH, scale_seconds, connections=8)
        sys.stderr.write(f"  opening: business B calm, {calm_rps:.0f} searches/s…\n")
        probes.start()
        windows, steal = {}, {}
        steal_before, calm_start = _steal_seconds(), time.time()
        calm = _calm_phase(server, data["host_b"], calm_rps, calm_seconds)
        windows["calm"] = (calm_start, time.time())
        steal["calm"] = _steal_seconds() - steal_before
        server.reset_log()
        from django.utils import timezone

        lead = 8.0  # the first families arrive 5 s before the opening
        opens_epoch = time.time() + lead
        opening_id = _open(
            data["a"],
            data["offerings"],
            timezone.now() + timedelta(seconds=opens_epoch - time.time()),
        )
        connection.close()
        load_before = os.getloadavg()[0]
        cpu_before = _cpu_seconds(server.proc.pid)
        pg_before = _postgres_cpu_seconds()
        driver_before = _children_cpu_seconds()
        wall_before = time.time()
        steal_before = _steal_seconds()
        stop = threading.Event()
        busy: dict = {}
        b_thread = threading.Thread(
            target=_paced, args=(server, data["host_b"], calm_rps, stop, busy)
        )
        b_thread.start()
        sys.stderr.write(
            f"  opening: {families} families arrive within 10 s of the opening (at most "
            f"{max_seconds:.0f} s after it)…\n"
        )
        out_file = workdir / "driver.json"
        driver = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("opening_driver.py")),
                "--port",
                str(server.port),
                "--host",
                data["host_a"],
                "--opening",
                str(opening_id),
                "--offerings",
                ",".join(map(str, data["offerings"])),
                "--families",
                str(families_file),
                "--opens-at",
                repr(opens_epoch),
                "--connections",
                str(connections),
                "--max-seconds",
                str(max_seconds),
                "--poll-seconds",
                str(poll_seconds),
                "--away-share",
                str(away_share),
                "--away-seconds",
                str(away_seconds),
                "--loop",
                loop,
                "--client",
                client,
                "--out",
                str(out_file),
            ],
            capture_output=True,
            text=True,
            timeout=max_seconds + 300,
        )
        cpu_used = _cpu_seconds(server.proc.pid) - cpu_before
        pg_used = _postgres_cpu_seconds() - pg_before
        # The driver, now reaped (business B's wrk is reaped after this, so not counted).
        driver_used = _children_cpu_seconds() - driver_before
        wall = time.time() - wall_before
        load_after = os.getloadavg()[0]
        stop.set()
        b_thread.join()
        windows["opening"] = (wall_before, wall_before + wall)
        steal["opening"] = _steal_seconds() - steal_before
        stalls = probes.stop() if probes.enabled else None
        if driver.returncode != 0:
            raise RuntimeError(f"the driver failed: {driver.stderr[-2000:]}")
        result = json.loads(out_file.read_text())
        log = server.log()
        cpu_by_kind = _cpu_by_kind(server.cpu_lines(wall_before), data["host_b"])
        b_waits = _b_waits(server.cpu_dir, data["host_b"])
        b_server = _b_server(server.cpu_dir, data["host_b"], windows)
    finally:
        if probes.procs:
            probes.stop()  # the run failed before its end: the probes go with it
        server.stop()
    db = _db_check(data["a"], data["offerings"])
    fair = _fairness(data["a"], opening_id)
    connection.close()
    result_file = workdir / "result.json"  # everything the report reads, for a closer look
    out = {
        "workers": server.workers,
        "quiet_lane": server.quiet_lane,
        "threads": server.threads,
        "families": families,
        "seats": CLASSES * seats_per_class,
        "trivial": trivial,
        "search": search,
        "calm": calm,
        "busy": busy,
        "calm_rps": calm_rps,
        "b_arrivals": _b_arrivals(),
        "b_waits": b_waits,
        "b_server": b_server,
        "windows": windows,
        "steal_s": steal,
        "stalls": stalls,
        "poll_seconds": poll_seconds,
        "away_share": away_share,
        "away_seconds": away_seconds,
        "driver": result,
        "server_statuses": _status_counts(log),
        "db": db,
        "fairness": fair,
        "max_seconds": max_seconds,
        "cpu": {
            "server_cpu_s": cpu_used,
            "postgres_cpu_s": pg_used,
            "driver_cpu_s": driver_used,
            "wall_s": wall,
            "cores": os.cpu_count(),
            "by_kind": cpu_by_kind,
        },
        "loadavg": (load_before, load_after),
        "workdir": str(workdir),
        "opens_epoch": opens_epoch,
        "fair": os.environ.get("GUNICORN_FAIR", "1").strip() != "0",
        "loop": loop,
        "client": client,
        "connections": connections,
    }
    result_file.write_text(json.dumps(out))
    return out


def _processes():
    """(pid, command name, the fields after it) of every process in Linux /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        yield int(entry.name), head.split("(", 1)[-1], tail.split()


def _cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of gunicorn's master and its workers (Linux /proc), those of
    workers that exited included (recycled, ``GUNICORN_MAX_REQUESTS``: the master's reaped
    children's time)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid, _name, fields in _processes():
        if pid == root_pid:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif int(fields[1]) == root_pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's reaped children (the families' driver:
    the 3,000 families' phones, which in real life are not on the server's cores)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _postgres_cpu_seconds() -> float:
    """User + system CPU seconds of every PostgreSQL process on this machine (the server is
    local), with those of its exited children (a backend that closed its connection is
    counted in the postmaster's children's time once reaped)."""
    tick = os.sysconf("SC_CLK_TCK")
    return sum(
        sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
        for _pid, name, fields in _processes()
        if name == "postgres"
    )


_KINDS = (
    (re.compile(r"^POST /api/v1/openings/\d+/queue$"), "join"),
    (re.compile(r"^GET /api/v1/openings/\d+/queue$"), "poll"),
    (re.compile(r"^DELETE /api/v1/openings/\d+/queue$"), "leave"),
    (re.compile(r"^GET /api/v1/offerings$"), "search"),
    (re.compile(r"^POST /api/v1/cart/items$"), "hold"),
    (re.compile(r"^POST /api/v1/checkout$"), "checkout"),
    (re.compile(r"^POST /api/v1/orders/\d+/pay$"), "pay"),
    (re.compile(r"^GC gen\d$"), "gc"),  # a worker's garbage collection (gunicorn_conf)
)


def _cpu_by_kind(lines: list[tuple[float, float, str, str, str]], host_b: str) -> list:
    """(answered at, CPU seconds, kind) per request (business B's kinds apart)."""
    out = []
    for at, cpu, method, host, path in lines:
        key = f"{method} {path}"
        kind = next((name for pattern, name in _KINDS if pattern.match(key)), "other")
        if host == host_b:
            kind = f"B {kind}"
        out.append((at, cpu, kind))
    return out


def _b_waits(cpu_dir: Path, host_b: str) -> dict:
    """Business B's searches while seats were sold (from a second before the first checkout
    answered to the last), as the server saw them (the workers' CPU logs): milliseconds from
    being queued for a thread to the answer, and of that: waiting for a thread, waiting for a
    core (runnable, not running: ``/proc/thread-self/schedstat``), computing (thread CPU), and
    the rest (the GIL, Redis, the socket). p50, p90 and p99 of each."""
    rows, checkouts = [], []
    for line in load.read_cpu_log(cpu_dir):
        if line.waits is None:
            continue  # a garbage collection's line, or an older log
        if line.path.endswith("/checkout"):
            checkouts.append(line.at)
        queued, served, runnable = line.waits
        if line.host == host_b and queued >= 0:
            rows.append((line.at, queued / 1000, served / 1000, runnable / 1000, line.cpu * 1000))
    if not checkouts:
        return {}
    start, end = min(checkouts) - 1, max(checkouts)
    sale = [row for row in rows if start <= row[0] <= end]
    columns = {
        "total": [q + s for _, q, s, _, _ in sale],
        "thread": [q for _, q, _, _, _ in sale],
        "core": [r for _, _, _, r, _ in sale],
        "cpu": [c for _, _, _, _, c in sale],
        "rest": [max(0.0, s - r - c) for _, _, s, r, c in sale],
    }
    return {
        "requests": len(sale),
        **{
            name: {p: _p(values, pct) for p, pct in (("p50", 50), ("p90", 90), ("p99", 99))}
            for name, values in columns.items()
        },
    }


def _cpu_table(lines: list, until: float | None = None) -> list[tuple[str, int, float]]:
    """(kind, requests, CPU seconds) answered up to ``until``, most CPU first."""
    table: dict[str, list] = {}
    for at, cpu, kind in lines:
        if until is not None and at > until:
            continue
        entry = table.setdefault(kind, [0, 0.0])
        entry[0] += 1
        entry[1] += cpu
    return sorted(((k, n, s) for k, (n, s) in table.items()), key=lambda row: -row[2])


def _status_counts(log: list[tuple[int, float, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status, _, _ in log:
        key = f"{status // 100}xx"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _p(values: list[float], pct: float) -> float:
    return load._pct(values, pct)


def _cadence(r: dict) -> str:
    poll_seconds = r.get("poll_seconds")
    away_share, away_seconds = r.get("away_share", 0.0), r.get("away_seconds", 30.0)
    said = f"every {poll_seconds:g} s" if poll_seconds else "at the server's poll_seconds"
    if away_share:
        said += f", {away_share:.0%} of them away (every {away_seconds:g} s after the opening)"
    return said


def _seen(r: dict, admitted: list, until: float | None = None) -> list[float]:
    """From the moment the queue let each family in (its own record, the server's clock) to the
    answer that showed it its pass (the driver's clock, the same machine's); with ``until``
    only the families let in by then."""
    admitted_at = r["fairness"].get("admitted_at", {})
    return [
        max(0.0, r["opens_epoch"] + f["admitted"] - admitted_at[str(f["family"])])
        for f in admitted
        if str(f.get("family")) in admitted_at
        and (until is None or admitted_at[str(f["family"])] <= until)
    ]


def headline(r: dict) -> dict:
    """The run's figures that the targets name, from its result (``result.json``): what the
    report prints first and ``opening_ab.py`` compares run by run."""
    fams = r["driver"]["families"]
    registered = sorted(f["finished"] for f in fams if f.get("outcome") == "registered")
    admitted = [f for f in fams if "admitted" in f]
    span = registered[-1] if registered else float("nan")
    sold_out = r["opens_epoch"] + registered[-1] if registered else None
    statuses = r["driver"]["statuses"]
    lat = r["driver"]["latency"]
    calm, busy, t, s = r["calm"], r["busy"], r["trivial"], r["search"]
    until = {kind: (n, sec) for kind, n, sec in _cpu_table(r["cpu"]["by_kind"], sold_out)}
    stalled = stall_figures(r)
    return {
        "registered": len(registered),
        "span_s": span,
        "per_minute": len(registered) / span * 60 if registered and span > 0 else float("nan"),
        "seen_p50_s": _p(_seen(r, admitted), 50),
        "seen_while_seats_p50_s": _p(_seen(r, admitted, sold_out), 50) if sold_out else math.nan,
        "latency_p50_ms": {k: _p([x * 1000 for x in v], 50) for k, v in lat.items() if v},
        "latency_p90_ms": {k: _p([x * 1000 for x in v], 90) for k, v in lat.items() if v},
        "b_ratio": busy.get("p99", math.nan) / calm.get("p99", math.nan),
        # Server side (the CPU logs), then with the machine's stalls taken out of each search.
        "b_server_ratio": stalled.get("b_ratio", math.nan),
        "b_unstalled_ratio": stalled.get("b_ratio_unstalled", math.nan),
        "stalled_ms": stalled.get("opening", {}).get("stalled_ms", math.nan),
        "search_trivial": s["rps"] / t["rps"] if t["rps"] else math.nan,
        "trivial_rps": t["rps"],
        "oversold": r["db"]["oversold"],
        "5xx": r["server_statuses"].get("5xx", 0)
        + sum(n for kind in statuses.values() for st, n in kind.items() if st.startswith("5")),
        "fairness": r["fairness"]["spearman"],
        "cpu_until_s": sum(sec for _, sec in until.values()),
        "server_cores": r["cpu"]["server_cpu_s"] / r["cpu"]["wall_s"],
        "driver_cores": r["cpu"].get("driver_cpu_s", math.nan) / r["cpu"]["wall_s"],
        "cpu_until_ms_each": {k: sec / n * 1000 for k, (n, sec) in until.items() if n},
    }


def report(r: dict) -> None:
    fams = r["driver"]["families"]
    outcomes: dict[str, int] = {}
    for f in fams:
        outcomes[f.get("outcome", "?")] = outcomes.get(f.get("outcome", "?"), 0) + 1
    registered = sorted(f["finished"] for f in fams if f.get("outcome") == "registered")
    admitted = [f for f in fams if "admitted" in f]
    # Time to admission: from when the family could first be let in (the opening, or its
    # join if later) to the answer that told it it was in.
    to_admission = [f["admitted"] - max(0.0, f["joined"]) for f in admitted]
    gaps = [g for f in fams for g in f.get("gaps", [])]
    # Near the front: answers after one that asked for a poll within 2 s (an estimated wait
    # under ~45 s, portal.catalog.waiting_room.poll_seconds_for).
    near = [
        g
        for f in fams
        for g, a in zip(f.get("gaps", []), f.get("asked", []), strict=False)
        if a <= 2
    ]
    lat = r["driver"]["latency"]
    statuses = r["driver"]["statuses"]
    client_5xx = sum(n for kind in statuses.values() for s, n in kind.items() if s.startswith("5"))
    client_fail = sum(n for kind in statuses.values() for s, n in kind.items() if s == "0")
    print()
    print(
        f"Registration opening (gunicorn, saas_platform/gunicorn_conf.py: {r['workers']} workers "
        f"x {r['threads']} threads{' (one the quiet lane)' if r.get('quiet_lane') else ''}, "
        f"{'fair thread pool' if r.get('fair', True) else 'FIFO thread pool (GUNICORN_FAIR=0)'}"
        f", DEBUG off; {r['families']} families within 10 s of the "
        f"opening for {r['seats']} seats in {CLASSES} classes, polling "
        f"{_cadence(r)}; {r.get('client', 'aiohttp')} driver on {r.get('loop', 'asyncio')}, "
        f"{r.get('connections', 400)} connections)"
    )
    print(f"  outcomes                              {outcomes}")
    if registered:
        span = registered[-1]
        rate = len(registered) / span * 60 if span > 0 else float("nan")
        print(
            f"  registrations end to end              {len(registered)} in {span:.1f} s after "
            f"the opening = {rate:,.0f} a minute   (target >= 2,000)"
        )
        # The rate while seats were left: the first 90 % of them, from the first one.
        k = max(1, int(len(registered) * 0.9)) - 1
        if k > 0 and registered[k] > registered[0]:
            print(
                f"  ... first 90 % of them                {k + 1} in "
                f"{registered[k]:.1f} s = {(k + 1) / registered[k] * 60:,.0f} a minute"
            )
    # Families still in line when every class filled: how soon after the last seat went the
    # line told them so (``all_full``), instead of when their turn came.
    told = [f["finished"] - registered[-1] for f in fams if f.get("outcome") == "full_in_line"]
    if told and registered:
        print(
            f"  told in line that every class is full p50 {_p(told, 50):6.2f} s  "
            f"p99 {_p(told, 99):6.2f} s after the last seat went   ({len(told)} families)"
        )
    print(
        f"  time to admission                     p50 {_p(to_admission, 50):6.1f} s  "
        f"p99 {_p(to_admission, 99):6.1f} s  ({len(admitted)} admitted)"
    )
    if gaps:
        print(
            f"  spacing of status answers (waiting)   p50 {_p(gaps, 50):6.2f} s  "
            f"p99 {_p(gaps, 99):6.2f} s   (all; far back the server asks for fewer polls)"
        )
    if near:
        print(
            f"  ... near the front (asked <= 2 s)     p50 {_p(near, 50):6.2f} s  "
            f"p99 {_p(near, 99):6.2f} s   ({len(near)} answers)"
        )
    # Admission to seen: from the moment the queue let a family in (its own record, the
    # server's clock) to the answer that showed the family its pass (the driver's clock, the
    # same machine's).
    seen = _seen(r, admitted)
    if seen:
        print(
            f"  admission seen by the family after    p50 {_p(seen, 50):6.2f} s  "
            f"p99 {_p(seen, 99):6.2f} s   (target: within 2 s; {len(seen)} families)"
        )
    # The same for the families let in while seats were left (before the last registration):
    # once the classes are full every admitted family leaves at once, the line runs many times
    # faster than its estimate, and families far back, asked to poll every 15-20 s, are let in
    # between two polls; for them the pass no longer buys anything.
    if seen and registered:
        before = _seen(r, admitted, r["opens_epoch"] + registered[-1])
        if before:
            print(
                f"  ... let in while seats were left      p50 {_p(before, 50):6.2f} s  "
                f"p99 {_p(before, 99):6.2f} s   ({len(before)} families)"
            )
    for kind in ("join", "poll", "poll front", "hold", "checkout", "leave"):
        if lat.get(kind):
            ms = [x * 1000 for x in lat[kind]]
            print(
                f"  {kind:<8} {len(ms):6d} requests          p50 {_p(ms, 50):7.1f} ms  "
                f"p99 {_p(ms, 99):7.1f} ms   statuses {statuses.get(kind)}"
            )
    f = r["fairness"]
    print(
        f"  fairness (Spearman, place after the shuffle vs admission order, "
        f"{f['admitted']} admitted) {f['spearman']:.4f}   (target >= 0.99)"
    )
    db = r["db"]
    print(
        f"  seats: {db['enrolled']} enrolled of {db['capacity']}; oversold {db['oversold']}; "
        f"counters over capacity {db['counters_over_capacity']}   (target 0)"
    )
    print(
        f"  5xx: server {r['server_statuses'].get('5xx', 0)}, driver {client_5xx}; "
        f"connection errors {client_fail}; server answers {r['server_statuses']}   (target 0)"
    )
    for line in r["driver"]["errors"][:5]:
        print(f"    {line}")
    calm, busy = r["calm"], r["busy"]
    ratio = busy.get("p99", float("nan")) / calm.get("p99", float("nan"))
    print(
        f"  business B searches at {r['calm_rps']:.0f}/s ({r.get('b_arrivals', 'lockstep')} "
        f"arrivals): calm p99 {calm.get('p99', 0):6.1f} ms, "
        f"during the opening p99 {busy.get('p99', 0):6.1f} ms = {ratio:.2f}x   (target <= 1.5x); "
        f"non-2xx {busy.get('non2xx', 0)}"
    )
    waits = r.get("b_waits") or {}
    if waits.get("requests"):
        parts = "; ".join(
            f"{label} {waits[key]['p50']:.1f}/{waits[key]['p90']:.1f}/{waits[key]['p99']:.1f}"
            for key, label in (
                ("total", "queued to answered"),
                ("thread", "waiting for a thread"),
                ("core", "for a core"),
                ("cpu", "computing"),
                ("rest", "the rest (GIL, Redis)"),
            )
        )
        print(
            f"    ... while seats were sold, {waits['requests']} searches, server side, "
            f"ms p50/p90/p99: {parts}"
        )
    stalled = stall_figures(r)
    if stalled:
        probes = r["stalls"]
        print(
            f"  the machine's stalls (a probe on each of {probes['cores']} cores, "
            f"{'/'.join(probes['policy'])}, {probes['wakeups']:,} wake-ups; >= 4 ms late):"
        )
        for name in ("calm", "opening"):
            w = stalled[name]
            print(
                f"    {name:<8} {w['stalls']:4d} in {w['seconds']:5.1f} s, "
                f"{w['stalled_ms']:7.1f} ms in all, the longest {w['longest_ms']:5.1f} ms; "
                f"steal {w['steal_s']:.2f} s; "
                f"B server side p99 {w['b_p99_ms']:5.1f} ms, {w['b_p99_unstalled_ms']:5.1f} with "
                f"the stalls taken out ({w['b_requests']} searches; of the {w['b_slowest']} "
                f"slower than p99, {w['b_slowest_stalled']} stalled)"
            )
        print(
            f"    B server side {stalled['b_ratio']:.2f}x calm; with the stalls taken out "
            f"{stalled['b_ratio_unstalled']:.2f}x"
        )
    t, s = r["trivial"], r["search"]
    ratio_ts = s["rps"] / t["rps"] if t["rps"] else float("nan")
    print(
        f"  same server, before the opening: trivial endpoint {t['rps']:7.1f} req/s, cached "
        f"search {s['rps']:7.1f} req/s, ratio {ratio_ts:.2f}   (target >= 0.5)"
    )
    for label, out in (("trivial", t), ("search", s)):
        if not out["rps"]:
            print(f"    {label}: wrk said {out['raw'][-400:]!r}")
    c = r["cpu"]
    print(
        f"  machine: gunicorn used {c['server_cpu_s']:.0f} CPU-seconds in {c['wall_s']:.0f} s "
        f"({c['server_cpu_s'] / c['wall_s']:.2f} of {c['cores']} cores); load average "
        f"{r['loadavg'][0]:.1f} before, {r['loadavg'][1]:.1f} after"
    )
    print(
        f"  machine: PostgreSQL used {c['postgres_cpu_s']:.0f} CPU-seconds "
        f"({c['postgres_cpu_s'] / c['wall_s']:.2f} cores)"
    )
    if "driver_cpu_s" in c:
        print(
            f"  machine: the families' driver used {c['driver_cpu_s']:.0f} CPU-seconds "
            f"({c['driver_cpu_s'] / c['wall_s']:.2f} cores, from the same {c['cores']} cores)"
        )
    sold_out = r["opens_epoch"] + registered[-1] if registered else None
    for label, until in (("whole run", None), ("until the last seat went", sold_out)):
        rows = _cpu_table(c["by_kind"], until)
        total = sum(s for _, _, s in rows) or float("nan")
        print(
            f"  where gunicorn's request CPU went, {label} (thread CPU per request, "
            f"{total:.1f} s in all):"
        )
        for kind, n, seconds in rows:
            print(
                f"    {kind:<12} {n:6d} requests  {seconds:6.1f} s  {seconds / total:5.1%}  "
                f"{seconds / n * 1000:6.2f} ms each"
            )
    collections = [cpu for _, cpu, kind in c["by_kind"] if kind == "gc"]
    if collections:
        print(
            f"  garbage collections in the workers: {len(collections)}, {sum(collections):.2f} s "
            f"in all, the longest {max(collections) * 1000:.0f} ms (each stops its worker)"
        )
    mean_gap = statistics.mean(gaps) if gaps else float("nan")
    print(f"  (mean spacing of status answers {mean_gap:.2f} s; workdir {r['workdir']})")
