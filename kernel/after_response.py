"""Work a request leaves until its answer is sent: ``defer(fn)``.

Some upkeep falls to whichever request comes at the wrong moment: the search that finds a
business's seat availability copy stale reloads it (``portal.catalog.availability``), one
query over every upcoming class and a Redis write, ~10-25 ms while the machine is busy, in a
search that otherwise takes ~3. That search does not need the reload's result (every other
search meanwhile answers from the stale copy, and so may it), so it answers first and reloads
after.

``AfterResponse`` wraps the WSGI application (``saas_platform/wsgi.py``): while a request is
served, ``defer`` keeps the work; once the server has sent the whole answer and closes it (PEP
3333: the iterable's ``close``), the work runs, in the same thread, each function on its own
(an error is logged and the next still runs), and the thread's database connections are then
given back as at the end of a request (``close_old_connections``). The connection the client
kept alive waits for it before its next request is read; other connections do not.

Outside a request so wrapped (a Celery task, a management command, a test calling a service
or Django's test client, which does not go through the WSGI module) ``defer`` runs the work at
once and says so (returns False); ``serving()`` tells a caller beforehand, so one that needs the
work's result outside a request can do it itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)

_local = threading.local()


def serving() -> bool:
    """Whether this thread is serving a request through ``AfterResponse`` (deferred work
    would wait for its answer to be sent)."""
    return getattr(_local, "pending", None) is not None


def defer(fn: Callable[[], object]) -> bool:
    """Run ``fn`` once this thread's answer is sent (True), or now if this thread is serving
    no request through ``AfterResponse`` (False)."""
    pending = getattr(_local, "pending", None)
    if pending is None:
        fn()
        return False
    pending.append(fn)
    return True


# Called in the thread once an answer that left work behind is sent, before the work runs.
_answered: list[Callable[[], None]] = []


def on_answered(hook: Callable[[], None]) -> None:
    """Call ``hook`` (once registered, however often asked) in the serving thread each time
    an answer that deferred work has been sent and closed, before that work runs: the CPU log
    (``GUNICORN_CPU_LOG_DIR``) ends the request's figures there, as its client had its answer."""
    if hook not in _answered:
        _answered.append(hook)


def _run(pending: list[Callable[[], object]]) -> None:
    from django.db import close_old_connections

    for fn in pending:
        try:
            fn()
        except Exception:
            logger.exception("after the response: %r failed", fn)
    try:
        close_old_connections()
    except Exception:
        logger.exception("after the response: the connections not given back")


class _Closing:
    """The application's answer, passed through; ``close`` closes it, then runs the work."""

    def __init__(self, answer: Iterable[bytes], pending: list) -> None:
        self._answer = answer
        self._pending = pending

    def __iter__(self):
        return iter(self._answer)

    def close(self) -> None:
        try:
            close = getattr(self._answer, "close", None)
            if close is not None:
                close()
        finally:
            pending, self._pending = self._pending, []
            if pending:
                for hook in _answered:
                    try:
                        hook()
                    except Exception:
                        logger.exception("after the response: %r failed", hook)
                _run(pending)


class AfterResponse:
    """WSGI middleware: ``defer`` inside the application keeps work until the answer is
    closed. The answer keeps its type when nothing was deferred (a file wrapper stays one)."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        pending: list[Callable[[], object]] = []
        _local.pending = pending
        try:
            answer = self.application(environ, start_response)
        except BaseException:
            _local.pending = None
            if pending:
                _run(pending)
            raise
        # Work deferred from here on (while a streaming answer is iterated) runs at once.
        _local.pending = None
        if not pending:
            return answer
        return _Closing(answer, pending)
