"""Registration-day rush: the Redis availability cache and per-process caches of routing,
settings and theme (issue 9). Admission control: tests/saas_platform/test_admission.py."""

import json
import logging
import time
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from kernel.after_response import AfterResponse
from kernel.process_cache import tenant_config
from portal.catalog import availability
from portal.catalog.availability import Availability, availability_for
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.config.services import portal_settings_update
from portal.enrollment import services
from portal.enrollment.models import Enrollment
from portal.orders import services as orders
from tests.helpers import assert_error, client_for
from tests.portal.enrollment_helpers import make_family, make_offering

pytestmark = pytest.mark.django_db

API = "/api/v1/offerings"


def _redis():
    return availability._redis()


def _dead_redis():
    # No retries: redis-py's default backoff would spend ~4 s on each refused connection.
    return redis.Redis(
        host="127.0.0.1",
        port=1,
        socket_connect_timeout=0.2,
        socket_timeout=0.2,
        retry=Retry(NoBackoff(), 0),
    )


# --- the availability cache ------------------------------------------------------------------


def _avail(response, name):
    assert response.status_code == 200, response.content
    return next(i["availability"] for i in response.json()["results"] if i["name"] == name)


def test_search_reads_availability_from_redis(in_tenant_a):
    offering = make_offering(name="Rings", capacity=4)
    client = client_for(in_tenant_a)
    reloads = availability.Stats.reloads
    assert _avail(client.get(API), "Rings") == {"status": "OPEN", "openings": 4, "waitlist": 0}
    assert availability.Stats.reloads == reloads + 1
    # Redis, not the row, is what search shows while the copy is fresh.
    key, _, _ = availability._keys(connection.schema_name)
    _redis().hset(key, str(offering.pk), Availability(4, 3, 0).encode())
    assert _avail(client.get(API), "Rings")["openings"] == 1
    assert availability.Stats.reloads == reloads + 1


def test_one_process_reloads_while_the_others_read_the_stale_copy(in_tenant_a):
    offering = make_offering(name="Pommel", capacity=6)
    key, fresh, lock = availability._keys(connection.schema_name)
    client = _redis()
    client.hset(key, str(offering.pk), Availability(6, 5, 2).encode())  # the stale copy
    client.delete(fresh)
    client.set(lock, "1", ex=5)  # another process is reloading
    reloads = availability.Stats.reloads
    assert availability_for([offering])[offering.pk] == Availability(6, 5, 2)
    assert availability.Stats.reloads == reloads  # served stale, did not reload
    client.delete(lock)  # the other process gave up (or its lock expired): this one reloads
    assert availability_for([offering])[offering.pk] == Availability(6, 0, 0)
    assert availability.Stats.reloads == reloads + 1
    assert client.exists(fresh) and not client.exists(lock)
    assert client.ttl(fresh) <= 5


def test_a_search_being_served_answers_from_the_stale_copy_and_reloads_once_answered(
    in_tenant_a, monkeypatch
):
    """In a request (``kernel.after_response``), the search that takes the reload's turn
    answers from the stale copy like the others and reloads once its answer is sent."""
    # The thread's connections are given back after the work, as at a request's end: not the
    # test's own, which holds its transaction.
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)
    offering = make_offering(name="Vault", capacity=6)
    key, fresh, lock = availability._keys(connection.schema_name)
    client = _redis()
    client.hset(key, str(offering.pk), Availability(6, 5, 2).encode())  # the stale copy
    client.delete(fresh, lock)
    reloads, deferred = availability.Stats.reloads, availability.Stats.reloads_deferred
    seen: list = []

    def app(environ, start_response):
        seen.append(availability.availability_by_ids([offering.pk])[offering.pk])
        seen.append((availability.Stats.reloads, client.exists(fresh), client.exists(lock)))
        return [b"ok"]

    answer = AfterResponse(app)({}, lambda *a: None)
    assert seen == [Availability(6, 5, 2), (reloads, 0, 1)]  # stale, its turn taken, not reloaded
    assert b"".join(answer) == b"ok"
    answer.close()
    assert availability.Stats.reloads == reloads + 1
    assert availability.Stats.reloads_deferred == deferred + 1
    assert client.exists(fresh) and not client.exists(lock)
    assert availability.availability_by_ids([offering.pk])[offering.pk] == Availability(6, 0, 0)
    assert connection.schema_name == in_tenant_a.schema_name


def test_search_does_not_lock_rows(in_tenant_a):
    make_offering(name="Trampoline")
    with CaptureQueriesContext(connection) as ctx:
        assert client_for(in_tenant_a).get(API).status_code == 200
    assert not [q for q in ctx.captured_queries if "FOR UPDATE" in q["sql"].upper()]


@pytest.mark.parametrize("change", ["hold", "release", "enroll", "capacity", "drop"])
def test_every_seat_change_refreshes_after_commit(
    family_a, change, django_capture_on_commit_callbacks
):
    offering = make_offering(name="Tumbling", capacity=3, tuition=0)
    assert availability_for([offering])[offering.pk].seats_taken == 0  # cached
    key, _, _ = availability._keys(connection.schema_name)
    family, student = family_a.family, family_a.student
    expected_taken, expected_capacity = 1, 3
    with django_capture_on_commit_callbacks(execute=True):
        if change == "hold":
            services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
        elif change == "release":
            hold = services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
            services.cart_remove(family=family, hold_id=hold.pk)
            expected_taken = 0
        elif change == "enroll":
            services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
            orders.checkout(family=family)
            assert Enrollment.objects.get(offering=offering).status == "active"
        elif change == "capacity":
            offering.capacity = 7
            offering.save()
            services.offering_seats_changed(offering_id=offering.pk)
            expected_taken, expected_capacity = 0, 7
        else:  # a drop taking effect
            services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
            orders.checkout(family=family)
            Enrollment.objects.filter(offering=offering).update(
                end_date=timezone.localdate() - timedelta(days=1)
            )
            services.settle_offerings([offering.pk])
            expected_taken = 0
    raw = _redis().hget(key, str(offering.pk))
    assert raw is not None, "rewritten after commit"
    cached = Availability.decode(raw)
    assert (cached.seats_taken, cached.capacity) == (expected_taken, expected_capacity)


def test_seat_change_drops_the_entry_before_commit(family_a):
    """Until the change commits, searches read the rows' counters (never a wrong cached one)."""
    offering = make_offering(name="Beam 2", capacity=3)
    availability_for([offering])
    key, _, _ = availability._keys(connection.schema_name)
    assert _redis().hget(key, str(offering.pk)) is not None
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    assert _redis().hget(key, str(offering.pk)) is None
    offering.refresh_from_db()
    assert availability_for([offering])[offering.pk].seats_taken == 1


def test_stale_cache_never_oversells(family_a):
    """The cache says a full class has openings; checkout re-checks under the row lock."""
    offering = make_offering(name="Last Seat", capacity=1)
    other, kid = make_family("other@alpha.test")
    services.cart_add(family=other, student_id=kid.pk, offering_id=offering.pk)
    orders.checkout(family=other)
    key, fresh, _ = availability._keys(connection.schema_name)
    _redis().hset(key, str(offering.pk), Availability(1, 0, 0).encode())
    _redis().set(fresh, "1", ex=60)
    shown = _avail(family_a.client().get(API), "Last Seat")
    assert shown["status"] == "OPEN"  # stale, as a cache may be for a few seconds
    response = family_a.client().post(
        "/api/v1/cart/items", {"offering": offering.pk, "student": family_a.student.pk}, "json"
    )
    assert_error(response, 409, "offering_full")
    offering.refresh_from_db()
    assert offering.seats_taken == 1
    assert Enrollment.objects.filter(offering=offering).count() == 1


def test_availability_falls_back_to_rows_when_redis_is_down(in_tenant_a, monkeypatch):
    offering = make_offering(name="Parallel", capacity=4)
    Offering.objects.filter(pk=offering.pk).update(seats_taken=1)
    monkeypatch.setattr(availability, "_redis", _dead_redis)
    assert _avail(client_for(in_tenant_a).get(API), "Parallel")["openings"] == 3
    # Seat changes still work without Redis.
    family, kid = make_family("nocache@alpha.test")
    services.cart_add(family=family, student_id=kid.pk, offering_id=offering.pk)


# --- per-process caches: a warm portal runs no lookup query ----------------------------------

LOOKUP_TABLES = ("tenants_tenant", "tenants_domain", "portal_config_portalsettings", "theming_")


def _lookups(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if any(t in q["sql"] for t in LOOKUP_TABLES)]


def test_warm_request_runs_no_tenant_settings_or_theme_query(in_tenant_a):
    client = client_for(in_tenant_a)
    assert client.get("/api/v1/portal").status_code == 200  # warms the process
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/portal")
        assert client.get(API).status_code == 200
    assert response.status_code == 200
    assert _lookups(ctx) == []


def test_search_queries_are_constant_and_warm(in_tenant_a):
    for i in range(3):
        make_offering(name=f"Few {i}")
    client = client_for(in_tenant_a)
    client.get(API)
    counts = []
    for extra in (0, 20):
        for i in range(extra):
            make_offering(name=f"More {i}")
        client.get(API)  # reload the availability copy for the new rows
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{API}?page_size=100")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
        assert _lookups(ctx) == []
    assert counts[0] == counts[1] <= 6, counts


def test_settings_change_reaches_the_cache_at_once(in_tenant_a):
    assert portal_settings_get().hold_timer_minutes == 15
    loads = tenant_config.loads
    portal_settings_get()
    assert tenant_config.loads == loads  # cached
    portal_settings_update(hold_timer_minutes=20)
    assert portal_settings_get().hold_timer_minutes == 20
    # Callers get their own copy: changing it does not change the cached settings.
    copy = portal_settings_get()
    copy.hold_timer_minutes = 99
    assert portal_settings_get().hold_timer_minutes == 20


def test_other_processes_see_a_change_through_the_redis_generation(in_tenant_a, monkeypatch):
    from kernel import process_cache

    assert portal_settings_get().show_levels is True
    # Another process changed the settings: it bumped the generation after its commit.
    from portal.config.models import PortalSettings

    PortalSettings.objects.update(show_levels=False)  # no signal: as seen from this process
    assert portal_settings_get().show_levels is True  # still the cached copy
    _redis().incr(process_cache._generation_key(connection.schema_name))
    monkeypatch.setattr(process_cache, "GENERATION_CHECK_SECONDS", 0.0)
    assert portal_settings_get().show_levels is False


def test_theme_is_cached_and_publishing_invalidates(in_tenant_a):
    from theming.services import brand_update, theme_current, theme_publish

    first = theme_current()
    with CaptureQueriesContext(connection) as ctx:
        assert theme_current().number == first.number
    assert ctx.captured_queries == []
    brand_update(primary="#1e40af")
    theme_publish()
    assert theme_current().number == first.number + 1


def test_uncommitted_reads_are_not_cached(in_tenant_a):
    from django.db import transaction

    from portal.config.models import PortalSettings

    tenant_config.clear()
    with transaction.atomic():
        PortalSettings.objects.update(show_levels=False)
        assert portal_settings_get().show_levels is False
        transaction.set_rollback(True)
    assert portal_settings_get().show_levels is True


# --- what the profile changed keeps the same output -------------------------------------------


def test_fast_search_serializer_and_batched_relations_match_the_generic_path(in_tenant_a):
    """OfferingOutput builds its rows without nested serializers, and search fetches levels and
    instructors in one query each: the documents are exactly what the declared fields and
    Django's prefetch_related give."""
    from django.db.models import Prefetch
    from rest_framework import serializers

    from portal.catalog.models import Level, StaffProfile
    from portal.catalog.outputs import OfferingOutput
    from portal.catalog.selectors import OfferingFilters, offering_search
    from tests.factories import LevelFactory, LocationFactory, ProgramFactory, StaffFactory

    gym = ProgramFactory(name="Gym")
    levels = [LevelFactory(program=gym, name=f"L{i}", position=i) for i in (2, 1, 3)]
    shared = LevelFactory(program=None, name="Any", position=9)
    coaches = [StaffFactory(display_name=n) for n in ("Zed", "Amy")]
    StaffFactory(display_name="Gone", is_active=False)
    make_offering(name="A", program=gym, location=LocationFactory(name="Hall"), levels=levels)
    make_offering(name="B", program=gym, levels=[shared, levels[1]], instructors=coaches)
    make_offering(name="C", program=gym)
    inactive = StaffProfile.objects.get(display_name="Gone")
    Offering.objects.get(name="C").instructors.add(inactive, coaches[0])
    portal = portal_settings_get()
    context = {"portal": portal, "currency": "USD"}
    fast = offering_search(filters=OfferingFilters(), visible_kinds=portal.shown_kinds())
    generic = (
        Offering.objects.filter(pk__in=[o.pk for o in fast])
        .select_related("program", "location", "term")
        .prefetch_related(
            Prefetch(
                "levels", queryset=Level.objects.select_related("program").order_by("position")
            ),
            Prefetch("instructors", queryset=StaffProfile.objects.filter(is_active=True)),
        )
        .order_by("start_date", "start_time", "name", "pk")
    )
    serializer = OfferingOutput(context=context)
    slow_docs = [serializers.Serializer.to_representation(serializer, o) for o in generic]
    fast_docs = OfferingOutput(list(fast), many=True, context=context).data
    assert [dict(d) for d in fast_docs] == [dict(d) for d in slow_docs]
    by_name = {o.name: o for o in fast}
    assert [lv.name for lv in by_name["A"].levels.all()] == ["L1", "L2", "L3"]
    assert [s.display_name for s in by_name["C"].instructors.all()] == ["Zed"]
    # Reading the batched rows costs nothing; filtering them queries the relation afresh.
    with CaptureQueriesContext(connection) as ctx:
        assert by_name["B"].levels.count() == 2
    assert ctx.captured_queries == []
    assert list(by_name["A"].levels.filter(position=2)) == [levels[0]]


# --- search pages from Redis -----------------------------------------------------------------


def test_a_warm_search_runs_no_sql_and_shows_current_seats(family_a):
    from portal.catalog import search_cache

    offering = make_offering(name="Cached Class", capacity=4)
    client = client_for(family_a.tenant)
    first = client.get(API)
    assert _avail(first, "Cached Class")["openings"] == 4
    with CaptureQueriesContext(connection) as ctx:
        again = client.get(API)
    assert again.json() == first.json()
    assert again.content == first.content  # the kept bytes, byte for byte the built answer
    assert again["Content-Type"] == "application/json"
    assert ctx.captured_queries == []
    hits = search_cache.Stats.hits
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    # The page is still cached; its seats come from the availability cache (or the row).
    assert _avail(client.get(API), "Cached Class")["openings"] == 3
    assert search_cache.Stats.hits == hits + 1


def test_catalog_changes_retire_cached_pages(in_tenant_a):
    from tests.factories import LevelFactory, ProgramFactory

    program = ProgramFactory(name="Gym")
    level = LevelFactory(program=program, name="Bronze", position=1)
    offering = make_offering(name="Old Name", program=program, levels=[level])
    client = client_for(in_tenant_a)
    assert [i["name"] for i in client.get(API).json()["results"]] == ["Old Name"]
    offering.name = "New Name"
    offering.save()
    make_offering(name="Another", program=program)
    body = client.get(API).json()
    assert sorted(i["name"] for i in body["results"]) == ["Another", "New Name"]
    level.name = "Silver"
    level.save()
    levels = next(i["levels"] for i in client.get(API).json()["results"] if i["name"] == "New Name")
    assert [lv["name"] for lv in levels] == ["Silver"]
    offering.levels.clear()
    levels = next(i["levels"] for i in client.get(API).json()["results"] if i["name"] == "New Name")
    assert levels == []
    portal_settings_update(show_classes=False)
    assert client.get(API).json()["results"] == []


def test_a_warm_search_reads_its_page_the_generation_and_its_seats_in_one_round_trip(
    in_tenant_a, monkeypatch
):
    """The page, what it was built with, the tenant's catalog generation and the page's
    availability come in one pipeline (the process knows the page's offerings from building
    it); a page built under an older generation (another process changed the catalog) is
    built again, and kept at the same key."""
    from portal.catalog import search_cache

    make_offering(name="One Trip")
    client = client_for(in_tenant_a)
    built = client.get(API)
    real = search_cache._redis
    calls: list[str] = []

    class Counting:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            calls.append(name)
            found = getattr(self._inner, name)
            return (lambda *a, **k: Counting(found(*a, **k))) if name == "pipeline" else found

    for module in (search_cache, availability):
        monkeypatch.setattr(module, "_redis", lambda: Counting(real()))
    hits, misses = search_cache.Stats.hits, search_cache.Stats.misses
    seat_hits = availability.Stats.hits
    assert client.get(API).content == built.content
    assert calls == ["pipeline", "mget", "hmget", "exists", "execute"], calls
    assert search_cache.Stats.hits == hits + 1 and availability.Stats.hits == seat_hits + 1
    calls.clear()
    keys = set(real().keys(f"{search_cache._prefix(connection.schema_name)}:page:*"))
    # Another process bumps the generation: the kept page is not used, and is replaced.
    real().incr(f"{search_cache._prefix(connection.schema_name)}:generation")
    assert client.get(API).content == built.content
    assert search_cache.Stats.misses == misses + 1
    assert set(real().keys(f"{search_cache._prefix(connection.schema_name)}:page:*")) == keys
    assert client.get(API).content == built.content
    assert search_cache.Stats.hits == hits + 2


def test_availability_documents_render_as_json_does_and_never_mix_types():
    from portal.catalog.search_cache import _availability_bytes, render_json

    for doc in (
        {"status": "OPEN", "openings": 3, "waitlist": 0},
        {"status": "FULL", "openings": None, "waitlist": 2},
        {"flag": True},
        {"flag": 1},
        {"flag": 1.0},
        {"list": [1, 2]},
        None,
    ):
        for _ in range(2):  # rendered, then from the memo
            assert _availability_bytes(doc) == b'"availability":' + render_json(doc), doc


def test_searches_on_openings_are_never_served_from_the_page_cache(family_a):
    offering = make_offering(name="Almost Full", capacity=1)
    client = client_for(family_a.tenant)
    assert [i["name"] for i in client.get(f"{API}?has_openings=true").json()["results"]] == [
        "Almost Full"
    ]
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    assert client.get(f"{API}?has_openings=true").json()["results"] == []


def test_search_pages_without_redis(in_tenant_a, monkeypatch):
    from portal.catalog import search_cache

    make_offering(name="No Redis")
    for module in (availability, search_cache):
        monkeypatch.setattr(module, "_redis", _dead_redis)
    client = client_for(in_tenant_a)
    for _ in range(2):
        assert _avail(client.get(API), "No Redis")["openings"] == 3


def test_cached_page_bytes_splice_availability_and_ignore_lookalike_content(family_a):
    """A warm page is the kept bytes with today's availability spliced in; text that looks like
    the placeholder inside a name or description is content, never a slot."""
    from portal.catalog import search_cache

    trick = '"availability":"@@av:1@@" \u2028'
    offering = make_offering(name=trick, capacity=2)
    client = client_for(family_a.tenant)
    built = client.get(API)
    warm = client.get(API)
    assert warm.content == built.content
    row = next(r for r in warm.json()["results"] if r["id"] == offering.pk)
    assert row["name"] == trick and row["availability"]["openings"] == 2
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    spliced = client.get(API).json()
    row = next(r for r in spliced["results"] if r["id"] == offering.pk)
    assert row["name"] == trick and row["availability"]["openings"] == 1
    page = search_cache.page_template({"count": 1, "results": [{"id": 7, "availability": None}]})
    assert page.render({}) == b'{"count":1,"results":[{"id":7,"availability":null}]}'
    assert page.render({7: {"status": "FULL"}}) == (
        b'{"count":1,"results":[{"id":7,"availability":{"status":"FULL"}}]}'
    )


def test_a_page_whose_offerings_the_process_remembers_wrongly_reads_its_own_seats(family_a):
    """The offerings remembered for a page only say what to read in the page's round trip:
    a page whose offerings are not those (another process rebuilt it meanwhile) reads its own
    offerings' availability as before, and the process remembers them from then on."""
    from portal.catalog import search_cache

    offering = make_offering(name="Hinted", capacity=4)
    client = client_for(family_a.tenant)
    assert _avail(client.get(API), "Hinted")["openings"] == 4
    (key,) = [k for k, ids in search_cache._page_ids.items() if offering.pk in ids]
    remembered = search_cache._page_ids[key]
    search_cache._page_ids[key] = [offering.pk + 1000]
    services.cart_add(
        family=family_a.family, student_id=family_a.student.pk, offering_id=offering.pk
    )
    hits = search_cache.Stats.hits
    assert _avail(client.get(API), "Hinted")["openings"] == 3
    assert search_cache.Stats.hits == hits + 1  # the kept page, with its own offerings' seats
    assert search_cache._page_ids[key] == remembered


# --- search pages built again before they expire ---------------------------------------------


def _serve(host: str, path: str = API, **headers):
    """A GET through the production WSGI application (``saas_platform.wsgi``, with
    ``kernel.after_response``): its status, its body, and the answer, not yet closed."""
    from saas_platform.warmup import warm_up_environ
    from saas_platform.wsgi import application

    path, _, query = path.partition("?")
    environ = warm_up_environ(host, path) | {"QUERY_STRING": query} | headers
    statuses: list[str] = []
    answer = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    return statuses[0], b"".join(answer), answer


def _kept_page():
    """The search page kept for the current tenant under its current catalog generation
    (earlier tests' pages are of older ones): its key and what it was built with."""
    from portal.catalog import search_cache

    prefix = search_cache._prefix(connection.schema_name)
    generation = (_redis().get(f"{prefix}:generation") or b"0").decode()
    kept = {}
    for raw in _redis().keys(f"{prefix}:page:*:built"):
        built = json.loads(_redis().get(raw) or "{}")
        if built.get("g") == generation:
            kept[raw.decode().removesuffix(":built")] = built
    ((key, built),) = kept.items()
    return key, built


def _age_kept_page(seconds: float) -> tuple[str, dict]:
    key, built = _kept_page()
    built["t"] -= seconds
    _redis().set(f"{key}:built", json.dumps(built), keepttl=True)
    return key, built


def _names(body: bytes) -> list[str]:
    return [item["name"] for item in json.loads(body)["results"]]


def test_a_page_near_its_end_is_built_again_after_the_answer_of_the_search_that_read_it(
    in_tenant_a, in_test_transaction
):
    """The first search served through ``kernel.after_response`` that reads a page in its last
    ``REFRESH_WITHIN_SECONDS`` answers from it and builds it again once its answer is closed:
    a page searched often is never built while a family waits, and a change the catalog's
    signals did not see (a bulk ``update()``) still shows within the page's minute."""
    from portal.catalog import search_cache

    offering = make_offering(name="Beam")
    host = in_tenant_a.primary_host
    status, built, answer = _serve(host)
    answer.close()
    assert status.startswith("200") and _names(built) == ["Beam"]
    key, before = _age_kept_page(
        search_cache.PAGE_TTL_SECONDS - search_cache.REFRESH_WITHIN_SECONDS
    )
    Offering.objects.filter(pk=offering.pk).update(name="Balance beam")
    refreshes, hits = search_cache.Stats.refreshes, search_cache.Stats.hits

    status, body, answer = _serve(host)
    assert status.startswith("200") and body == built  # answered from the kept page
    assert search_cache.Stats.hits == hits + 1
    assert search_cache.Stats.refreshes == refreshes + 1
    assert _kept_page()[1]["t"] == before["t"]  # not built again yet
    answer.close()
    _, after = _kept_page()
    assert after["t"] >= before["t"] + search_cache.PAGE_TTL_SECONDS - 15
    assert _redis().ttl(key) > search_cache.PAGE_TTL_SECONDS - 5

    _, body, answer = _serve(host)
    answer.close()
    assert _names(body) == ["Balance beam"]
    assert search_cache.Stats.refreshes == refreshes + 1  # a young page: no second turn
    # Byte for byte the page a search builds from nothing.
    _redis().delete(key, f"{key}:built")
    misses = search_cache.Stats.misses
    _, fresh, answer = _serve(host)
    answer.close()
    assert search_cache.Stats.misses == misses + 1
    assert fresh == body
    assert connection.schema_name == in_tenant_a.schema_name


def test_a_page_is_built_again_in_its_searchs_business_zone_and_language(
    in_tenant_a, in_test_transaction, monkeypatch
):
    """The rebuild runs after the request has ended (its tenant, zone and language no longer
    active in the thread): it builds in the ones the search ran in."""
    from django.utils import timezone as tz
    from django.utils import translation

    from portal.catalog import search_cache
    from portal_api.views.catalog import OfferingListApi
    from tenants import routing

    type(in_tenant_a).objects.filter(pk=in_tenant_a.pk).update(timezone="Asia/Tokyo")
    routing.router.clear()
    make_offering(name="Rings")
    host = in_tenant_a.primary_host
    _serve(host)[2].close()
    _age_kept_page(search_cache.PAGE_TTL_SECONDS)
    seen: list = []
    build = OfferingListApi._build

    def recording(self, request, filters, slot):
        seen.append(
            (connection.schema_name, str(tz.get_current_timezone()), translation.get_language())
        )
        return build(self, request, filters, slot)

    monkeypatch.setattr(OfferingListApi, "_build", recording)
    answer = _serve(host, HTTP_ACCEPT_LANGUAGE="es")[2]
    assert seen == []
    connection.set_schema_to_public()
    with tz.override("UTC"), translation.override("en"):
        answer.close()
    assert seen == [(in_tenant_a.schema_name, "Asia/Tokyo", "es")]
    assert connection.schema_name == "public"  # the thread's own, as it was left


def test_one_search_takes_a_pages_refresh_turn(in_tenant_a, in_test_transaction):
    """Of the searches that read a page near its end, one builds it again: this process tries
    once (no second Redis call), and another process finds the turn taken."""
    from portal.catalog import search_cache

    make_offering(name="Floor")
    host = in_tenant_a.primary_host
    _serve(host)[2].close()
    key, _ = _age_kept_page(search_cache.PAGE_TTL_SECONDS - 1)
    refreshes = search_cache.Stats.refreshes
    first = _serve(host)[2]
    second = _serve(host)[2]  # the same process, before the first has answered
    search_cache._refresh_tried.clear()  # as another process
    third = _serve(host)[2]
    assert search_cache.Stats.refreshes == refreshes + 1
    assert 0 < _redis().ttl(f"{key}:refresh") <= search_cache.REFRESH_TURN_SECONDS
    for answer in (second, third):
        answer.close()
    assert _kept_page()[1]["t"] < time.time() - 30  # only the turn's taker builds it
    first.close()
    assert _kept_page()[1]["t"] > time.time() - 5


def test_a_search_outside_a_served_request_takes_no_refresh_turn(in_tenant_a):
    """Django's test client (or a task calling the view) does not go through
    ``kernel.after_response``: a rebuild would be its own wait, so the page expires as before."""
    from portal.catalog import search_cache

    make_offering(name="Vault")
    client = client_for(in_tenant_a)
    built = client.get(API).content
    key, before = _age_kept_page(search_cache.PAGE_TTL_SECONDS - 1)
    refreshes = search_cache.Stats.refreshes
    assert client.get(API).content == built
    assert search_cache.Stats.refreshes == refreshes
    assert not _redis().exists(f"{key}:refresh")
    assert _kept_page()[1]["t"] == before["t"]


def test_a_page_past_the_end_now_is_left_to_expire(in_tenant_a, in_test_transaction, caplog):
    """A page number that no longer exists when the page is built again (offerings gone by a
    bulk update, which retires no page) is not an error: the kept page expires as before."""
    from portal.catalog import search_cache

    make_offering(name="Bars")
    gone = make_offering(name="Trampoline")
    host = in_tenant_a.primary_host
    path = f"{API}?page=2&page_size=1"
    status, built, answer = _serve(host, path)
    answer.close()
    assert status.startswith("200") and len(_names(built)) == 1
    _, before = _age_kept_page(search_cache.PAGE_TTL_SECONDS - 1)
    Offering.objects.filter(pk=gone.pk).update(status=Offering.Status.DRAFT)
    with caplog.at_level(logging.WARNING):
        status, body, answer = _serve(host, path)
        answer.close()
    assert status.startswith("200") and body == built
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert _kept_page()[1]["t"] == before["t"]
