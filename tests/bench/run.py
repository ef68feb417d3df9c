"""Benchmarks for the foundation (`make bench`). Prints figures as ratios measured in one run;
never asserts on time. Uses its own database, created and dropped here.

1. Provisioning: a tenant schema by running every migration vs. by cloning the template
   (schema only, and the whole tenant_provision service). Target: >= 10x, clone < 1 s.
2. Routing: a warm request to a tenant's portal with 1 tenant vs. with 1,000 tenants in the
   table, and a cold host lookup in each. Target: ratio <= 1.1.
3. Checkout: hold a seat and check out (a free order, confirmed at once), from several worker
   processes at once, all on one offering (every checkout waits for the same row lock) vs.
   each on its own offering. Checkouts per second, and the ratio.
4. Load (tests/bench/load.py): gunicorn with saas_platform/gunicorn_conf.py and wrk on
   127.0.0.1: class search on 1,000 offerings vs. a trivial DRF endpoint, a registration-day
   rush at 10x the search limit, 200 families racing for 20 seats, and routing with 1 vs.
   1,000 tenants over HTTP.
5. The registration opening (tests/bench/opening.py): 3,000 families arrive within 10 s of an
   opening for 300 seats in 20 classes while a second business has ordinary traffic
   (``BENCH_OPENING_SCALE=0.1`` for a quick run).

6. Lighthouse (tests/bench/lighthouse.py): the family pages in Lighthouse's mobile preset,
   served by gunicorn with DEBUG off (targets: every category >= 95).

``BENCH_ONLY`` (comma-separated: provisioning, routing, checkout, load, opening, migrations,
backup, lighthouse) runs a subset.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("PLATFORM_DOMAIN", "bench.local")
# Tasks are queued in memory and never run: the benchmark times the request path, as a web
# worker would run it with Celery on another machine.
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["CACHE_KEY_PREFIX"] = f"bench-{os.getpid()}"

BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "saas_platform_bench")


def _bench_database_url() -> str:
    from saas_platform import devservices

    url = devservices.database_url()
    base, _, _ = url.rpartition("/")
    return f"{base}/{BENCH_DB}"


def _progress(label: str, i: int, n: int) -> None:
    width = 30
    done = int(width * (i + 1) / n)
    sys.stderr.write(f"\r  {label:<34} [{'#' * done}{'.' * (width - done)}] {i + 1}/{n}")
    if i + 1 == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _recreate_database(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def bench_provisioning(runs: int) -> dict[str, float]:
    from django.db import connection

    from tenants import schema_pool
    from tenants.schema_clone import schema_clone, schema_migrate
    from tenants.services import tenant_provision

    # The refill after a claim is a Celery task in production; here it would run inline
    # (eager) inside the timed call, so the pool is filled explicitly between runs instead.
    schema_pool._enqueue_refill = lambda: None

    times: dict[str, list[float]] = {
        "migrate": [],
        "clone": [],
        "claim": [],
        "provision_pool": [],
        "provision_clone": [],
    }

    def timed(key, fn, **kwargs):
        started = time.perf_counter()
        fn(**kwargs)
        times[key].append(time.perf_counter() - started)
        connection.set_schema_to_public()

    # migrate_schemas closes the connection after each schema; the other paths run in a
    # worker whose connection stays open, so they are timed in their own loop after one
    # untimed warm-up clone.
    for i in range(runs):
        timed("migrate", schema_migrate, schema_name=f"bench_migrated_{i}")
        _progress("provisioning: migrations", i, runs)
    schema_clone(schema_name="bench_warmup")
    for i in range(runs):
        timed("clone", schema_clone, schema_name=f"bench_cloned_{i}")
        schema_pool.pool_fill(size=1)
        timed("claim", schema_pool.schema_create, schema_name=f"bench_claimed_{i}")
        schema_pool.pool_fill(size=1)
        timed(
            "provision_pool",
            tenant_provision,
            slug=f"bench-{i}",
            name=f"Bench {i}",
            owner_email=f"o{i}@bench.test",
        )
        schema_pool.pool_drain()
        timed(
            "provision_clone",
            tenant_provision,
            slug=f"bench-clone-{i}",
            name=f"Bench clone {i}",
            owner_email=f"o{i}@bench.test",
        )
        _progress("provisioning: clone, pool, service", i, runs)
    return {key: statistics.median(values) for key, values in times.items()}


def _time_routing(host: str, n: int) -> float:
    """The routing middleware alone (host -> tenant -> schema and URL map), warm."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from tenants.routing import TenantRoutingMiddleware

    middleware = TenantRoutingMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/", HTTP_HOST=host)
    middleware(request)
    started = time.perf_counter()
    for _ in range(n):
        middleware(request)
    return (time.perf_counter() - started) / n


def _time_requests(client, host: str, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        response = client.get("/", HTTP_HOST=host, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{host} answered {response.status_code}")
    return (time.perf_counter() - started) / n


def _time_cold_lookups(hosts: list[str]) -> float:
    """A host seen for the first time by a process: one indexed query per lookup."""
    from tenants.routing import HostRouter

    router = HostRouter()
    started = time.perf_counter()
    for host in hosts:
        router.clear()
        router.resolve(host)
    elapsed = time.perf_counter() - started
    assert router.lookups == len(hosts)
    return elapsed / len(hosts)


def bench_routing(requests: int, rounds: int) -> dict[str, float]:
    """Alternate rounds with 1 routable tenant and with 1,000 so drift hits both alike."""
    from django.test import Client

    from tenants import routing
    from tenants.models import Domain, Tenant

    client = Client()
    host = Tenant.objects.get(schema_name="bench-0").primary_host
    same_host = [host] * 200
    Tenant.objects.exclude(schema_name="bench-0").delete()

    def add_fillers() -> None:
        fillers = Tenant.objects.bulk_create(
            Tenant(
                schema_name=f"filler-{i}",
                name=f"Filler {i}",
                owner_email="o@filler.test",
                contact_email="o@filler.test",
                status=Tenant.Status.ACTIVE,
            )
            for i in range(999)
        )
        Domain.objects.bulk_create(
            Domain(domain=f"{t.schema_name}.bench.local", tenant=t, is_primary=True)
            for t in fillers
        )

    def remove_fillers() -> None:
        Domain.objects.filter(tenant__schema_name__startswith="filler-").delete()
        Tenant.objects.filter(schema_name__startswith="filler-").delete()

    results: dict[str, list[float]] = {
        f"{size}_{kind}" for size in ("few", "many") for kind in ("route", "warm", "cold")
    }
    results = {key: [] for key in results}
    counts = {}
    for r in range(rounds):
        for label, prepare in (("few", remove_fillers), ("many", add_fillers)):
            prepare()
            counts[label] = Tenant.objects.count()
            routing.router.clear()
            gc.collect()
            client.get("/", HTTP_HOST=host, secure=True)  # warm the cache and the connection
            results[f"{label}_route"].append(_time_routing(host, requests * 20))
            results[f"{label}_warm"].append(_time_requests(client, host, requests))
            results[f"{label}_cold"].append(_time_cold_lookups(same_host))
        _progress("routing (1 vs 1,000 tenants)", r, rounds)
    # Medians, except the middleware alone: tens of microseconds, where the minimum of the
    # rounds is the usual estimate of cost without scheduler and GC noise (as timeit does).
    out = {key: statistics.median(values) for key, values in results.items()}
    out["few_route"], out["many_route"] = min(results["few_route"]), min(results["many_route"])
    out["tenants_few"], out["tenants_many"] = counts["few"], counts["many"]
    return out


def bench_checkout(threads: int, per_thread: int) -> dict[str, float]:
    from datetime import date, timedelta
    from datetime import time as clock

    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.accounts.models import Family, Student
    from portal.catalog.models import Offering, Program
    from portal.enrollment import services
    from portal.enrollment.models import Enrollment
    from portal.orders import services as orders
    from tenants.services import tenant_provision

    tenant = tenant_provision(
        slug="bench-checkout", name="Checkout Bench", owner_email="o@bench.test"
    ).tenant
    total = threads * per_thread
    with tenant_context(tenant):
        program = Program.objects.create(name="Bench")
        start = timezone.localdate() + timedelta(days=10)

        def offering(name, capacity):
            return Offering.objects.create(
                name=name,
                program=program,
                capacity=capacity,
                start_date=start,
                end_date=start + timedelta(weeks=8),
                start_time=clock(16),
                end_time=clock(17),
                weekdays=[start.weekday()],
                tuition=0,
            )

        contended = offering("Contended", 2 * total)
        spread = [offering(f"Spread {i}", 10) for i in range(2 * total)]
        families = []
        for i in range(2 * total):
            family = Family.objects.create(name=f"Bench {i}")
            families.append(
                (
                    family,
                    Student.objects.create(
                        family=family,
                        first_name=f"K{i}",
                        last_name="B",
                        date_of_birth=date(2016, 1, 1),
                    ),
                )
            )

    def run(label: str, jobs: list[tuple[int, int, int]]) -> float:
        """``jobs``: (family id, student id, offering id) per checkout, split across worker
        processes (as gunicorn workers would be), released together."""
        import multiprocessing

        from django.db import connections

        connections.close_all()  # children must not share the parent's socket
        chunks = [jobs[i::threads] for i in range(threads)]
        ctx = multiprocessing.get_context("fork")
        start_gate = ctx.Barrier(threads + 1)
        errors = ctx.Queue()

        def worker(chunk) -> None:
            try:
                connection.set_tenant(tenant)
                start_gate.wait()
                for family_id, student_id, offering_id in chunk:
                    family = Family.objects.get(pk=family_id)
                    services.cart_add(family=family, student_id=student_id, offering_id=offering_id)
                    orders.checkout(family=family)
            except Exception as exc:
                errors.put(repr(exc))
            finally:
                connections.close_all()

        procs = [ctx.Process(target=worker, args=(chunk,)) for chunk in chunks]
        for proc in procs:
            proc.start()
        start_gate.wait()
        started = time.perf_counter()
        for proc in procs:
            proc.join()
        elapsed = time.perf_counter() - started
        if not errors.empty():
            raise RuntimeError(f"{label}: {errors.get()}")
        _progress(f"checkout: {label}", 0, 1)
        return len(jobs) / elapsed

    contended_rate = run(
        "one offering", [(f.pk, st.pk, contended.pk) for f, st in families[:total]]
    )
    spread_rate = run(
        "many offerings",
        [(f.pk, st.pk, spread[i].pk) for i, (f, st) in enumerate(families[total:])],
    )
    connection.set_tenant(tenant)
    with tenant_context(tenant):
        enrolled = Enrollment.objects.filter(status="active").count()
    if enrolled != 2 * total:
        raise RuntimeError(f"expected {2 * total} enrollments, found {enrolled}")
    return {
        "threads": threads,
        "checkouts": total,
        "contended": contended_rate,
        "spread": spread_rate,
    }


def main() -> None:
    url = _bench_database_url()
    os.environ["DATABASE_URL"] = url
    _recreate_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    from tenants.schema_clone import template_refresh

    print("Setting up the benchmark database…", file=sys.stderr)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    tables = len(template_refresh().ddl.split("CREATE TABLE")) - 1  # the captured DDL

    only = {part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()}
    wanted = only or {
        "provisioning",
        "routing",
        "checkout",
        "load",
        "opening",
        "migrations",
        "backup",
        "lighthouse",
    }
    if "routing" in wanted:
        wanted.add("provisioning")  # routing measures the tenants provisioning made
    runs = int(os.environ.get("BENCH_PROVISION_RUNS", "7"))
    prov = bench_provisioning(runs) if "provisioning" in wanted else None
    routing = (
        bench_routing(
            requests=int(os.environ.get("BENCH_ROUTING_REQUESTS", "300")),
            rounds=int(os.environ.get("BENCH_ROUTING_ROUNDS", "7")),
        )
        if "routing" in wanted
        else None
    )
    connection.set_schema_to_public()
    checkout = (
        bench_checkout(
            threads=int(os.environ.get("BENCH_CHECKOUT_THREADS", "8")),
            per_thread=int(os.environ.get("BENCH_CHECKOUT_PER_THREAD", "25")),
        )
        if "checkout" in wanted
        else None
    )
    connection.set_schema_to_public()
    load_figures = None
    if "load" in wanted:
        import load

        load_figures = load.run_all()
    connection.set_schema_to_public()
    opening_figures = None
    if "opening" in wanted:
        import opening

        opening_figures = opening.run()
    connection.close()
    if prov is not None:
        _report_provisioning(prov, runs, tables)
    if routing is not None:
        _report_routing(routing)
    if checkout is not None:
        _report_checkout(checkout)
    if load_figures is not None:
        load.report(load_figures)
    if opening_figures is not None:
        opening.report(opening_figures)
    _drop(url)
    # Deploy migrations (500 tenants), per-tenant backups and Lighthouse: own processes and
    # databases.
    for name in ("migrations", "backup", "lighthouse"):
        if name in wanted:
            import subprocess

            script = Path(__file__).with_name(f"{name}.py")
            subprocess.run([sys.executable, str(script)], check=True)


def _report_provisioning(prov: dict, runs: int, tables: int) -> None:

    m = prov["migrate"]
    print()
    print(f"Provisioning ({tables} tables in a tenant schema, median of {runs} runs)")
    rows = [
        ("migrate a new schema (baseline)", m, None),
        ("clone the template inline", prov["clone"], "schema only"),
        ("claim a pre-cloned spare", prov["claim"], "schema only"),
        ("tenant_provision, spare ready", prov["provision_pool"], "whole service"),
        ("tenant_provision, pool empty", prov["provision_clone"], "whole service"),
    ]
    for label, value, note in rows:
        ratio = "" if note is None else f"   {m / value:6.1f}x faster  ({note})"
        print(f"  {label:<34} {value * 1000:8.1f} ms{ratio}")
    print("  targets: >= 10x faster than migrating, under 1 s per tenant")


def _report_routing(routing: dict) -> None:
    print()
    print(
        f"Routing (median per request; {routing['tenants_few']} vs "
        f"{routing['tenants_many']} tenants, rounds alternated)"
    )
    few_r, many_r = routing["few_route"], routing["many_route"]
    print(f"  routing middleware, 1 tenant            {few_r * 1e6:8.1f} us")
    print(
        f"  routing middleware, 1,000 tenants       {many_r * 1e6:8.1f} us"
        f"   ratio {many_r / few_r:.2f}  (target <= 1.1)"
    )
    few_w, many_w = routing["few_warm"], routing["many_warm"]
    few_c, many_c = routing["few_cold"], routing["many_cold"]
    print(f"  warm request to a portal, 1 tenant      {few_w * 1e6:8.0f} us")
    print(
        f"  warm request to a portal, 1,000 tenants {many_w * 1e6:8.0f} us"
        f"   ratio {many_w / few_w:.2f}"
    )
    print(f"  cold host lookup, 1 tenant              {few_c * 1e6:8.0f} us")
    print(
        f"  cold host lookup, 1,000 tenants         {many_c * 1e6:8.0f} us"
        f"   ratio {many_c / few_c:.2f}"
    )


def _report_checkout(checkout: dict) -> None:
    print()
    print(
        f"Checkout (hold + checkout + confirm, {checkout['threads']} processes, "
        f"{checkout['checkouts']} checkouts each run)"
    )
    print(f"  all on one offering (one row lock)      {checkout['contended']:8.1f} checkouts/s")
    print(
        f"  each on its own offering                {checkout['spread']:8.1f} checkouts/s"
        f"   ratio {checkout['spread'] / checkout['contended']:.2f}"
    )


def _drop(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"], "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
