"""A real localstripe process (the Stripe stand-in ``make demo`` uses) on a free port, for the
integration and browser tests: ``localstripe`` is a module-scoped fixture yielding its URL.
localstripe is GPL: it is only ever started as a separate process, never imported."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

KEY = "sk_test_123"
START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (a local http URL)
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory):
    """A fresh localstripe process on a free port; yields its base URL."""
    if importlib.util.find_spec("localstripe") is None:
        pytest.skip("localstripe is not installed (pip install 'localstripe>=1.15.10,<2')")
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    for _ in range(3):  # another process may grab the port between probing and binding
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if answers(f"{url}/js.stripe.com/v3/"):
                break
            time.sleep(0.1)
        else:
            process.kill()
            process.wait()
            continue
        try:
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return
    pytest.fail(f"localstripe did not start; its output:\n{log_path.read_text()[-2000:]}")
