"""The Expo implementation of the push interface over real HTTP, against a local server that
answers like Expo's push API (batches of 100, tickets, receipts, retries on 5xx)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.push import gateway
from portal.push.gateway import ExpoPushService, PushOut, PushUnavailable


class FakeExpo:
    def __init__(self):
        self.requests: list[tuple[str, dict, object]] = []
        self.fail_next = 0
        self.status_for_all = None
        expo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                expo.requests.append((self.path, dict(self.headers), body))
                if expo.fail_next:
                    expo.fail_next -= 1
                    return self._answer(503, {"errors": [{"code": "UNAVAILABLE"}]})
                if expo.status_for_all:
                    return self._answer(expo.status_for_all, {"errors": [{"code": "BAD"}]})
                if self.path.endswith("/push/send"):
                    data = [
                        {"status": "error", "message": "gone",
                         "details": {"error": "DeviceNotRegistered"}}
                        if "gone" in m["to"]
                        else {"status": "ok", "id": f"t-{len(expo.requests)}-{i}"}
                        for i, m in enumerate(body)
                    ]  # fmt: skip
                    return self._answer(200, {"data": data})
                receipts = {
                    i: {"status": "error", "message": "bad", "details": {"error": "MessageTooBig"}}
                    if i.endswith("-1")
                    else {"status": "ok"}
                    for i in body["ids"]
                }
                return self._answer(200, {"data": receipts})

            def _answer(self, status, payload):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/--/api/v2"


@pytest.fixture
def expo():
    server = FakeExpo()
    yield server
    server.server.shutdown()


def out(n, token="ExponentPushToken[abc]"):  # noqa: S107 - a device id, not a secret
    return [PushOut(to=token, title=f"t{i}", body="b", data={"i": i}) for i in range(n)]


def test_messages_go_in_batches_of_100_with_the_access_token(expo):
    service = ExpoPushService(base_url=expo.url, access_token="secret-token")
    tickets = service.send(out(150))
    assert [len(body) for _, _, body in expo.requests] == [100, 50]
    path, headers, body = expo.requests[0]
    assert path == "/--/api/v2/push/send"
    assert headers["Authorization"] == "Bearer secret-token"
    assert body[0] == {
        "to": "ExponentPushToken[abc]", "title": "t0", "body": "b", "data": {"i": 0},
        "sound": "default", "priority": "high", "channelId": "default",
    }  # fmt: skip
    assert len(tickets) == 150 and all(t.status == "ok" and t.id for t in tickets)


def test_tickets_say_which_devices_are_gone(expo):
    tickets = ExpoPushService(base_url=expo.url).send(
        out(1) + out(1, token="ExponentPushToken[gone]")
    )
    assert [(t.status, t.error) for t in tickets] == [("ok", ""), ("error", "DeviceNotRegistered")]
    assert "Authorization" not in expo.requests[0][1]


def test_receipts(expo):
    receipts = ExpoPushService(base_url=expo.url).receipts(["a-0", "a-1"])
    assert receipts["a-0"].status == "ok"
    assert (receipts["a-1"].status, receipts["a-1"].error) == ("error", "MessageTooBig")
    assert expo.requests[0][0] == "/--/api/v2/push/getReceipts"
    assert expo.requests[0][2] == {"ids": ["a-0", "a-1"]}


@pytest.fixture(autouse=True)
def slept(monkeypatch):
    """The retry back-off's waits, recorded instead of slept (seconds of the suite's time)."""
    waits: list[float] = []
    monkeypatch.setattr(gateway.time, "sleep", waits.append)
    return waits


def test_server_errors_are_retried_then_reported(expo, slept):
    expo.fail_next = 2
    assert len(ExpoPushService(base_url=expo.url).send(out(2))) == 2
    assert len(expo.requests) == 3
    expo.requests.clear()
    expo.fail_next = 5
    with pytest.raises(PushUnavailable, match="HTTP 503"):
        ExpoPushService(base_url=expo.url).send(out(1))
    assert len(expo.requests) == 3
    assert slept == [0.5, 2.0, 0.5, 2.0]  # backing off before each retry, never after the last


def test_a_refused_request_is_not_retried(expo):
    expo.status_for_all = 400
    with pytest.raises(PushUnavailable, match="HTTP 400"):
        ExpoPushService(base_url=expo.url).receipts(["x"])
    assert len(expo.requests) == 1


def test_an_unreachable_service_is_reported():
    with pytest.raises(PushUnavailable, match="ConnectionError"):
        ExpoPushService(base_url="http://127.0.0.1:9", timeout=1).send(out(1))
