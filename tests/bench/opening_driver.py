"""The families of the opening-minute benchmark (tests/bench/opening.py), as a load generator in
its own process: asyncio, one coroutine per family, each on its own keep-alive connection to
gunicorn on 127.0.0.1, HTTP/1.1 written and read by hand (``--client raw``, ``RawConnection``);
``--client aiohttp``, or fewer ``--connections`` than families, shares aiohttp's pool of that
many instead. The driver shares the machine's two cores with the server: the hand-written
client took 0.11 of a core during the sale against aiohttp's 0.19-0.20 (twenty-fifth pass), and
on uvloop's event loop (``--loop asyncio`` for the standard library's) aiohttp took 0.20
against 0.22-0.23 (docs/benchmarks.md, issue 21, "Twenty-fourth pass").

Each family, at its arrival time (spread evenly over ``--arrive-seconds`` around the opening):

1. joins the waiting room (``POST /api/v1/openings/{id}/queue`` with its bearer token), keeps the
   ticket;
2. polls ``GET /api/v1/openings/{id}/queue`` with the ticket at the cadence the last answer
   asked for (``poll_seconds``: every second near the front, less often further back, as the
   web page and the app do; ``--poll-seconds`` fixes it) until it is admitted, recording each
   answer and the cadence it was asked for (so the report can tell the front from the back);
   ``--away-share`` of the families (at random; 0 by default) ask only every
   ``--away-seconds`` once the line has opened, as a hidden tab or an app in the background;
3. with the pass, looks at the classes (``GET /api/v1/offerings``, the cached page with current
   availability) and adds one still open to the cart (in a random order; one that filled up
   meanwhile answers ``offering_full`` and the next is tried, at most ``--tries``; ``busy``, the
   seat lock waited over 3 s, is retried after its ``Retry-After``),
   checks out (``POST /api/v1/checkout``; the classes are free, so nothing is due and the order
   is confirmed at once), and pays the order if anything is due (``POST /orders/{id}/pay`` with
   the saved card, which this data set does not have);
4. leaves the waiting room (``DELETE``) when it found no seat, so its checkout slot goes to the
   next family; or, still in line, when an answer says every class is full (``all_full``: the
   line lets nobody in then, and offers to leave), as a parent told so would.

Every request after the join goes out on the family's own schedule. opening.py asks for a
connection per family (as each family's browser has, and as Caddy or an ingress in front of
gunicorn opens upstream), so every request waiting is waiting in the server, where its flow
decides its turn; with fewer (``--connections``, 400 until the twenty-fourth pass) requests
also wait in the driver's pool, first come first served, before the server sees them.

Writes one JSON document: per family its arrival, join and admission times (seconds since the
opening, client clock), the gaps between status answers while waiting, its outcome and when it
finished; per request kind the latencies and statuses. Never asserts; opening.py reports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import zlib
from collections import Counter, defaultdict

import aiohttp


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.errors: list[str] = []

    def add(self, kind: str, status: int, seconds: float) -> None:
        self.latency[kind].append(seconds)
        self.statuses[kind][str(status)] += 1


class DriverError(Exception):
    """A request that got no answer: the connection failed or closed, or 60 s passed."""


ANSWER_TIMEOUT = 60.0  # seconds for a whole request and its answer, as aiohttp's total timeout
KEEPALIVE_SECONDS = 3.0  # an idle connection is closed before gunicorn's 5 s keep-alive does
# What aiohttp sends with every request (``--client aiohttp``), so the server does the same work
# for either client (the answers gzipped where they are large enough).
DEFAULT_HEADERS = b"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nUser-Agent: opening-driver\r\n"


class _Answer(asyncio.Protocol):
    """One keep-alive connection's side of HTTP/1.1: the bytes in, one answer at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            answer = self.parse()
            if answer is not None:
                self.waiter.set_result(answer)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(DriverError(f"connection closed: {exc!r}"))

    def parse(self) -> tuple[int, bytes, bool] | None:
        """(status, body, server closes) once the whole answer is in the buffer, else None."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close, chunked, encoding = 0, False, False, ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value == "close"
            elif name == "transfer-encoding":
                chunked = "chunked" in value
            elif name == "content-encoding":
                encoding = value
        start = end + 4
        if chunked:
            body, consumed = _dechunk(self.buffer, start)
            if body is None:
                return None
        else:
            if len(self.buffer) < start + length:
                return None
            body, consumed = bytes(self.buffer[start : start + length]), start + length
        del self.buffer[:consumed]
        if encoding == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        return status, body, close


def _dechunk(buffer: bytearray, at: int) -> tuple[bytes | None, int]:
    """A chunked body from ``at``: (body, where it ends), or (None, 0) until all of it is in."""
    parts = []
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None, 0
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", at)
            return (b"".join(parts), trailer_end + 2) if trailer_end >= 0 else (None, 0)
        if len(buffer) < at + size + 2:
            return None, 0
        parts.append(bytes(buffer[at : at + size]))
        at += size + 2


class RawConnection:
    """A family's own keep-alive connection, HTTP/1.1 written and read by hand over the event
    loop's transport (``--client raw``, the default): the same requests as aiohttp sends, for
    a fraction of the driver's CPU, which it takes from the two cores the server has."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.protocol: _Answer | None = None
        self.idle_since = 0.0

    async def request(
        self, method: str, path: str, headers: dict, body: dict | None
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        protocol = self.protocol
        if protocol is None or protocol.closed or loop.time() - self.idle_since > KEEPALIVE_SECONDS:
            if protocol is not None and protocol.transport is not None:
                protocol.transport.close()
            try:
                _, protocol = await loop.create_connection(_Answer, "127.0.0.1", self.port)
            except OSError as exc:
                self.protocol = None
                raise DriverError(f"connect: {exc!r}") from exc
            self.protocol = protocol
        head = [f"{method} {path} HTTP/1.1\r\n".encode()]
        head += [f"{name}: {value}\r\n".encode() for name, value in headers.items()]
        head.append(DEFAULT_HEADERS)
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            head.append(
                f"Content-Length: {len(payload)}\r\nContent-Type: application/json\r\n".encode()
            )
        head.append(b"\r\n")
        waiter = protocol.waiter = loop.create_future()
        timer = loop.call_later(ANSWER_TIMEOUT, _time_out, waiter)
        protocol.transport.write(b"".join(head) + payload)
        try:
            status, raw, close = await waiter
        except DriverError:
            self.protocol = None
            raise
        finally:
            timer.cancel()
            protocol.waiter = None
        self.idle_since = loop.time()
        if close:
            protocol.transport.close()
            self.protocol = None
        return status, raw


def _time_out(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(DriverError(f"no answer within {ANSWER_TIMEOUT:.0f} s"))


class AiohttpConnection:
    """aiohttp's session and its connection pool (``--client aiohttp``; and with fewer
    ``--connections`` than families, which only a shared pool can do)."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.base = f"http://127.0.0.1:{port}"

    async def request(
        self, method: str, path: str, headers: dict, body: dict | None
    ) -> tuple[int, bytes]:
        try:
            async with self.session.request(
                method, self.base + path, headers=headers, json=body
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DriverError(repr(exc)) from exc


async def call(
    conn: RawConnection | AiohttpConnection,
    rec: Recorder,
    kind: str,
    method: str,
    path: str,
    *,
    headers: dict,
    body: dict | None = None,
) -> tuple[int, dict]:
    started = time.monotonic()
    try:
        status, raw = await conn.request(method, path, headers, body)
    except DriverError as exc:
        rec.add(kind, 0, time.monotonic() - started)
        if len(rec.errors) < 20:
            rec.errors.append(f"{kind}: {exc}")
        return 0, {}
    rec.add(kind, status, time.monotonic() - started)
    if status >= 500 and len(rec.errors) < 20:
        rec.errors.append(f"{kind}: {status} {raw[:200]!r}")
    try:
        return status, json.loads(raw) if raw else {}
    except ValueError:
        return status, {}


def answer_cadence(body: dict) -> float:
    return float(body.get("poll_seconds") or 2)


async def family(
    conn: RawConnection | AiohttpConnection,
    rec: Recorder,
    args: argparse.Namespace,
    opens_at: float,
    token: str,
    student: int,
    family_id: str,
    arrival: float,
    rng: random.Random,
) -> dict:
    common = {"Host": args.host, "X-Forwarded-Proto": "https"}
    auth = {**common, "Authorization": f"Bearer {token}"}
    queue_url = f"/api/v1/openings/{args.opening}/queue"
    out: dict = {"arrival": arrival, "family": family_id}
    # Away (``--away-share``): after the opening this family asks only every
    # ``--away-seconds``, as a hidden browser tab or an app in the background would.
    away = args.away_share > 0 and rng.random() < args.away_share
    if away:
        out["away"] = True
    await asyncio.sleep(max(0.0, opens_at + arrival - time.time()))
    status, body = await call(conn, rec, "join", "POST", queue_url, headers=auth)
    out["joined"] = time.time() - opens_at
    if status != 200:
        out["outcome"] = f"join_{status}"
        return out
    ticket = body.get("ticket", "")
    poll_headers = {**common, "X-Waiting-Room-Ticket": ticket}
    gaps: list[float] = []
    asked: list[float] = []  # the cadence the answer before each gap asked for
    last_answer = time.time()
    positions = 0
    cadence = args.poll_seconds or float(body.get("poll_seconds") or 2)
    next_poll = time.time() + cadence
    while body.get("state") != "admitted":
        if time.time() - opens_at > args.max_seconds:
            out["outcome"] = "timed_out_waiting"
            out["gaps"] = gaps
            out["asked"] = asked
            return out
        if body.get("state") in ("closed", "expired", "not_joined"):
            out["outcome"] = f"state_{body.get('state')}"
            return out
        if body.get("all_full"):
            # Every class is full: the line says so and offers to leave, and this family does
            # (its place would only matter if a seat opened up).
            await call(conn, rec, "leave", "DELETE", queue_url, headers=poll_headers)
            out["outcome"] = "full_in_line"
            out["finished"] = time.time() - opens_at
            out["gaps"] = gaps
            out["asked"] = asked
            return out
        await asyncio.sleep(max(0.0, next_poll - time.time()))
        next_poll += args.poll_seconds or float(answer_cadence(body))
        if away and time.time() > opens_at:
            next_poll = max(next_poll, time.time() + args.away_seconds)
        # The front of the line's polls (a front ticket: their own lane in the worker) apart.
        lane = (
            "poll front" if poll_headers["X-Waiting-Room-Ticket"].startswith("front:") else "poll"
        )
        status, answer = await call(conn, rec, lane, "GET", queue_url, headers=poll_headers)
        now = time.time()
        if status == 200:
            if answer.get("ticket"):  # into or out of the front of the line, as the app does
                poll_headers["X-Waiting-Room-Ticket"] = answer["ticket"]
            if answer.get("position") is not None:
                positions += 1
            if now - opens_at > 0 and body.get("state") not in ("before_opening",):
                gaps.append(now - last_answer)
                asked.append(answer_cadence(body))
            last_answer = now
            body = answer
    # Client clock, the same machine's as the server's: the report compares it with the moment
    # the server admitted the family (the queue's own record) for the admission-to-seen delay.
    out["admitted"] = time.time() - opens_at
    out["gaps"] = gaps
    out["asked"] = asked
    out["positions_seen"] = positions
    pass_headers = {**auth, "X-Waiting-Room-Pass": body.get("pass_token", "")}
    # The family looks at the classes (the cached search, availability merged in) and tries
    # those still open, in a random order.
    wanted = set(args.offerings)
    # With the pass, as the app and the web page send it on every request once admitted:
    # admission control never sheds a family the line let in.
    status, page = await call(
        conn,
        rec,
        "search",
        "GET",
        "/api/v1/offerings?page_size=50",
        headers=pass_headers,
    )
    open_now = [
        item["id"]
        for item in page.get("results", [])
        if item.get("id") in wanted and item.get("availability", {}).get("status") == "OPEN"
    ]
    rng.shuffle(open_now)
    for offering in open_now[: args.tries]:
        for _attempt in range(4):  # `busy` (503, the seat lock waited 3 s) says retry
            status, answer = await call(
                conn,
                rec,
                "hold",
                "POST",
                "/api/v1/cart/items",
                headers=pass_headers,
                body={"offering": offering, "student": student},
            )
            if status != 503 or answer.get("code") != "busy":
                break
            await asyncio.sleep(2)
        if status in (200, 201):
            break
        if answer.get("code") not in ("offering_full",):
            out["outcome"] = f"hold_{status}_{answer.get('code', '')}"
            await call(conn, rec, "leave", "DELETE", queue_url, headers=poll_headers)
            return out
    else:
        out["outcome"] = "full"
        out["finished"] = time.time() - opens_at
        await call(conn, rec, "leave", "DELETE", queue_url, headers=poll_headers)
        return out
    status, order = await call(
        conn, rec, "checkout", "POST", "/api/v1/checkout", headers=pass_headers, body={}
    )
    if status not in (200, 201):
        out["outcome"] = f"checkout_{status}_{order.get('code', '')}"
        return out
    if order.get("amount_due") not in (None, 0, "0", "0.00") and args.saved_method:
        status, _ = await call(
            conn,
            rec,
            "pay",
            "POST",
            f"/api/v1/orders/{order['id']}/pay",
            headers=auth,
            body={"saved_method": args.saved_method},
        )
        if status not in (200, 201):
            out["outcome"] = f"pay_{status}"
            return out
    out["outcome"] = "registered"
    out["finished"] = time.time() - opens_at
    return out


async def main(args: argparse.Namespace) -> dict:
    with open(args.families) as fh:
        families = [line.split() for line in fh.read().splitlines() if line.strip()]
    rng = random.Random(args.seed)
    n = len(families)
    half = args.arrive_seconds / 2
    arrivals = [-half + args.arrive_seconds * i / max(n - 1, 1) for i in range(n)]
    rng.shuffle(arrivals)
    rec = Recorder()

    def play(conn, row, arrival):
        return family(conn, rec, args, args.opens_at, row[0], int(row[1]), row[2], arrival, rng)

    if args.client == "raw" and args.connections >= n:
        results = await asyncio.gather(
            *(
                play(RawConnection(args.port), row, arrival)
                for row, arrival in zip(families, arrivals, strict=True)
            )
        )
    else:
        # Idle connections are closed by the client before gunicorn's 5 s keep-alive closes
        # them, so a request is never sent on a connection the server is closing.
        connector = aiohttp.TCPConnector(
            limit=args.connections, keepalive_timeout=KEEPALIVE_SECONDS
        )
        timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            conn = AiohttpConnection(session, args.port)
            results = await asyncio.gather(
                *(play(conn, row, arrival) for row, arrival in zip(families, arrivals, strict=True))
            )
    return {
        "families": results,
        "latency": rec.latency,
        "statuses": {k: dict(v) for k, v in rec.statuses.items()},
        "errors": rec.errors,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--opening", type=int, required=True)
    parser.add_argument("--offerings", type=lambda s: [int(x) for x in s.split(",")], required=True)
    parser.add_argument(
        "--families", required=True, help="file: '<token> <student id> <family id>' a line"
    )
    parser.add_argument("--opens-at", type=float, required=True, help="epoch seconds")
    parser.add_argument("--arrive-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=400)
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=150.0)
    parser.add_argument("--saved-method", type=int, default=0)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument(
        "--poll-seconds", type=float, default=0.0, help="override the server's poll_seconds"
    )
    parser.add_argument("--away-share", type=float, default=0.0)
    parser.add_argument("--away-seconds", type=float, default=30.0)
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the event loop: uvloop (libuv, less of the machine's CPU a request) or asyncio's",
    )
    parser.add_argument(
        "--client",
        choices=("raw", "aiohttp"),
        default="raw",
        help="raw: each family's own connection, HTTP/1.1 by hand (less of the machine's CPU a "
        "request); aiohttp: its session and pool (always, with fewer --connections than families)",
    )
    parser.add_argument("--out", required=True)
    ns = parser.parse_args()
    if ns.loop == "uvloop":
        import uvloop

        result = uvloop.run(main(ns))
    else:
        result = asyncio.run(main(ns))
    with open(ns.out, "w") as fh:
        json.dump(result, fh)
