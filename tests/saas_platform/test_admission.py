"""Admission control (saas_platform.admission): CoDel's overload test on the server's own
queueing delay, the per-tenant fair share only when overloaded, the floor, what is never shed,
and the answers (the branded waiting room on the web, 429 + Retry-After + ``server_busy`` on the
API)."""

from __future__ import annotations

import runpy
import time
from pathlib import Path

import pytest
import redis
from django.core import signing
from django.db import connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from portal.catalog import waiting_room
from portal.config.services import portal_settings_update
from saas_platform import admission
from saas_platform.admission import Controller, controller
from tests.helpers import client_for, web_client
from tests.portal.enrollment_helpers import make_offering

pytestmark = pytest.mark.django_db
API = "/api/v1/offerings"


@pytest.fixture(autouse=True)
def _long_interval(monkeypatch):
    """Requests through the test client may take seconds on a busy machine: an interval long
    enough that the state a test sets up does not roll over (and go idle) mid-test."""
    monkeypatch.setattr(controller, "interval", 30.0)


def _overload() -> None:
    """A standing queue: every sample over the target for more than an interval."""
    start = time.monotonic()
    controller.observe(1.0, now=start)
    controller.observe(1.0, now=start + controller.interval + 0.001)
    assert controller.is_overloaded(now=start + controller.interval + 0.002)


def _send(tenant, n: int, path: str = API) -> list[int]:
    client = client_for(tenant)
    codes = []
    for _ in range(n):
        codes.append(client.get(path).status_code)
        connection.set_schema_to_public()
    return codes


# --- the controller ----------------------------------------------------------------------


def test_a_burst_that_drains_within_the_interval_is_not_overload():
    c = Controller(target=0.05, interval=0.5)
    c.observe(0.15, now=100.0)  # one long wait, under 4x the target
    c.observe(0.001, now=100.2)  # the queue drained: the interval's minimum is small
    assert not c.is_overloaded(now=100.6)


def test_a_standing_queue_is_overload_until_an_interval_is_back_under_target():
    c = Controller(target=0.05, interval=0.5)
    c.observe(0.08, now=100.0)
    c.observe(0.09, now=100.3)
    assert not c.is_overloaded(now=100.4)  # not yet a whole interval
    c.observe(0.07, now=100.51)
    assert c.is_overloaded(now=100.52)  # the first interval's minimum was 0.08 > 0.05
    c.observe(0.01, now=100.7)
    assert c.is_overloaded(now=100.9)
    assert not c.is_overloaded(now=101.05)  # this interval's minimum, 0.01, is under target


def test_a_queue_of_four_targets_is_overload_at_once_and_idle_ends_it():
    c = Controller(target=0.05, interval=0.5)
    c.observe(0.3, now=10.0)
    assert c.is_overloaded(now=10.01)
    assert not c.is_overloaded(now=12.0)  # nothing queued for two intervals


def test_fair_share_counts_this_and_the_last_interval():
    c = Controller(target=0.05, interval=0.5)
    for _ in range(90):
        c.count("rush")
    for _ in range(10):
        c.count("calm")
    assert c.over_share("rush") and not c.over_share("calm")
    assert not c.over_share("new")  # not seen lately: under its share
    c2 = Controller(target=0.05, interval=0.5)
    c2.count("alone")
    assert c2.over_share("alone")  # alone while overloaded: it is the rush


# --- the middleware ----------------------------------------------------------------------


def test_no_overload_no_shedding_whatever_the_rate(tenant_a):
    with pytest.MonkeyPatch.context():
        connection.set_tenant(tenant_a)
        make_offering(name="Beam")
        portal_settings_update(class_search_rate_limit=10)  # the floor, not a limit
        connection.set_schema_to_public()
    assert _send(tenant_a, 30) == [200] * 30  # the old fixed limit would have shed 20
    assert controller.shed == 0


def test_overloaded_the_rushing_tenant_is_shed_and_the_other_served(tenant_a, tenant_b):
    _floor(tenant_a)
    assert _send(tenant_a, 40) == [200] * 40
    assert _send(tenant_b, 2) == [200] * 2
    _overload()
    codes = _send(tenant_a, 15)
    assert codes[:10] == [200] * 10  # the floor: 10 a minute for the portal are kept
    assert set(codes[10:]) == {429}
    assert _send(tenant_b, 3) == [200] * 3  # under its share: never shed
    response = client_for(tenant_a).get(API)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "server_busy" and body["fields"] == {}
    assert "try again in a few seconds" in body["message"]
    assert 2 <= int(response["Retry-After"]) <= 6
    assert response["Cache-Control"] == "no-store"


def _floor(tenant, per_minute: int = 10) -> None:
    connection.set_tenant(tenant)
    portal_settings_update(class_search_rate_limit=per_minute)
    connection.set_schema_to_public()


def test_overloaded_web_visitors_get_the_branded_waiting_room(tenant_a):
    _floor(tenant_a)
    assert _send(tenant_a, 5, "/classes/") == [200] * 5
    _overload()
    assert _send(tenant_a, 10, "/classes/") == [200] * 10  # the floor
    page = web_client(tenant_a).get("/classes/?age=5")
    assert page.status_code == 429 and 2 <= int(page["Retry-After"]) <= 6
    html = page.content.decode()
    assert "You are in line" in html and "Alpha Gymnastics" in html
    assert "/static/portal_web/waiting_room.js" in html and 'href="/theme.css' in html
    assert 'data-next="/classes/?age=5"' in html
    assert "<script>" not in html  # CSP: only our own file, no inline script
    spanish = web_client(tenant_a).get("/classes/", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.status_code == 429 and "Está en la fila" in spanish.content.decode()


def test_overloaded_the_widget_json_keeps_cors(tenant_a):
    _floor(tenant_a)
    assert _send(tenant_a, 3, "/embed/offerings.json") == [200] * 3
    _overload()
    assert _send(tenant_a, 10, "/embed/offerings.json") == [200] * 10
    response = client_for(tenant_a).get("/embed/offerings.json")
    assert response.status_code == 429 and response.json()["code"] == "server_busy"
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "method,path,extra",
    [
        ("get", "/api/v1/cart", {}),
        ("get", "/api/v1/portal", {}),
        ("get", "/cart/", {}),
        ("get", "/healthz", {}),
        ("post", "/api/v1/offerings", {}),  # a write is work under way: never shed
    ],
)
def test_never_shed(tenant_a, method, path, extra):
    assert _send(tenant_a, 20) == [200] * 20
    _overload()
    response = getattr(client_for(tenant_a), method)(path, **extra)
    assert response.status_code != 429, (path, response.status_code)


def _pass(schema: str, seconds: int = 600) -> str:
    """A waiting-room pass as the line signs it, lapsing in ``seconds``."""
    expiry = int((time.time() + seconds) * 1000)
    return signing.dumps({"s": schema, "o": 1, "f": 1, "x": expiry}, salt=waiting_room.PASS_SALT)


def _shed_beyond_the_floor(tenant) -> None:
    """Overloaded, and the portal's floor (10 a minute) used up: its next search is shed."""
    _floor(tenant)
    assert _send(tenant, 5) == [200] * 5
    _overload()
    assert _send(tenant, 11) == [200] * 10 + [429]


def test_a_family_with_a_live_pass_is_never_shed(tenant_a):
    _shed_beyond_the_floor(tenant_a)
    live = _pass(tenant_a.schema_name)
    assert client_for(tenant_a).get(API, HTTP_X_WAITING_ROOM_PASS=live).status_code == 200
    web = client_for(tenant_a)
    web.cookies[admission.PASS_COOKIE] = live
    assert web.get(API).status_code == 200
    assert _send(tenant_a, 1) == [429]  # still shed without it


def test_a_forged_lapsed_or_other_business_pass_is_shed_like_any_request(tenant_a, tenant_b):
    _shed_beyond_the_floor(tenant_a)
    forged = _pass(tenant_a.schema_name)[:-2] + "xx"
    for token in ("anything", forged, _pass(tenant_a.schema_name, -1), _pass(tenant_b.schema_name)):
        response = client_for(tenant_a).get(API, HTTP_X_WAITING_ROOM_PASS=token)
        assert response.status_code == 429, token
        assert response.json()["code"] == "server_busy"
        cookie = client_for(tenant_a)
        cookie.cookies[admission.PASS_COOKIE] = token
        assert cookie.get(API).status_code == 429, token


def test_redis_down_sheds_over_share_without_error(tenant_a, monkeypatch, caplog):
    def dead():
        return redis.Redis(
            host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
        )

    monkeypatch.setattr(admission, "_redis", dead)
    monkeypatch.setattr(admission._Floor, "script", None)
    monkeypatch.setattr(admission._Floor, "last_warning", 0.0)
    assert _send(tenant_a, 5) == [200] * 5
    _overload()
    assert _send(tenant_a, 4) == [429] * 4
    assert sum("admission floor: Redis unreachable" in r.message for r in caplog.records) == 1


def test_disabled_never_sheds(tenant_a, settings):
    settings.ADMISSION_ENABLED = False
    assert _send(tenant_a, 5) == [200] * 5
    _overload()
    assert _send(tenant_a, 5) == [200] * 5


def test_queueing_delay_from_the_server_stamp_and_the_proxy_header(rf, settings):
    admission.mark_queued(time.monotonic() - 0.25)
    assert 0.25 <= admission.queued_for(rf.get("/")) < 1
    assert admission.queued_for(rf.get("/")) is None  # one stamp, one request
    request = rf.get("/", HTTP_X_REQUEST_START=f"t={int((time.time() - 0.5) * 1e6)}")
    assert admission.queued_for(request) is None  # not trusted by default
    settings.ADMISSION_TRUST_REQUEST_START = True
    assert 0.5 <= admission.queued_for(request) < 1.5
    assert admission.queued_for(rf.get("/", HTTP_X_REQUEST_START="t=bogus")) is None


def test_gunicorn_hook_stamps_requests_queued_for_a_thread():
    conf = runpy.run_path(
        str(Path(__file__).resolve().parents[2] / "saas_platform" / "gunicorn_conf.py")
    )
    seen = []

    class Worker:
        def enqueue_req(self, conn):
            time.sleep(0.02)  # waits in the pool's queue
            return self.handle(conn)

        def handle(self, conn):
            seen.append(admission.queued_for(None))

    worker = Worker()
    assert conf["install_queue_stamps"](worker)
    worker.enqueue_req(type("Conn", (), {})())
    assert seen and seen[0] >= 0.02
    assert not conf["install_queue_stamps"](object())  # sync workers: nothing to stamp
