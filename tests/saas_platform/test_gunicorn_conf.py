"""The production server config: workers from the CPU count, every value from the environment."""

import runpy
import threading
import time
from pathlib import Path

import pytest

from saas_platform import admission

CONF = Path(__file__).resolve().parents[2] / "saas_platform" / "gunicorn_conf.py"


def load(monkeypatch, **env) -> dict:
    for name in list(__import__("os").environ):
        if name.startswith("GUNICORN_") or name == "PORT":
            monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_defaults_come_from_the_cpu_count(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    conf = load(monkeypatch)
    assert conf["workers"] == 5  # 3 CPUs + 1, threaded workers, and the quiet lane's
    assert conf["quiet_lane"] is True
    assert conf["threads"] == 4
    assert load(monkeypatch, GUNICORN_THREADS="1")["workers"] == 7  # sync: 2 x 3 CPUs + 1
    assert conf["worker_class"] == "saas_platform.gunicorn_fair.FairThreadWorker"
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["wsgi_app"] == "saas_platform.wsgi:application"
    assert conf["preload_app"] is True
    assert conf["max_requests"] == 2000 and conf["max_requests_jitter"] == 200
    assert conf["accesslog"] is None
    assert conf["switch_interval_ms"] == 3


def test_the_master_freezes_what_it_loaded_before_forking_a_worker(monkeypatch):
    import gc
    import weakref

    class Node:
        pass

    conf = load(monkeypatch)
    garbage = Node()
    garbage.itself = garbage  # a cycle nothing refers to once this test drops it
    collected = weakref.ref(garbage)
    before = gc.get_freeze_count()
    del garbage
    conf["pre_fork"](None, None)
    # Everything tracked is now out of the collector's walks (the test session froze what it
    # had loaded too: tests/conftest.py); the cycle was collected first, not frozen for good.
    assert gc.get_freeze_count() > before
    assert len(gc.get_objects()) < 1_000  # a session heap has hundreds of thousands
    assert collected() is None


def test_environment_overrides(monkeypatch):
    conf = load(
        monkeypatch,
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="1",
        PORT="9000",
        GUNICORN_TIMEOUT="60",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_ACCESS_LOG="-",
    )
    assert conf["workers"] == 3
    assert conf["worker_class"] == "sync"
    assert conf["bind"] == "0.0.0.0:9000"
    assert conf["timeout"] == 60
    assert conf["max_requests"] == 0
    assert conf["accesslog"] == "-"
    assert load(monkeypatch, GUNICORN_BIND="127.0.0.1:1234")["bind"] == "127.0.0.1:1234"
    assert load(monkeypatch, GUNICORN_FAIR="0")["worker_class"] == "gthread"


def test_the_quiet_lane_adds_a_worker_unless_off_or_the_workers_are_given(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert load(monkeypatch)["workers"] == 4  # 2 CPUs + 1, and the lane's
    off = load(monkeypatch, GUNICORN_QUIET_LANE="0")
    assert off["workers"] == 3 and off["quiet_lane"] is False
    # Only the fair pool has a lane to hand connections to.
    assert load(monkeypatch, GUNICORN_FAIR="0")["workers"] == 3
    assert load(monkeypatch, GUNICORN_THREADS="1")["workers"] == 5  # sync: 2 x 2 CPUs + 1
    # Given, the count includes it.
    assert load(monkeypatch, GUNICORN_WORKERS="3")["workers"] == 3


def test_cpu_log_is_off_unless_a_folder_is_given(monkeypatch):
    conf = load(monkeypatch)
    assert "pre_request" not in conf and "post_request" not in conf


def test_cpu_log_writes_a_line_per_request_with_its_thread_cpu(monkeypatch, tmp_path):
    conf = load(monkeypatch, GUNICORN_CPU_LOG_DIR=str(tmp_path))

    class Req:
        method = "POST"
        path = "/api/v1/checkout"

    conf["pre_request"](None, Req())
    sum(i * i for i in range(200_000))  # some CPU on this thread
    conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test:8000"}, None)
    # Queued 50 ms ago, as the worker's stamp says (the admission middleware reads it later).
    admission.mark_queued(time.monotonic() - 0.05)
    conf["pre_request"](None, Req())
    time.sleep(0.02)
    answer = type("Resp", (), {"status_code": 201})()
    conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, answer)
    assert admission.queued_at() is not None  # read, not taken
    admission.mark_queued(None)
    (log,) = tmp_path.glob("cpu-*.log")
    first, second = (line.split() for line in log.read_text().splitlines())
    at, cpu_us, method, host, path, queued, served, runnable, status, after = first
    assert float(at) > 0 and int(cpu_us) > 1000  # microseconds: well over a millisecond
    assert (method, host, path) == ("POST", "alpha.example.test", "/api/v1/checkout")
    assert queued == "-1"  # no stamp: not queued by the worker
    assert int(served) >= int(cpu_us) and 0 <= int(runnable) <= int(served)
    assert status == "0"  # no answer begun (gunicorn answers the error itself after the hook)
    assert after == "0"  # nothing deferred
    *_, queued, served, runnable, status, after = second
    assert status == "201"
    assert 50_000 <= int(queued) < 5_000_000  # queued 50 ms before it began
    assert 20_000 <= int(served) < 5_000_000 and 0 <= int(runnable) <= int(served)
    # Each thread reads its own scheduler counts, from a file it opened once.
    counts: dict[str, int] = {}

    def in_a_thread() -> None:
        conf["pre_request"](None, Req())
        counts["fd"] = conf["_cpu_log"].schedstat
        conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, answer)

    other = threading.Thread(target=in_a_thread)
    other.start()
    other.join()
    assert counts["fd"] != conf["_cpu_log"].schedstat
    assert conf["_runnable_ns"]() >= 0 and len(log.read_text().splitlines()) == 3


def test_cpu_log_ends_a_request_with_its_answer_and_counts_its_deferred_work_apart(
    monkeypatch, tmp_path
):
    """A request that left work until its answer was sent (``kernel.after_response``): its
    CPU and its time to the answer stop when the answer is closed (its client has it); the
    work after is the line's last figure."""
    from kernel import after_response

    conf = load(monkeypatch, GUNICORN_CPU_LOG_DIR=str(tmp_path))
    monkeypatch.setattr(after_response, "_answered", [])
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)

    class Req:
        method = "GET"
        path = "/api/v1/offerings"

    def upkeep() -> None:
        sum(i * i for i in range(300_000))  # CPU on this thread, after the answer
        time.sleep(0.05)

    def app(environ, start_response):
        after_response.defer(upkeep)
        return [b"ok"]

    answer = type("Resp", (), {"status_code": 200})()
    for _ in range(2):  # the hook is registered once (post_worker_init, once per worker)
        conf["install_answered_hook"]()
    for _ in range(2):
        conf["pre_request"](None, Req())
        served = after_response.AfterResponse(app)({}, lambda *a: None)
        assert b"".join(served) == b"ok"
        served.close()
        conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, answer)
    assert after_response._answered == [conf["_answered"]]
    # A request that deferred nothing, after: nothing of the last one's is left over.
    conf["pre_request"](None, Req())
    conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, answer)
    (log,) = tmp_path.glob("cpu-*.log")
    lines = [line.split() for line in log.read_text().splitlines()]
    for line in lines[:2]:
        _, cpu_us, *_, served_us, runnable, status, after = line
        assert status == "200"
        assert int(after) >= 50_000  # the deferred work's time, sleep included
        assert int(served_us) < 50_000 and int(cpu_us) < 10_000  # without it
        assert 0 <= int(runnable) <= int(served_us)
    assert lines[2][-1] == "0" and int(lines[2][6]) < 50_000


def test_cpu_log_has_a_line_per_garbage_collection_taken_out_of_its_request(monkeypatch, tmp_path):
    import gc

    conf = load(monkeypatch, GUNICORN_CPU_LOG_DIR=str(tmp_path))

    class Req:
        method = "GET"
        path = "/api/v1/offerings"

    # Objects the full collection must walk (the suite freezes what it loaded, so a collection
    # of nothing else takes ~0.1 ms, less than the request's own work of opening its log file).
    walked = [[] for _ in range(300_000)]
    conf["install_gc_log"]()
    try:
        conf["pre_request"](None, Req())
        gc.collect()  # a full collection inside the request
        conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, None)
    finally:
        gc.callbacks[:] = [cb for cb in gc.callbacks if cb is not conf["_gc_logged"]]
        del walked
    (log,) = tmp_path.glob("cpu-*.log")
    lines = [line.split() for line in log.read_text().splitlines()]
    # The full collection asked for (a young one may also have run on its own meanwhile).
    collections = [line for line in lines if line[2] == "GC"]
    full = [line for line in collections if line[3:] == ["-", "gen2"]]
    assert full and all(int(line[1]) > 0 for line in full)
    (request,) = [line for line in lines if line[2] == "GET"]
    # The request's CPU is what it spent besides the collections, which have lines of their own.
    assert int(request[1]) < int(full[0][1])


def test_workers_by_cpus_and_threads(monkeypatch):
    conf = load(monkeypatch)
    # Threaded workers: CPUs + 1 (each computes two requests at once); at least 2.
    assert conf["default_workers"](2) == 3
    assert conf["default_workers"](8) == 9
    assert conf["default_workers"](1) == 2
    assert conf["default_workers"](0) == 2
    # Sync workers (one request each): gunicorn's 2 x CPUs + 1.
    assert conf["default_workers"](2, threads=1) == 5
    assert conf["default_workers"](1, threads=1) == 3


@pytest.mark.integration  # a whole Django process in a subprocess (~4 s)
def test_the_wsgi_module_does_a_workers_first_request_work_before_the_workers_fork():
    """gunicorn preloads saas_platform.wsgi in its master: the views, redis-py, every route's
    regular expression and the models' reverse relations come with it, so no worker spends its
    first request (with every thread of the worker waiting on the GIL) working them out."""
    import json
    import os
    import subprocess
    import sys

    views = ["portal_web.views", "portal_api.urls", "portal_console.urls", "tenants.views"]
    script = f"""
import json, sys
import saas_platform.wsgi
from django.apps import apps
from django.conf import settings
from django.urls import get_resolver
from redis import utils

def routes(resolver):
    for entry in resolver.url_patterns:
        yield entry.pattern
        if hasattr(entry, "url_patterns"):
            yield from routes(entry)

patterns = [p for conf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF)
            for p in routes(get_resolver(conf))]
print(json.dumps({{
    "views": [m for m in {views!r} if m in sys.modules],
    "redis": "django.core.cache.backends.redis" in sys.modules and "redis" in sys.modules,
    "lib_version_cached": utils.get_lib_version.cache_info().currsize,
    "routes": len(patterns),
    "routes_compiled": sum("regex" in vars(p) or bool(p._regex_dict) for p in patterns),
    "relations": all("_relation_tree" in vars(m._meta) for m in apps.get_models()),
}}))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings",
        "SECRET_KEY": "wsgi-test-" + "x" * 40,
        "PLATFORM_DOMAIN": "portals.example.com",
    }
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=CONF.parents[1],
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["views"] == views
    assert loaded["redis"] is True
    assert loaded["lib_version_cached"] == 1
    assert loaded["routes"] > 100
    assert loaded["routes_compiled"] == loaded["routes"]
    assert loaded["relations"] is True


def test_a_collection_inside_the_logs_own_write_does_not_wait_for_itself(monkeypatch, tmp_path):
    """A garbage collection may start while a thread holds the log's lock (the file's write
    allocates); its line then waits for the next request's instead of taking the lock again,
    which would hang the thread, and every thread of the worker behind it, for good."""
    conf = load(monkeypatch, GUNICORN_CPU_LOG_DIR=str(tmp_path))

    class Req:
        method = "GET"
        path = "/api/v1/offerings"

    def collection_inside_a_write() -> None:
        with conf["_cpu_lock"]:
            conf["_gc_logged"]("start", {"generation": 0})
            conf["_gc_logged"]("stop", {"generation": 0})
            conf["_gc_logged"]("start", {"generation": 1})
            conf["_gc_logged"]("stop", {"generation": 1})

    thread = threading.Thread(target=collection_inside_a_write, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "the collection's line waited for the lock its thread held"
    conf["pre_request"](None, Req())
    conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, None)
    (log,) = tmp_path.glob("cpu-*.log")
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [line[2:] for line in lines[:2]] == [["GC", "-", "gen0"], ["GC", "-", "gen1"]]
    assert lines[2][2:5] == ["GET", "alpha.example.test", "/api/v1/offerings"]


def test_cpu_log_reads_its_clocks_so_the_wall_clock_window_holds_the_others(monkeypatch, tmp_path):
    """The wall clock first and the thread's CPU clock last before a request, the other way
    round after it: the request's wall time then spans the time it ran and the time it waited
    for a core, so a line never says it waited or ran longer than it took."""
    import os

    conf = load(monkeypatch, GUNICORN_CPU_LOG_DIR=str(tmp_path))
    order: list[str] = []

    def recorded(name, real):
        def call(*args, **kwargs):
            order.append(name)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(time, "monotonic", recorded("wall", time.monotonic))
    monkeypatch.setattr(time, "thread_time", recorded("cpu", time.thread_time))
    monkeypatch.setattr(os, "pread", recorded("scheduler", os.pread))

    class Req:
        method = "GET"
        path = "/api/v1/offerings"

    conf["pre_request"](None, Req())
    before = [name for name in order if name in ("wall", "cpu", "scheduler")]
    order.clear()
    conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, None)
    after = [name for name in order if name in ("wall", "cpu", "scheduler")]
    assert before == ["wall", "scheduler", "cpu"]
    assert after == ["cpu", "scheduler", "wall"]
    # An answer that left work behind ends the request's figures the same way.
    conf["pre_request"](None, Req())
    order.clear()
    conf["_answered"]()
    answered = [name for name in order if name in ("wall", "cpu", "scheduler")]
    conf["post_request"](None, Req(), {"HTTP_HOST": "alpha.example.test"}, None)
    assert answered == ["cpu", "scheduler", "wall"]
