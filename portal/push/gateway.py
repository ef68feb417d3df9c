"""The push interface: who carries a notification to a phone.

``push_service()`` returns the configured implementation (``PUSH_BACKEND``):

- ``expo`` (production): Expo's push service over HTTPS, 100 messages a request, tickets
  now and receipts later (https://docs.expo.dev/push-notifications/sending-notifications/);
- ``fake`` (tests, ``make demo`` without network): keeps what it was asked to send in memory,
  answers tickets and receipts like Expo, and can be told which tokens are gone;
- ``off``: drops everything (a deployment without push).

Both answer in Expo's vocabulary, so the services above never know which one runs."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

SEND_BATCH = 100  # Expo accepts at most 100 messages per request
RECEIPT_BATCH = 1000  # and at most 1,000 receipt ids
GONE = "DeviceNotRegistered"  # Expo's error for an app that was removed or a token revoked


@dataclass(frozen=True)
class PushOut:
    to: str
    title: str
    body: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Ticket:
    """Expo's immediate answer for one message: ``ok`` with an id whose receipt comes later,
    or ``error`` (``error`` is Expo's detail code, e.g. DeviceNotRegistered)."""

    status: str
    id: str = ""
    error: str = ""
    message: str = ""


@dataclass(frozen=True)
class Receipt:
    status: str
    error: str = ""
    message: str = ""


class PushUnavailable(Exception):
    """The push service could not be reached or refused the whole request; try again later."""


class PushService(Protocol):
    def send(self, messages: list[PushOut]) -> list[Ticket]:
        """One ticket per message, in order. Raises PushUnavailable for a whole-request failure."""

    def receipts(self, ticket_ids: list[str]) -> dict[str, Receipt]:
        """Receipts that are ready (a missing id: not yet, ask again later)."""


class ExpoPushService:
    # Seconds to wait before the second and the third try of a failed request.
    RETRY_DELAYS = (0.5, 2.0)

    def __init__(self, *, base_url: str, access_token: str = "", timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.timeout = timeout

    def _post(self, path: str, payload) -> dict:
        import requests

        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        for attempt in range(3):
            try:
                response = requests.post(
                    self.base_url + path, json=payload, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response.json()
                error = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code < 500 and response.status_code != 429:
                    raise PushUnavailable(error)
            if attempt < 2:
                time.sleep(self.RETRY_DELAYS[attempt])
        raise PushUnavailable(error)

    def send(self, messages: list[PushOut]) -> list[Ticket]:
        tickets: list[Ticket] = []
        for start in range(0, len(messages), SEND_BATCH):
            batch = messages[start : start + SEND_BATCH]
            payload = [
                {
                    "to": m.to,
                    "title": m.title,
                    "body": m.body,
                    "data": m.data,
                    "sound": "default",
                    "priority": "high",
                    "channelId": "default",
                }
                for m in batch
            ]
            answer = self._post("/push/send", payload).get("data") or []
            if len(answer) != len(batch):
                raise PushUnavailable(f"expected {len(batch)} tickets, got {len(answer)}")
            tickets.extend(_ticket(t) for t in answer)
        return tickets

    def receipts(self, ticket_ids: list[str]) -> dict[str, Receipt]:
        found: dict[str, Receipt] = {}
        for start in range(0, len(ticket_ids), RECEIPT_BATCH):
            ids = ticket_ids[start : start + RECEIPT_BATCH]
            data = self._post("/push/getReceipts", {"ids": ids}).get("data") or {}
            for ticket_id, receipt in data.items():
                details = receipt.get("details") or {}
                found[ticket_id] = Receipt(
                    status=receipt.get("status", "error"),
                    error=details.get("error", ""),
                    message=receipt.get("message", ""),
                )
        return found


def _ticket(raw: dict) -> Ticket:
    details = raw.get("details") or {}
    return Ticket(
        status=raw.get("status", "error"),
        id=raw.get("id", ""),
        error=details.get("error", ""),
        message=raw.get("message", ""),
    )


class FakePushService:
    """In-memory stand-in with Expo's answers. ``gone`` holds tokens that answer
    DeviceNotRegistered (at send time, or in the receipt when ``gone_in_receipt``)."""

    def __init__(self) -> None:
        self.sent: list[PushOut] = []
        self.gone: set[str] = set()
        self.gone_in_receipt: set[str] = set()
        self.down = False
        self._tickets: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, messages: list[PushOut]) -> list[Ticket]:
        if self.down:
            raise PushUnavailable("fake push service is down")
        tickets = []
        with self._lock:
            for message in messages:
                if message.to in self.gone:
                    tickets.append(Ticket("error", error=GONE, message="not registered"))
                    continue
                self.sent.append(message)
                ticket_id = f"fake-{next(self._ids)}"
                self._tickets[ticket_id] = message.to
                tickets.append(Ticket("ok", id=ticket_id))
        return tickets

    def receipts(self, ticket_ids: list[str]) -> dict[str, Receipt]:
        if self.down:
            raise PushUnavailable("fake push service is down")
        out = {}
        for ticket_id in ticket_ids:
            token = self._tickets.get(ticket_id)
            if token is None:
                continue
            if token in self.gone_in_receipt:
                out[ticket_id] = Receipt("error", error=GONE, message="not registered")
            else:
                out[ticket_id] = Receipt("ok")
        return out

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.gone.clear()
            self.gone_in_receipt.clear()
            self._tickets.clear()
            self.down = False


class NoPushService:
    def send(self, messages: list[PushOut]) -> list[Ticket]:
        return [Ticket("error", error="PushDisabled", message="push is off") for _ in messages]

    def receipts(self, ticket_ids: list[str]) -> dict[str, Receipt]:
        return {}


fake_push = FakePushService()  # one per process: tests read what was "sent"


def push_service() -> PushService:
    backend = settings.PUSH_BACKEND
    if backend == "fake":
        return fake_push
    if backend == "off":
        return NoPushService()
    if backend == "expo":
        return ExpoPushService(
            base_url=settings.EXPO_PUSH_URL, access_token=settings.EXPO_ACCESS_TOKEN
        )
    raise ValueError(f"Unknown PUSH_BACKEND {backend!r}: use expo, fake or off.")
