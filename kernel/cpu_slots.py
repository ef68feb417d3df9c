"""Waiting on the network without taking a running place from requests that compute.

The production worker (``saas_platform.gunicorn_fair``) may let fewer of its threads *run* at
once than it has threads (``GUNICORN_RUNNING``): on a machine with few cores, every request
running beyond what the cores can serve makes every request slower (caches, the GIL handed
between threads), while a request waiting for Stripe or S3 costs nothing but its thread. A
thread that is about to wait on another service says so with :func:`waiting_on_network`: it
gives its running place back for the wait and takes one again before it goes on (ahead of
requests not started yet, so work under way finishes first).

Outside that worker (tests, ``runserver``, Celery, sync workers) nothing is bound and
:func:`waiting_on_network` does nothing. Never wait on the network while holding row locks
(DESIGN.md): a thread waiting for a place again would make everyone queued on its lock wait
with it. Waits on PostgreSQL or Redis are short and keep the place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_local = threading.local()


def bind(release: Callable[[], None], reacquire: Callable[[], None]) -> None:
    """The server: this thread now holds a running place; how to give it back and take it
    again."""
    _local.slot = (release, reacquire)
    _local.waiting = False


def unbind() -> None:
    _local.slot = None
    _local.waiting = False


@contextmanager
def waiting_on_network() -> Iterator[None]:
    """Give this thread's running place back while the block waits on another service."""
    slot = getattr(_local, "slot", None)
    if slot is None or getattr(_local, "waiting", False):  # not bound, or already given back
        yield
        return
    release, reacquire = slot
    release()
    _local.waiting = True
    try:
        yield
    finally:
        _local.waiting = False
        reacquire()
