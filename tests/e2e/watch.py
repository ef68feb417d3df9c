"""What a failing browser test leaves behind (tests/e2e/conftest.py's report hook reads it)."""

from __future__ import annotations


def watch(request, page) -> None:
    """On the test's failure, ``page``'s screenshot and its browser console, page errors,
    failed requests, 4xx/5xx answers and every API call with its answer's status in the report
    (``pytest_runtest_makereport``): a tap that seemed to do nothing shows whether its request
    was sent at all."""
    log = request.node.__dict__.setdefault("_e2e_console", [])
    page.on("console", lambda msg: log.append(f"console.{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: log.append(f"page error: {exc}"))
    page.on(
        "request",
        lambda r: log.append(f"sent: {r.method} {r.url}") if "/api/" in r.url else None,
    )
    page.on(
        "response",
        lambda r: (
            log.append(f"HTTP {r.status}: {r.request.method} {r.url}")
            if r.status >= 400 or "/api/" in r.url
            else None
        ),
    )
    page.on("requestfailed", lambda req: log.append(f"request failed: {req.url} {req.failure}"))
    request.node._e2e_pages = [*getattr(request.node, "_e2e_pages", []), page]
