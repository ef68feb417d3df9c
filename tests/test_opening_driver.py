"""The opening benchmark's families (tests/bench/opening_driver.py) against a small stand-in
server, on each event loop the driver offers: a family joins, waits one poll, is let in, finds
the class open, holds a seat and checks out; one whose hold finds the class full leaves the
line. The benchmark itself takes minutes (``make bench``); this keeps its driver from rotting.
No figures."""

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

DRIVER = Path(__file__).resolve().parent / "bench" / "opening_driver.py"


class StandIn:
    """Answers as the portal does, in the fewest words: every family waits one poll, then is
    let in; the family whose student is 2 finds the class full."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.polls: dict[str, int] = {}

    async def queue(self, request: web.Request) -> web.Response:
        ticket = request.headers.get("X-Waiting-Room-Ticket", "")
        self.calls.append((request.method, "queue", ticket or request.headers["Authorization"]))
        if request.method == "POST":
            family = request.headers["Authorization"].removeprefix("Bearer ")
            return web.json_response({"state": "waiting", "ticket": family, "poll_seconds": 1})
        if request.method == "DELETE":
            return web.Response(status=204)
        self.polls[ticket] = self.polls.get(ticket, 0) + 1
        return web.json_response({"state": "admitted", "pass_token": f"pass-{ticket}"})

    async def offerings(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", "offerings", request.headers["X-Waiting-Room-Pass"]))
        return web.json_response({"results": [{"id": 7, "availability": {"status": "OPEN"}}]})

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


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_the_driver_plays_families_to_the_end_on_each_loop(tmp_path, loop):
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
    assert result["errors"] == []
