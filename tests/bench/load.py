"""Load benchmarks against the production server config (issue 9), run by tests/bench/run.py.

gunicorn is started with ``saas_platform/gunicorn_conf.py`` (workers from the CPU count) on
127.0.0.1, and wrk (Debian's, installed by ``make bench`` when missing) is the load generator,
every run bounded in time. Server-side latency per status comes from gunicorn's access log
(``%(D)s``, microseconds inside the worker); client-side figures from wrk.

1. Search on a tenant with 1,000 offerings vs. a trivial DRF endpoint (the published theme's
   tokens, no query once warm) on the same server, rounds alternated: throughput ratio, p50/p99,
   and SQL queries per search at two page sizes (in-process, CaptureQueriesContext).
2. Rush: searches paced at 10x the tenant's limit per minute for BENCH_RUSH_SECONDS (60): 5xx
   count, shed (429) latency, admitted searches' p99 vs. the same searches at the admitted rate
   without a rush; meanwhile 200 families race for the 20 seats of another class.
3. Checkout under contention: 200 families (one wrk thread and connection each) add the same
   20-seat class to their cart and check out: exactly 20 enrollments, seats sold per second.
4. Routing over HTTP: the trivial endpoint with 1 vs. 1,000 extra tenants in the table.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
HOST = "bench-rush.bench.local"
SEARCH = "/api/v1/offerings"
TRIVIAL = "/api/v1/theme/tokens.json"
FAMILIES_PER_RACE = 200
SEATS = 20

PACE_LUA = """
local gap = tonumber(os.getenv("BENCH_GAP_MS"))
function delay()
  return gap
end
"""

# The same mean gap, drawn at random for each request (exponential): the connections' requests
# arrive as independent visitors' would (a Poisson stream overall), not in step. Seeded, so a
# run's arrivals repeat.
RANDOM_PACE_LUA = """
local gap = tonumber(os.getenv("BENCH_GAP_MS"))
math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1"))
function delay()
  return math.floor(-gap * math.log(1 - math.random()))
end
"""

# One thread = one connection = one family: add the class to the cart, then check out.
CHECKOUT_LUA = """
local families = {}
for line in io.lines(os.getenv("BENCH_FAMILIES")) do
  local token, student = line:match("(%S+) (%S+)")
  table.insert(families, {token = token, student = student})
end
local offering = os.getenv("BENCH_OFFERING")
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  me = families[id]
  step = 0
  added, full, checked_out, other = 0, 0, 0, 0
end

function request()
  local headers = {}
  for name, value in pairs(wrk.headers) do  -- Host and X-Forwarded-Proto from the command line
    headers[name] = value
  end
  headers["Authorization"] = "Bearer " .. me.token
  headers["Content-Type"] = "application/json"
  if step == 0 then
    local body = '{"offering": ' .. offering .. ', "student": ' .. me.student .. '}'
    return wrk.format("POST", "/api/v1/cart/items", headers, body)
  end
  return wrk.format("POST", "/api/v1/checkout", headers, "{}")
end

function response(status, headers, body)
  if step == 0 then
    if status == 201 or status == 200 then
      added = 1
      step = 1
      return
    elseif status == 409 then
      full = 1
    else
      other = other + 1
      io.stderr:write("cart " .. status .. " " .. body:sub(1, 200) .. "\\n")
    end
  else
    if status == 201 or status == 200 then
      checked_out = 1
    else
      other = other + 1
      io.stderr:write("checkout " .. status .. " " .. body:sub(1, 200) .. "\\n")
    end
  end
  wrk.thread:stop()
end

function done(summary, latency, requests)
  local a, f, c, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("added")
    f = f + t:get("full")
    c = c + t:get("checked_out")
    o = o + t:get("other")
  end
  io.write(string.format("RESULT added=%d full=%d checked_out=%d other=%d\\n", a, f, c, o))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


class CpuLine(NamedTuple):
    """A line of a worker's CPU log (``GUNICORN_CPU_LOG_DIR``, saas_platform/gunicorn_conf.py)."""

    at: float  # answered (or the collection ended), epoch seconds
    cpu: float  # the thread's CPU seconds
    method: str  # "GC" on a garbage collection's line
    host: str
    path: str
    # Microseconds it waited for a thread once queued (-1: unknown), from then to its answer,
    # and of that runnable without a core; None on a collection's line or an older log's.
    waits: tuple[int, int, int] | None
    # The answer's status (0: none begun); None on a collection's line or an older log's.
    status: int | None = None
    # Microseconds the thread spent after the answer on work the request deferred
    # (``kernel.after_response``), left out of ``cpu`` and ``waits``; None: an older log's.
    after: int | None = None


def read_cpu_file(path: Path) -> list[CpuLine]:
    """Every line of one worker's CPU log (``cpu-<pid>.log``)."""
    out: list[CpuLine] = []
    for line in path.read_text().splitlines():
        parts = line.split(" ")
        if len(parts) < 5:
            continue
        waits = (int(parts[5]), int(parts[6]), int(parts[7])) if len(parts) >= 8 else None
        status = int(parts[8]) if len(parts) >= 9 else None
        after = int(parts[9]) if len(parts) >= 10 else None
        at, cpu = float(parts[0]), int(parts[1]) / 1e6
        out.append(CpuLine(at, cpu, parts[2], parts[3], parts[4], waits, status, after))
    return out


def read_cpu_log(cpu_dir: Path) -> list[CpuLine]:
    """Every line of the workers' CPU logs in ``cpu_dir``."""
    return [line for path in sorted(cpu_dir.glob("cpu-*.log")) for line in read_cpu_file(path)]


class Server:
    """gunicorn with the production config, on a free port, with an access log we can read
    (or, with ``access_log=False``, as production runs by default: no access log; the
    statuses and times come from the CPU log, which then must be on)."""

    def __init__(self, workdir: Path, *, cpu_log: bool = False, access_log: bool = True) -> None:
        if not (access_log or cpu_log):
            raise ValueError("without the access log, the CPU log is where statuses are read")
        # BENCH_PORT: a fixed port (engineers sharing a machine each keep to their own).
        self.port = int(os.environ.get("BENCH_PORT") or 0) or _free_port()
        self.access_log = workdir / "access.log" if access_log else None
        self._log_since = 0.0  # without the access log: CPU-log lines answered after this
        self.error_log = workdir / "gunicorn.log"
        # Each worker's line per request with the CPU its thread spent on it
        # (GUNICORN_CPU_LOG_DIR, saas_platform/gunicorn_conf.py).
        self.cpu_dir = workdir / "cpu"
        self.cpu_log = cpu_log
        self.proc: subprocess.Popen | None = None
        self.workers = 0
        self.threads = 0
        self.quiet_lane = False

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "saas_platform.settings",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": str(self.access_log) if self.access_log else "",
            "GUNICORN_ACCESS_LOG_FORMAT": "%(s)s %(D)s %(m)s %(U)s",
            # Workers are not recycled during a run unless the shell asks for production's
            # recycling (GUNICORN_MAX_REQUESTS=2000, say) to measure it.
            "GUNICORN_MAX_REQUESTS": os.environ.get("GUNICORN_MAX_REQUESTS") or "0",
            "GUNICORN_CPU_LOG_DIR": str(self.cpu_dir) if self.cpu_log else "",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
        }
        if self.cpu_log:
            self.cpu_dir.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(ROOT))
        from saas_platform import gunicorn_conf

        self.threads = int(env.get("GUNICORN_THREADS") or 4)
        lane = self.quiet_lane = gunicorn_conf.quiet_lane_on(env, self.threads)
        self.workers = int(
            env.get("GUNICORN_WORKERS")
            or gunicorn_conf.default_workers(threads=self.threads) + (1 if lane else 0)
        )
        log = open(self.error_log, "ab")  # noqa: SIM115 - the server keeps writing to it
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                str(ROOT / "saas_platform" / "gunicorn_conf.py"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.error_log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reset_log(self) -> None:
        if self.access_log is None:
            self._log_since = time.time()
        elif self.access_log.exists():
            self.access_log.write_text("")

    def cpu_lines(self, since: float) -> list[tuple[float, float, str, str, str]]:
        """(answered at, CPU seconds, method, host, path) of each request answered after
        ``since`` (epoch seconds), from the workers' CPU logs."""
        return [line[:5] for line in read_cpu_log(self.cpu_dir) if line.at >= since]

    def log(self) -> list[tuple[int, float, str]]:
        """(status, server time in ms, path) per request since the last reset."""
        if self.access_log is None:
            return [
                (line.status, line.waits[1] / 1000, line.path)
                for line in read_cpu_log(self.cpu_dir)
                if line.at >= self._log_since and line.waits and line.status is not None
            ]
        out = []
        if not self.access_log.exists():
            return out
        for line in self.access_log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[0].isdigit():
                out.append((int(parts[0]), int(parts[1]) / 1000, parts[3]))
        return out


def wrk(
    server: Server,
    path: str,
    *,
    seconds: int,
    connections: int = 8,
    threads: int = 2,
    script: str | None = None,
    env: dict | None = None,
    headers: dict | None = None,
) -> dict:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Host: {HOST}",
        "-H",
        "X-Forwarded-Proto: https",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    script_path = None
    if script:
        fd, script_path = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as fh:
            fh.write(script)
        cmd += ["-s", script_path]
    cmd.append(server.url(path))
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=seconds + 120,
    )
    if script_path:
        os.unlink(script_path)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr or proc.stdout}")
    return _parse_wrk(proc.stdout) | {"stderr": proc.stderr}


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def _parse_wrk(out: str) -> dict:
    result: dict = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if m:
        result["requests"] = int(m.group(1))
        result["duration_s"] = _ms(m.group(2) + m.group(3)) / 1000
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+(?:us|ms|s|m))", out, re.M)
        result[f"p{pct}"] = _ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"RESULT (.*)", out)
    if m:
        result["result"] = dict(kv.split("=") for kv in m.group(1).split())
    return result


# --- data ------------------------------------------------------------------------------------


def build_tenant(*, offerings: int = 1000) -> dict:
    """A tenant with ``offerings`` upcoming classes (programs, locations, levels, instructors),
    two 20-seat free classes for the checkout races and 2 x 200 families with API tokens."""
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from kernel.users.models import User
    from kernel.users.services import api_token_issue
    from portal.accounts.models import Family, Guardian, Student
    from portal.catalog.models import Level, Location, Offering, Program, StaffProfile
    from tenants.services import tenant_provision

    tenant = tenant_provision(
        slug="bench-rush", name="Rush Bench", owner_email="o@rush.test", launched=True
    ).tenant
    with tenant_context(tenant):
        programs = [Program.objects.create(name=f"Program {i}") for i in range(5)]
        locations = [Location.objects.create(name=f"Location {i}") for i in range(4)]
        levels = [
            Level.objects.create(program=p, name=f"Level {j}", position=j)
            for p in programs
            for j in range(1, 5)
        ]
        staff = [StaffProfile.objects.create(display_name=f"Coach {i}") for i in range(10)]
        today = timezone.localdate()
        rows = []
        for i in range(offerings):
            start = today + timedelta(days=7 + i % 60)
            rows.append(
                Offering(
                    name=f"Class {i:04d}",
                    program=programs[i % 5],
                    location=locations[i % 4],
                    capacity=12,
                    start_date=start,
                    end_date=start + timedelta(weeks=10),
                    start_time=clock(9 + i % 10),
                    end_time=clock(10 + i % 10),
                    weekdays=[start.weekday()],
                    min_age=3 + i % 6,
                    max_age=10 + i % 8,
                    tuition=10_000 + i,
                    seats_taken=i % 13,
                    status=Offering.Status.PUBLISHED,
                )
            )
        created = Offering.objects.bulk_create(rows)
        Offering.levels.through.objects.bulk_create(
            Offering.levels.through(offering_id=o.pk, level_id=levels[i % len(levels)].pk)
            for i, o in enumerate(created)
        )
        Offering.instructors.through.objects.bulk_create(
            Offering.instructors.through(offering_id=o.pk, staffprofile_id=staff[i % 10].pk)
            for i, o in enumerate(created)
        )
        races = []
        for r in range(2):
            start = today + timedelta(days=14)
            race = Offering.objects.create(
                name=f"Race {r}",
                program=programs[0],
                capacity=SEATS,
                start_date=start,
                end_date=start + timedelta(weeks=8),
                start_time=clock(16),
                end_time=clock(17),
                weekdays=[start.weekday()],
                tuition=0,
                status=Offering.Status.PUBLISHED,
            )
            families = []
            for i in range(FAMILIES_PER_RACE):
                n = r * FAMILIES_PER_RACE + i
                user = User(email=f"parent{n}@rush.test")
                user.set_unusable_password()
                user.save()
                family = Family.objects.create(name=f"Family {n}")
                Guardian.objects.create(
                    family=family,
                    user=user,
                    first_name="P",
                    last_name=str(n),
                    email=user.email,
                    is_primary=True,
                )
                student = Student.objects.create(
                    family=family, first_name=f"K{n}", last_name="R", date_of_birth=date(2016, 1, 1)
                )
                _, raw = api_token_issue(user=user, name="bench")
                families.append((raw, student.pk))
            races.append({"offering": race.pk, "families": families})
    connection.set_schema_to_public()
    return {"tenant": tenant, "races": races}


def _set_limit(tenant, limit: int) -> None:
    from django_tenants.utils import tenant_context

    from portal.config.services import portal_settings_update

    # Since issue 21 this is the fair-share floor (saas_platform.admission), not a limit:
    # nothing is shed unless the server is over its queueing-delay target.
    with tenant_context(tenant):
        portal_settings_update(class_search_rate_limit=limit)
    time.sleep(1.2)  # the servers' processes re-read the settings (generation checked each 1 s)


def _race_result(tenant, offering_id: int) -> dict:
    from django_tenants.utils import tenant_context

    from portal.catalog.models import Offering
    from portal.enrollment.models import Enrollment, Hold

    with tenant_context(tenant):
        offering = Offering.objects.get(pk=offering_id)
        return {
            "enrolled": Enrollment.objects.filter(offering_id=offering_id, status="active").count(),
            "holds": Hold.objects.filter(offering_id=offering_id, status="active").count(),
            "seats_taken": offering.seats_taken,
            "capacity": offering.capacity,
        }


def _race_log(server: Server) -> tuple[int, int, int, int]:
    """(cart answers, seats held, checkout answers, checkouts done) in the access log so far."""
    carts = held = checkouts = sold = 0
    for status, _, path in server.log():
        if path == "/api/v1/cart/items":
            carts += 1
            held += status in (200, 201)
        elif path == "/api/v1/checkout":
            checkouts += 1
            sold += status in (200, 201)
    return carts, held, checkouts, sold


def race(server: Server, tenant, spec: dict, workdir: Path) -> dict:
    """200 families, one wrk thread and connection each, race for the class's seats. wrk runs
    until every family has its answers (read from the access log, polled every 20 ms), then is
    stopped; seats sold per second = seats / time until the last checkout was answered."""
    families_file = workdir / f"families-{spec['offering']}.txt"
    families_file.write_text("".join(f"{tok} {sid}\n" for tok, sid in spec["families"]))
    n = len(spec["families"])
    fd, script_path = tempfile.mkstemp(suffix=".lua")
    with os.fdopen(fd, "w") as fh:
        fh.write(CHECKOUT_LUA)
    before = _race_log(server)

    def progress() -> tuple[int, ...]:
        return tuple(a - b for a, b in zip(_race_log(server), before, strict=True))

    cmd = ["wrk", f"-t{n}", f"-c{n}", "-d120s", "--timeout", "30s", "-H", f"Host: {HOST}"]
    cmd += ["-H", "X-Forwarded-Proto: https", "-s", script_path, server.url("/api/v1/cart/items")]
    env = {
        **os.environ,
        "BENCH_FAMILIES": str(families_file),
        "BENCH_OFFERING": str(spec["offering"]),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    sold_at = answered_at = None
    while time.perf_counter() - started < 120:
        carts, held, checkouts, sold = progress()
        now = time.perf_counter() - started
        if sold_at is None and sold >= SEATS:
            sold_at = now
        if carts >= n and checkouts >= held:
            answered_at = now
            sold_at = sold_at or now
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    os.unlink(script_path)
    result = _parse_wrk(out).get("result", {})
    db = _race_result(tenant, spec["offering"])
    carts, held, checkouts, sold = progress()
    return {
        "families": n,
        "duration_s": answered_at or float("nan"),
        "sold_s": sold_at or float("nan"),
        "requests": carts + checkouts,
        "added": int(result.get("added", 0)),
        "full": int(result.get("full", 0)),
        "checked_out": sold,
        "other": int(result.get("other", 0)),
        "errors": [line for line in err.strip().splitlines() if line][:5],
        **db,
    }


def search_queries(tenant) -> dict:
    """SQL statements per search at two page sizes, the page built afresh and then from the
    page cache (in this process)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import tenant_context

    from portal.catalog.search_cache import catalog_changed

    client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    client.get(f"{SEARCH}?page_size=5")  # this process's first request: settings, theme, ...
    counts = {}
    for size in (20, 200):
        with tenant_context(tenant):
            catalog_changed()  # the page is built afresh
        for label in ("cold", "warm"):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"{SEARCH}?page_size={size}")
            if response.status_code != 200:
                raise RuntimeError(f"search answered {response.status_code}")
            counts[f"{label}_{size}"] = len(ctx.captured_queries)
    connection.set_schema_to_public()
    return counts


def search_paths(tenant, repeats: int = 20) -> dict:
    """A page of 50 search results (query + serialisation, in this process) by the path the
    profile replaced (``prefetch_related`` + the declared nested serializers) and by today's
    (batched relations + ``OfferingOutput.to_representation``), alternated. With
    ``BENCH_PROFILE=1`` also prints pyinstrument's profile of today's path."""
    from django.db.models import Prefetch
    from django.utils import timezone
    from django_tenants.utils import tenant_context
    from rest_framework import serializers

    from portal.catalog.models import Level, Offering, StaffProfile
    from portal.catalog.outputs import OfferingOutput
    from portal.catalog.selectors import OfferingFilters, offering_search
    from portal.config.selectors import portal_settings_get

    with tenant_context(tenant):
        portal = portal_settings_get()
        kinds = portal.shown_kinds()
        context = {"portal": portal, "currency": "USD"}

        def old() -> list:
            qs = (
                Offering.objects.published()
                .filter(kind__in=kinds, end_date__gte=timezone.localdate())
                .select_related("program", "location", "term")
                .prefetch_related(
                    Prefetch(
                        "levels",
                        queryset=Level.objects.select_related("program").order_by("position"),
                    ),
                    Prefetch("instructors", queryset=StaffProfile.objects.filter(is_active=True)),
                )
                .order_by("start_date", "start_time", "name", "pk")
            )
            serializer = OfferingOutput(context=context)
            return [serializers.Serializer.to_representation(serializer, o) for o in qs[:50]]

        def new() -> list:
            page = offering_search(filters=OfferingFilters(), visible_kinds=kinds)[:50]
            return OfferingOutput(page, many=True, context=context).data

        if [dict(d) for d in old()] != [dict(d) for d in new()]:
            raise RuntimeError("the two search paths disagree")
        times = {"old": [], "new": []}
        for _ in range(repeats):
            for label, fn in (("old", old), ("new", new)):
                started = time.perf_counter()
                fn()
                times[label].append(time.perf_counter() - started)
        profile = ""
        if os.environ.get("BENCH_PROFILE") == "1":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(repeats):
                new()
            profiler.stop()
            profile = profiler.output_text(unicode=False, color=False)
    return {key: statistics.median(v) for key, v in times.items()} | {"profile": profile}


def bench_throughput(server: Server, seconds: int, rounds: int) -> dict:
    results = {"search": [], "trivial": []}
    for r in range(rounds):
        for label, path in (("search", SEARCH), ("trivial", TRIVIAL)):
            server.reset_log()
            out = wrk(server, path, seconds=seconds, connections=8)
            statuses = {s for s, _, _ in server.log()}
            # Socket read errors are keep-alive connections the server closed as wrk reused
            # them (counted and printed); any answer but 200 is a failure.
            if out["non2xx"] or statuses - {200}:
                raise RuntimeError(f"{label}: errors {statuses} {out['raw']}")
            results[label].append(out)
        _progress("load: search vs trivial endpoint", r, rounds)
    agg = {}
    for label, outs in results.items():
        agg[label] = {
            key: statistics.median(o[key] for o in outs) for key in ("rps", "p50", "p99")
        } | {"socket_errors": sum(o["socket_errors"] for o in outs)}
    return agg


def bench_rush(server: Server, tenant, seconds: int, limit: int, race_spec: dict, workdir) -> dict:
    """Searches paced at 10x ``limit``/minute from 20 connections, with a checkout race
    started a third of the way in; then the same searches at the admitted rate, no rush."""
    import threading

    connections = 50
    rate = 10 * limit / 60  # searches per second offered
    gap_ms = max(int(connections * 1000 / rate), 1)
    _set_limit(tenant, limit)
    server.reset_log()
    race_out: dict = {}

    def late_race():
        from django.db import connection

        time.sleep(seconds / 3)
        try:
            race_out.update(race(server, tenant, race_spec, workdir))
        finally:
            connection.close()

    racer = threading.Thread(target=late_race)
    racer.start()
    out = wrk(
        server,
        SEARCH,
        seconds=seconds,
        connections=connections,
        threads=2,
        script=PACE_LUA,
        env={"BENCH_GAP_MS": str(gap_ms)},
    )
    racer.join()
    log = [entry for entry in server.log() if entry[2] == SEARCH]
    admitted = [ms for status, ms, _ in log if status == 200]
    shed = [ms for status, ms, _ in log if status == 429]
    errors_5xx = [status for status, _, _ in server.log() if status >= 500]  # searches and race
    # The same searches at the rate the limit admits, without the rush.
    _set_limit(tenant, 100_000)
    server.reset_log()
    calm_rate = limit / 60
    calm_conns = 2
    wrk(
        server,
        SEARCH,
        seconds=max(seconds // 3, 10),
        connections=calm_conns,
        threads=1,
        script=PACE_LUA,
        env={"BENCH_GAP_MS": str(max(int(calm_conns * 1000 / calm_rate), 1))},
    )
    calm = [ms for status, ms, path in server.log() if status == 200 and path == SEARCH]
    return {
        "limit": limit,
        "seconds": out.get("duration_s", seconds),
        "offered_rps": len(log) / max(out.get("duration_s", seconds), 1e-9),
        "requests": len(log),
        "admitted": len(admitted),
        "shed": len(shed),
        "errors_5xx": len(errors_5xx),
        "other": len(log) - len(admitted) - len(shed),
        "shed_p50": _pct(shed, 50),
        "shed_p99": _pct(shed, 99),
        "admitted_p50": _pct(admitted, 50),
        "admitted_p99": _pct(admitted, 99),
        "calm_p50": _pct(calm, 50),
        "calm_p99": _pct(calm, 99),
        "calm_requests": len(calm),
        "client_p99": out["p99"],
        "socket_errors": out["socket_errors"],
        "race": race_out,
    }


def bench_routing_http(server: Server, seconds: int, rounds: int) -> dict:
    """The trivial endpoint with the tenants table as it is vs. with 1,000 more tenants."""
    from tenants import routing
    from tenants.models import Domain, Tenant

    def add():
        fillers = Tenant.objects.bulk_create(
            Tenant(
                schema_name=f"httpfill-{i}",
                name=f"Filler {i}",
                owner_email="o@filler.test",
                contact_email="o@filler.test",
                status=Tenant.Status.ACTIVE,
            )
            for i in range(1000)
        )
        Domain.objects.bulk_create(
            Domain(domain=f"{t.schema_name}.bench.local", tenant=t, is_primary=True)
            for t in fillers
        )
        routing.invalidate()

    def remove():
        Domain.objects.filter(tenant__schema_name__startswith="httpfill-").delete()
        Tenant.objects.filter(schema_name__startswith="httpfill-").delete()
        routing.invalidate()

    results = {"few": [], "many": []}
    counts = {}
    for r in range(rounds):
        for label, prepare in (("few", remove), ("many", add)):
            prepare()
            counts[label] = Tenant.objects.count()
            time.sleep(1.2)  # every worker sees the new generation
            wrk(server, TRIVIAL, seconds=2, connections=8)  # warm every worker's cache
            results[label].append(wrk(server, TRIVIAL, seconds=seconds, connections=8))
        _progress("load: routing 1 vs 1,000 tenants", r, rounds)
    remove()
    return {
        label: {k: statistics.median(o[k] for o in outs) for k in ("rps", "p50", "p99")}
        for label, outs in results.items()
    } | {"tenants_few": counts["few"], "tenants_many": counts["many"]}


def _progress(label: str, i: int, n: int) -> None:
    width = 30
    done = int(width * (i + 1) / n)
    sys.stderr.write(f"\r  {label:<34} [{'#' * done}{'.' * (width - done)}] {i + 1}/{n}")
    if i + 1 == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_all() -> dict:
    """Everything above, in order; returns the figures for run.py to print."""
    from django.db import connection

    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make bench installs Debian's wrk)")
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", "10"))
    rounds = int(os.environ.get("BENCH_LOAD_ROUNDS", "3"))
    rush_seconds = int(os.environ.get("BENCH_RUSH_SECONDS", "60"))
    rush_limit = int(os.environ.get("BENCH_RUSH_LIMIT", "300"))

    sys.stderr.write("  load: building a tenant with 1,000 offerings and 400 families…\n")
    data = build_tenant()
    tenant = data["tenant"]
    queries = search_queries(tenant)
    paths = search_paths(tenant)
    _set_limit(tenant, 100_000)
    connection.close()  # the server's workers fork from a clean master
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    server = Server(workdir)
    server.start()
    try:
        wrk(server, SEARCH, seconds=2, connections=4)  # warm every worker
        wrk(server, TRIVIAL, seconds=2, connections=4)
        throughput = bench_throughput(server, seconds, rounds)
        started = time.perf_counter()
        checkout = race(server, tenant, data["races"][0], workdir)
        checkout["wall_s"] = time.perf_counter() - started
        _progress("load: checkout race", 0, 1)
        rush = bench_rush(server, tenant, rush_seconds, rush_limit, data["races"][1], workdir)
        _progress("load: rush", 0, 1)
        routing = bench_routing_http(server, max(seconds // 2, 3), rounds)
    finally:
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)  # kept (access log, server log) if a part failed
    return {
        "workers": server.workers,
        "threads": server.threads,
        "queries": queries,
        "paths": paths,
        "throughput": throughput,
        "checkout": checkout,
        "rush": rush,
        "routing": routing,
        "seconds": seconds,
        "rounds": rounds,
        "workdir": str(workdir),
    }


def report(r: dict) -> None:
    t = r["throughput"]
    s, triv = t["search"], t["trivial"]
    print()
    print(
        f"Load (gunicorn, saas_platform/gunicorn_conf.py: {r['workers']} workers x "
        f"{r['threads']} threads; wrk on "
        f"127.0.0.1, 8 connections, {r['rounds']} x {r['seconds']} s rounds alternated)"
    )
    print(
        f"  trivial DRF endpoint (theme tokens)   {triv['rps']:8.1f} req/s"
        f"   p50 {triv['p50']:6.1f} ms  p99 {triv['p99']:6.1f} ms"
    )
    print(
        f"  class search, 1,000 offerings, page 1 {s['rps']:8.1f} req/s"
        f"   p50 {s['p50']:6.1f} ms  p99 {s['p99']:6.1f} ms"
    )
    print(
        f"  socket read errors (keep-alive closes) {triv['socket_errors']} trivial, "
        f"{s['socket_errors']} search"
    )
    ratio = s["rps"] / triv["rps"]
    print(f"  throughput ratio search / trivial     {ratio:8.2f}   (target >= 0.5)")
    q = r["queries"]
    constant = q["cold_20"] == q["cold_200"] and q["warm_20"] == q["warm_200"]
    print(
        f"  SQL queries per search, page built    {q['cold_20']:8d} (page of 20)  "
        f"{q['cold_200']} (page of 200)"
    )
    print(
        f"  SQL queries per search, page cached   {q['warm_20']:8d} (page of 20)  "
        f"{q['warm_200']} (page of 200)" + ("   constant" if constant else "   NOT constant")
    )
    p = r["paths"]
    print(
        f"  page of 50, query + serialise (in-process): before the profile fixes "
        f"{p['old'] * 1000:6.1f} ms, now {p['new'] * 1000:6.1f} ms   "
        f"{p['old'] / p['new']:.1f}x faster"
    )
    if p["profile"]:
        print(p["profile"])
    c = r["checkout"]
    print()
    print(
        f"Checkout under contention ({c['families']} families, one connection each, "
        f"{c['capacity']} seats, free class)"
    )
    print(
        f"  enrolled {c['enrolled']} of {c['capacity']} seats; seats_taken {c['seats_taken']}; "
        f"{c['full']} told the class is full; {c['other']} other answers"
        + ("   exactly full, not oversold" if c["enrolled"] == c["capacity"] else "   WRONG")
    )
    print(
        f"  {c['requests']} requests answered in {c['duration_s']:.2f} s "
        f"({c['requests'] / c['duration_s']:.1f} req/s); the {c['checked_out']} checkouts "
        f"within {c['sold_s']:.2f} s: {c['checked_out'] / c['sold_s']:.1f} checkouts/s"
    )
    for line in c["errors"]:
        print(f"  unexpected answer: {line}")
    u = r["rush"]
    print()
    print(
        f"Rush ({u['seconds']:.0f} s of searches paced at 10x the limit of {u['limit']}/min, "
        f"50 connections; a {c['capacity']}-seat checkout race of 200 families inside it)"
    )
    print(
        f"  offered {u['offered_rps']:.1f} searches/s = "
        f"{u['offered_rps'] * 60 / u['limit']:.1f}x the limit; {u['requests']} searches: "
        f"{u['admitted']} admitted, {u['shed']} shed (429), {u['other']} other"
    )
    print(f"  5xx responses                         {u['errors_5xx']:8d}   (target 0)")
    print(
        f"  shed answered in (server)             p50 {u['shed_p50']:6.2f} ms  "
        f"p99 {u['shed_p99']:6.2f} ms   (target p99 <= 5 ms)"
    )
    print(
        f"  admitted searches (server)            p50 {u['admitted_p50']:6.1f} ms  "
        f"p99 {u['admitted_p99']:6.1f} ms"
    )
    print(
        f"  same searches at that rate, no rush   p50 {u['calm_p50']:6.1f} ms  "
        f"p99 {u['calm_p99']:6.1f} ms   p99 ratio {u['admitted_p99'] / u['calm_p99']:.2f}"
    )
    race_r = u["race"]
    if race_r:
        print(
            f"  checkout race during the rush: enrolled {race_r['enrolled']} of "
            f"{race_r['capacity']}, seats_taken {race_r['seats_taken']}, "
            f"{race_r['checked_out'] / race_r['sold_s']:.1f} checkouts/s"
            + ("   not oversold" if race_r["enrolled"] <= race_r["capacity"] else "   OVERSOLD")
        )
    g = r["routing"]
    print()
    print(
        f"Routing over HTTP (trivial endpoint; {g['tenants_few']} vs {g['tenants_many']} tenants, "
        "rounds alternated)"
    )
    few, many = g["few"], g["many"]
    print(f"  {g['tenants_few']:>5} tenants                          {few['rps']:8.1f} req/s")
    print(
        f"  {g['tenants_many']:>5} tenants                          {many['rps']:8.1f} req/s"
        f"   cost ratio {few['rps'] / many['rps']:.2f}  (target <= 1.1)"
    )
