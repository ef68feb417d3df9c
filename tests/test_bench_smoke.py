"""The in-process measures under tests/bench (not collected by the suite: they print figures
and take minutes) run here at a tiny size with every option on, so they cannot rot unnoticed.
Nothing here is a figure."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.bench import checkout_cpu, first_search, search_cpu, waiting_room_cpu
from tests.bench.waiting_room_cpu import opening  # noqa: F401  (the measure's fixture)

pytestmark = pytest.mark.django_db


def test_checkout_cpu_runs(family_a, monkeypatch, tmp_path, capsys):
    for name, value in (("WARM", 1), ("ROUNDS", 2), ("GAP_ROUNDS", 1)):
        monkeypatch.setattr(checkout_cpu, name, value)
    monkeypatch.setenv("CHECKOUT_PROFILE", "1")
    monkeypatch.setenv("CHECKOUT_PROFILE_OUT", str(tmp_path / "checkout.prof"))
    monkeypatch.setenv("CHECKOUT_SQL", "1")
    monkeypatch.setenv("CHECKOUT_GAPS", "1")
    checkout_cpu.test_print_checkout_cpu(family_a, monkeypatch)
    out = capsys.readouterr().out
    assert "Free-class registration" in out and "statements" in out
    assert "Python CPU before each statement" in out and "--- checkout" in out
    assert (tmp_path / "checkout.prof").stat().st_size > 0


def test_waiting_room_cpu_runs(opening, family_a, monkeypatch, capsys):  # noqa: F811
    for name, value in (("ROUNDS", 1), ("PER_ROUND", 2)):
        monkeypatch.setattr(waiting_room_cpu, name, value)
    monkeypatch.setenv("WR_PROFILE", "1")
    waiting_room_cpu.test_print_waiting_room_cpu(opening, family_a)
    out = capsys.readouterr().out
    assert "join (bearer token)" in out and "function calls" in out


def test_search_cpu_runs(in_tenant_a, monkeypatch, capsys):
    for name, value in (("ROUNDS", 1), ("PER_ROUND", 2)):
        monkeypatch.setattr(search_cpu, name, value)
    monkeypatch.setenv("SEARCH_PROFILE", "1")
    search_cpu.test_print_search_cpu(in_tenant_a)
    out = capsys.readouterr().out
    assert "Warm search CPU" in out and "trivial / search CPU" in out and "function calls" in out


def test_first_search_runs(tenant_a, tenant_b, in_test_transaction, monkeypatch, capsys):
    monkeypatch.setattr(first_search, "ROUNDS", 1)
    first_search.test_print_first_search(tenant_a, tenant_b, in_test_transaction)
    out = capsys.readouterr().out
    assert "first class search" in out and "read beforehand by warm_businesses" in out


def test_opening_ab_reads_variants_and_summarises_runs():
    """The opening's A/B runner (a whole run takes minutes: only its parsing and tables here)."""
    from tests.bench import opening_ab

    assert opening_ab.parse_variant("four") == ("four", {})
    assert opening_ab.parse_variant("two:GUNICORN_THREADS=2,BENCH_OPENING_SCALE=0.1") == (
        "two",
        {"GUNICORN_THREADS": "2", "BENCH_OPENING_SCALE": "0.1"},
    )
    for bad in ("two:threads=2", ":X=1", "two:NOVALUE"):
        with pytest.raises(SystemExit):
            opening_ab.parse_variant(bad)

    def head(per_minute: float, b_ratio: float) -> dict:
        return {
            "per_minute": per_minute,
            "seen_while_seats_p50_s": 4.5,
            "latency_p50_ms": {"hold": 500.0, "checkout": 600.0},
            "b_ratio": b_ratio,
            "search_trivial": 0.5,
            "trivial_rps": 1000.0,
            "cpu_until_s": 40.0,
            "cpu_until_ms_each": {"hold": 25.0, "checkout": 35.0, "join": 3.5},
            "server_cores": 1.4,
            "oversold": 0,
            "5xx": 0,
            "fairness": 1.0,
        }

    rows = [("four", head(560, 17.6)), ("two", head(670, 7.6)), ("four", head(720, 7.6))]
    table = opening_ab.table(rows)
    assert (
        len(table) == 4 and "reg/min" in table[0] and table[1].split()[:3] == ["four", "1", "560"]
    )
    summary = opening_ab.summary(rows)
    assert summary[0].startswith("  four (2 runs): reg/min 640 [560-720]")
    assert "B p99 x calm 12.6 [7.6-17.6]" in summary[0]
    assert "server cores 1.40;" in summary[0] and "driver cores -" in summary[0]  # an older run
    assert summary[1].startswith("  two (1 runs): reg/min 670;")


def test_gunicorn_overhead_reads_wrks_request_count():
    """The gunicorn measure starts servers and wrk (minutes, and wrk is a bench dependency):
    only its reading of wrk's output here."""
    from tests.bench.gunicorn_overhead import KINDS, requests_done

    out = "Running 6s test @ http://127.0.0.1:1/\n  17083 requests in 6.00s, 2.1MB read\n"
    assert requests_done(out) == 17083
    assert set(KINDS) == {"fair", "gthread", "sync"}
    with pytest.raises(ValueError):
        requests_done("unable to connect")


def test_cpu_sampler_reads_this_machine():
    from tests.bench import cpu_sampler

    total, idle = cpu_sampler.machine()
    assert total > idle >= 0
    kinds = {kind for kind, _cpu in cpu_sampler.processes().values()}
    assert kinds <= set(cpu_sampler.GROUPS) and "other" in kinds


def test_opening_seconds_reads_a_runs_record(tmp_path, capsys):
    """The opening's second-by-second view, on a tiny made-up run folder."""
    from tests.bench import opening_seconds

    opens = 1_000_000.0
    result = {
        "opens_epoch": opens,
        # (answered at, thread CPU seconds, kind), as opening.py records each request.
        "cpu": {
            "by_kind": [
                [opens + 0.5, 0.001, "join"],
                [opens + 0.7, 0.0005, "poll"],
                [opens + 1.2, 0.009, "hold"],
                [opens + 1.6, 0.012, "checkout"],
                [opens + 1.7, 0.002, "B search"],
                [opens + 60, 0.001, "poll"],  # after the sale: not shown
            ]
        },
        "fairness": {"admitted_at": {"7": opens + 0.6, "8": opens + 0.9}},
        "driver": {
            "families": [
                {"family": "7", "admitted": 0.8, "finished": 1.7, "outcome": "registered"},
                {"family": "8", "admitted": 3.5},
                {"family": "9"},
            ]
        },
    }
    (tmp_path / "result.json").write_text(json.dumps(result))
    seconds = opening_seconds.by_second(result["cpu"]["by_kind"], opens, 5)
    assert seconds == {
        0: {"join": (1, 1000), "poll": (1, 500)},
        1: {"hold": (1, 9000), "checkout": (1, 12000), "B": (1, 2000)},
    }
    # At 1 s both families let in hold a slot, one of them has seen its pass; at 3 s family 7
    # has finished and family 8 has still not seen its own.
    assert opening_seconds.slots(result, moments=(1, 3)) == [(1, 2, 1), (3, 1, 1)]
    # Each worker's CPU log: a line a request (answered at, thread CPU µs, method, host, path,
    # waits), a garbage collection's line without a request.
    cpu = tmp_path / "cpu"
    cpu.mkdir()
    (cpu / "cpu-101.log").write_text(
        f"{opens - 3:.3f} 900 GET b.example /api/v1/offerings 10 20 5\n"
        f"{opens - 2:.3f} 300 GC - gen0\n"
        f"{opens + 0.5:.3f} 1000 POST a.example /api/v1/openings/1/queue 10 20 5\n"
        f"{opens + 1.7:.3f} 2000 GET b.example /api/v1/offerings 10 20 5\n"
        f"{opens + 60:.3f} 900 GET b.example /api/v1/offerings 10 20 5\n"
    )
    (cpu / "cpu-102.log").write_text(f"{opens + 1.2:.3f} 9000 POST a.example /api/v1/cart 1 2 3\n")
    assert opening_seconds.by_worker(cpu, opens, 5) == {
        "101": {"b.example": [1, 1], "a.example": [0, 1]},
        "102": {"a.example": [0, 1]},
    }
    # Family 7 let in 0.6 s after the opening saw its pass 0.2 s later, family 8 2.6 s later;
    # none was let in at the opening itself.
    seen = opening_seconds.pass_seen(result)
    assert seen["at the opening"] == [] and [round(v, 2) for v in seen["after it"]] == [0.2, 2.6]
    assert opening_seconds.percentiles([float(v) for v in range(10)]) == [1, 2, 5, 7, 9]
    opening_seconds.report(tmp_path)
    out = capsys.readouterr().out
    assert "1 s after the opening:    2 (1 not yet seen)" in out
    assert "let in after it" in out and "0.20 / 0.20 / 2.60 / 2.60 / 2.60" in out
    # Until the last seat (1.7 s): worker 102 served business A once, business B never.
    rows = [line.split() for line in out.splitlines()]
    assert ["102", "0", "/", "1", "0", "/", "0"] in rows


def test_opening_splits_business_bs_waits_while_seats_are_sold(tmp_path, monkeypatch):
    """B's searches between a second before the first checkout and the last, from the CPU
    log's waits (queued, served, runnable, in microseconds after the path)."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "bench"))  # as the runners do
    from tests.bench import opening as opening_bench

    (tmp_path / "cpu-1.log").write_text(
        "100.000 900 GET b.test /api/v1/offerings 100 2000 500\n"  # before the sale: left out
        "109.500 1000 GET b.test /api/v1/offerings 200 3000 1000\n"
        "110.000 9000 POST a.test /api/v1/checkout 50 20000 4000\n"
        "110.200 120 GC - gen0\n"  # a collection's line
        "110.500 2000 GET b.test /api/v1/offerings 400 5000 2500\n"
        "111.000 1500 GET b.test /api/v1/offerings -1 4000 100\n"  # no queue stamp: left out
        "111.000 1500 GET b.test /api/v1/offerings\n"  # an older log's line
    )
    (tmp_path / "cpu-2.log").write_text("112.000 9000 POST a.test /api/v1/checkout 50 20000 0\n")
    waits = opening_bench._b_waits(tmp_path, "b.test")
    assert waits["requests"] == 2
    assert waits["thread"] == {"p50": 0.2, "p90": 0.4, "p99": 0.4}
    assert waits["total"]["p99"] == 5.4 and waits["core"]["p50"] == 1.0
    assert waits["cpu"]["p99"] == 2.0 and waits["rest"]["p99"] == 1.0  # 3.0 - 1.0 - 1.0
    assert opening_bench._b_waits(tmp_path, "nobody.test")["requests"] == 0
    (tmp_path / "cpu-2.log").unlink()
    (tmp_path / "cpu-1.log").write_text("100.0 900 GET b.test /api/v1/offerings 1 2 3\n")
    assert opening_bench._b_waits(tmp_path, "b.test") == {}  # no checkout: no sale to speak of


def test_business_b_arrives_at_random_unless_told_lockstep(monkeypatch):
    """The opening's business B: wrk's script by BENCH_OPENING_B_ARRIVALS (random by default,
    lockstep as the passes before the seventeenth measured), and nothing else accepted."""
    from tests.bench import load

    # opening.py imports its siblings as top-level modules, as run.py and opening_ab.py run it.
    monkeypatch.syspath_prepend(str(Path(load.__file__).parent))
    from tests.bench import opening as opening_bench

    monkeypatch.delenv("BENCH_OPENING_B_ARRIVALS", raising=False)
    assert opening_bench._b_arrivals() == "random"
    assert "math.random()" in load.RANDOM_PACE_LUA and "math.randomseed" in load.RANDOM_PACE_LUA
    monkeypatch.setenv("BENCH_OPENING_B_ARRIVALS", "lockstep")
    assert opening_bench._b_arrivals() == "lockstep"
    monkeypatch.setenv("BENCH_OPENING_B_ARRIVALS", "bursty")
    with pytest.raises(ValueError):
        opening_bench._b_arrivals()


def test_a_server_without_the_access_log_reads_statuses_from_the_cpu_log(tmp_path, monkeypatch):
    """The opening's server runs without gunicorn's access log, as production's default: its
    (status, ms, path) come from the workers' CPU log (status last on each line), from the
    last reset on; collection lines and an older log's lines carry none."""
    from tests.bench import load

    with pytest.raises(ValueError):
        load.Server(tmp_path, access_log=False)  # no CPU log either: nowhere to read statuses
    server = load.Server(tmp_path, cpu_log=True, access_log=False)
    server.cpu_dir.mkdir()
    (server.cpu_dir / "cpu-1.log").write_text(
        "100.000 900 GET a.test /api/v1/offerings 10 2000 50 200\n"  # before the reset
        "200.000 900 POST a.test /api/v1/checkout 10 31000 50 201\n"
        "200.100 120 GC - gen0\n"
        "200.200 900 GET a.test /api/v1/offerings 10 4000 50\n"  # an older log's line
    )
    (server.cpu_dir / "cpu-2.log").write_text(
        "200.300 900 POST a.test /api/v1/cart/items 10 2500 50 503\n"
        "200.400 900 POST a.test /api/v1/cart/items 10 2500 50 0\n"  # no answer begun
    )
    assert len(server.log()) == 4
    monkeypatch.setattr(load.time, "time", lambda: 150.0)
    server.reset_log()
    assert sorted(server.log()) == [
        (0, 2.5, "/api/v1/cart/items"),
        (201, 31.0, "/api/v1/checkout"),
        (503, 2.5, "/api/v1/cart/items"),
    ]
    assert load.read_cpu_file(server.cpu_dir / "cpu-1.log")[2].status is None  # the GC line


# --- the opening benchmark's families (tests/bench/opening_driver.py) ----------------------

DRIVER = Path(__file__).resolve().parent / "bench" / "opening_driver.py"


class StandIn:
    """The portal as the opening benchmark's families see it (tests/bench/opening_driver.py
    against a stand-in server, on each event loop the driver offers), in the fewest words:
    every family waits one poll, then is let in; the family whose student is 2 finds the class
    full and leaves the line."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.polls: dict[str, int] = {}
        self.agents: set[str] = set()  # which client the driver used

    async def queue(self, request: web.Request) -> web.Response:
        ticket = request.headers.get("X-Waiting-Room-Ticket", "")
        self.calls.append((request.method, "queue", ticket or request.headers["Authorization"]))
        self.agents.add(request.headers.get("User-Agent", ""))
        if request.method == "POST":
            family = request.headers["Authorization"].removeprefix("Bearer ")
            return web.json_response({"state": "waiting", "ticket": family, "poll_seconds": 1})
        if request.method == "DELETE":
            return web.Response(status=204)
        self.polls[ticket] = self.polls.get(ticket, 0) + 1
        return web.json_response({"state": "admitted", "pass_token": f"pass-{ticket}"})

    async def offerings(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", "offerings", request.headers["X-Waiting-Room-Pass"]))
        response = web.json_response({"results": [{"id": 7, "availability": {"status": "OPEN"}}]})
        # Gzipped (the driver asks for it, as aiohttp does) and so sent in chunks.
        response.enable_compression(web.ContentCoding.gzip)
        return response

    async def hold(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(("POST", "hold", json.dumps(body, sort_keys=True)))
        if body["student"] == 2:
            return web.json_response({"code": "offering_full"}, status=409)
        return web.json_response({"id": 1}, status=201)

    async def checkout(self, request: web.Request) -> web.Response:
        self.calls.append(("POST", "checkout", request.headers["X-Waiting-Room-Pass"]))
        return web.json_response({"id": 1, "amount_due": 0}, status=201)

    def serve(self) -> tuple[int, Callable[[], None]]:
        app = web.Application()
        app.router.add_route("*", "/api/v1/openings/1/queue", self.queue)
        app.router.add_get("/api/v1/offerings", self.offerings)
        app.router.add_post("/api/v1/cart/items", self.hold)
        app.router.add_post("/api/v1/checkout", self.checkout)
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        def stop() -> None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

        return port, stop


@pytest.mark.parametrize(
    ("loop", "client"), [("uvloop", "raw"), ("asyncio", "raw"), ("uvloop", "aiohttp")]
)
def test_the_driver_plays_families_to_the_end_on_each_loop(tmp_path, loop, client):
    stand_in = StandIn()
    port, stop = stand_in.serve()
    families = tmp_path / "families.txt"
    families.write_text("fam-one 1 101\nfam-two 2 102\n")
    out = tmp_path / "driver.json"
    try:
        subprocess.run(
            [
                sys.executable,
                str(DRIVER),
                "--port",
                str(port),
                "--host",
                "a.example",
                "--opening",
                "1",
                "--offerings",
                "7",
                "--families",
                str(families),
                "--opens-at",
                repr(time.time() + 0.2),  # the families arrive at once
                "--arrive-seconds",
                "0.1",
                "--tries",
                "1",
                "--loop",
                loop,
                "--client",
                client,
                "--out",
                str(out),
            ],
            check=True,
            timeout=60,
            capture_output=True,
        )
    finally:
        stop()
    result = json.loads(out.read_text())
    outcomes = {f["family"]: f["outcome"] for f in result["families"]}
    assert outcomes == {"101": "registered", "102": "full"}
    assert result["statuses"]["join"] == {"200": 2}
    assert result["statuses"]["poll"] == {"200": 2}  # one each, then let in
    assert result["statuses"]["hold"] == {"201": 1, "409": 1}
    assert result["statuses"]["checkout"] == {"201": 1}
    assert result["statuses"]["leave"] == {"204": 1}  # the family that found no seat
    assert stand_in.polls == {"fam-one": 1, "fam-two": 1}
    # Once let in, each request carries the pass the line handed over.
    assert ("POST", "checkout", "pass-fam-one") in stand_in.calls
    assert ("POST", "hold", '{"offering": 7, "student": 1}') in stand_in.calls
    assert result["errors"] == []
    # The client asked for, not the other one in its place.
    agent = "opening-driver" if client == "raw" else "aiohttp"
    assert stand_in.agents and all(agent in sent for sent in stand_in.agents), stand_in.agents


def _answer_of(*pieces: bytes):
    """What the raw client's protocol makes of an answer arriving in these pieces."""
    driver = _load_driver()
    protocol = driver._Answer()
    answers = []
    for piece in pieces:
        protocol.buffer += piece
        answers.append(protocol.parse())
    return answers, protocol


def _load_driver():
    import importlib.util

    spec = importlib.util.spec_from_file_location("opening_driver", DRIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_raw_client_reads_an_answer_only_once_all_of_it_is_in():
    head = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n"
    answers, protocol = _answer_of(head[:20], head[20:] + b'{"id"', b": 1}HTTP/1.1 2")
    assert answers == [None, None, (201, b'{"id": 1}', False)]
    assert bytes(protocol.buffer) == b"HTTP/1.1 2"  # the next answer's start is kept


def test_the_raw_client_reads_chunked_gzipped_and_closing_answers():
    import gzip

    body = gzip.compress(b'{"results": []}')
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n"
        b"Connection: close\r\n\r\n"
        + f"{5:x}\r\n".encode()
        + body[:5]
        + b"\r\n"
        + f"{len(body) - 5:x};ext=1\r\n".encode()
        + body[5:]
        + b"\r\n0\r\n\r\n"
    )
    answers, protocol = _answer_of(chunked[:-3], chunked[-3:])
    assert answers == [None, (200, b'{"results": []}', True)]
    assert protocol.buffer == bytearray()
    no_body = b"HTTP/1.1 204 No Content\r\nVary: Cookie\r\n\r\n"
    assert _answer_of(no_body)[0] == [(204, b"", False)]


# --- the machine-stall probe (tests/bench/stall_probe.py) and what the opening reads of it --


def test_the_stall_probe_counts_late_wake_ups_only():
    from tests.bench import stall_probe

    now = [0.0]
    lateness = iter([0.0001, 0.005, 0.0039, 0.020])

    def sleep(seconds: float) -> None:
        now[0] += seconds + next(lateness)

    wakeups, stalls = stall_probe.watch(
        0.002,
        0.004,
        lambda: now[0] > 0.030,
        cpu=1,
        sleep=sleep,
        clock=lambda: now[0],
        wall=lambda: now[0] + 1000.0,
    )
    assert wakeups == 4
    # Due at 4.1 ms and 17.0 ms (epoch = monotonic + 1000 s), 5 and 20 ms late; 3.9 ms is not.
    assert [(s.cpu, round(s.start - 1000, 4), round(s.ms, 3)) for s in stalls] == [
        (1, 0.0041, 5.0),
        (1, 0.017, 20.0),
    ]


def test_the_stall_probe_runs_until_told_and_writes_what_it_saw(tmp_path):
    import os
    import signal

    from tests.bench import stall_probe

    out = tmp_path / "stalls-0.txt"
    script = Path(stall_probe.__file__)
    cpu = min(os.sched_getaffinity(0))
    proc = subprocess.Popen([sys.executable, str(script), "--cpu", str(cpu), "--out", str(out)])
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    probe = stall_probe.read(out)
    assert probe.policy in {"fifo", "nice", "none"} and probe.cpu == cpu and probe.wakeups > 10
    assert all(stall.ms >= 4 for stall in probe.stalls)
    again = tmp_path / "again.txt"
    stall = stall_probe.Stall(cpu, 5.5, 7.25)
    stall_probe.write(again, probe._replace(stalls=[stall]), 0.002, 0.004)
    assert stall_probe.read(again).stalls == [stall]
    assert again.read_text().startswith(f"policy {probe.policy} cpu {cpu} wakeups ")


def test_the_opening_takes_the_machines_stalls_out_of_business_bs_searches(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent / "bench"))  # as the runners do
    from tests.bench import opening as opening_bench

    # Two cores' stalls overlap from 100.010 to 100.015: counted once.
    stalls = [(100.000, 15.0), (100.010, 10.0), (200.0, 5.0)]
    assert opening_bench._stalled_ms(100.005, 30.0, stalls) == pytest.approx(15.0)
    assert opening_bench._stalled_ms(100.100, 30.0, stalls) == 0.0
    assert opening_bench._stalled_ms(99.990, 5.0, stalls) == 0.0

    (tmp_path / "cpu-1.log").write_text(
        # at cpu method host path queued_us served_us runnable_us: B's two searches in the calm
        # window, two in the opening's, one between them left out; A's and an unstamped one too.
        "10.010 900 GET b.test /api/v1/offerings 1000 4000 0\n"
        "10.500 900 GET b.test /api/v1/offerings 0 6000 0\n"
        "15.000 900 GET b.test /api/v1/offerings 0 99000 0\n"
        "20.050 900 GET b.test /api/v1/offerings 0 40000 0\n"
        "21.000 900 GET b.test /api/v1/offerings 0 8000 0\n"
        "21.000 900 GET a.test /api/v1/offerings 0 50000 0\n"
        "21.000 900 GET b.test /api/v1/offerings -1 50000 0\n"
    )
    windows = {"calm": (10.0, 11.0), "opening": (20.0, 22.0)}
    b = opening_bench._b_server(tmp_path, "b.test", windows)
    assert [[round(at, 3), ms] for at, ms in b] == [
        [10.005, 5.0],
        [10.494, 6.0],
        [20.01, 40.0],
        [20.992, 8.0],
    ]
    result = {
        "windows": windows,
        # A search queued before the calm window and answered in it is left out of the window.
        "b_server": [[9.990, 50.0], *b],
        "steal_s": {"calm": 0.0, "opening": 0.3},
        # The opening's slow search (20.010-20.050) waited out a 30 ms stall of core 1.
        "stalls": {"policy": ["fifo"], "wakeups": 1000, "cores": 2, "list": [[1, 20.015, 30.0]]},
    }
    figures = opening_bench.stall_figures(result)
    calm, busy = figures["calm"], figures["opening"]
    assert (calm["stalls"], calm["b_requests"], busy["stalls"], busy["b_requests"]) == (0, 2, 1, 2)
    assert busy["stalled_ms"] == busy["longest_ms"] == 30.0 and busy["steal_s"] == 0.3
    assert busy["b_p99_unstalled_ms"] == pytest.approx(10.0)  # 40 - 30, now above 8
    assert figures["b_ratio"] == pytest.approx(40.0 / 6.0)
    assert figures["b_ratio_unstalled"] == pytest.approx(10.0 / 6.0)
    assert opening_bench.stall_figures({**result, "stalls": None}) == {}
