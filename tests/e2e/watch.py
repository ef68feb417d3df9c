"""What a failing browser test leaves behind (tests/e2e/conftest.py's report hook reads it)."""

from __future__ import annotations


def watch(request, page) -> None:
    """On the test's failure, ``page``'s screenshot and its browser console, page errors,
    failed requests and 4xx/5xx answers in the report (``pytest_runtest_makereport``)."""
    log = request.node.__dict__.setdefault("_e2e_console", [])
    page.on("console", lambda msg: log.append(f"console.{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: log.append(f"page error: {exc}"))
    page.on(
        "response",
        lambda r: log.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    page.on("requestfailed", lambda req: log.append(f"request failed: {req.url} {req.failure}"))
    request.node._e2e_pages = [*getattr(request.node, "_e2e_pages", []), page]
