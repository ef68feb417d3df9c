"""Request ids, structured logs and (optional) Sentry.

Every request gets an id: the ``X-Request-ID`` header a proxy sent (when it looks like an id),
or a fresh one. It is echoed in the response, kept in a context variable for the length of the
request, and copied into every log line together with the tenant (the schema the database
connection is in, so Celery tasks run by tenant-schemas-celery carry it too). A task enqueued
during a request carries the request's id in its headers and logs it while it runs.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished

from kernel.client_address import client_address

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_META = "HTTP_X_REQUEST_ID"
# Ids from upstream proxies (Caddy, ingress-nginx, a load balancer) are accepted as they are
# when they are short and made of safe characters; anything else is replaced.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The client's address (kernel.client_address), for the JSON log lines.
_client: ContextVar[str | None] = ContextVar("client", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_tenant() -> str | None:
    """The schema the default connection is in (``public`` on the platform host)."""
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None)
    except Exception:  # settings not configured yet (early start-up logs)
        return None


class RequestIdMiddleware:
    """First in MIDDLEWARE: every response, health checks and 404s included, carries the id."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(_REQUEST_ID_META, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        set_request_id(request_id)
        _client.set(client_address(request))
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        # The id stays set until the response is closed, so Django's own "Not Found: ..." line
        # (logged after the middleware chain returns) carries it too.
        return response


def _clear_request_id(**kwargs) -> None:
    set_request_id(None)
    _client.set(None)


request_finished.connect(_clear_request_id, dispatch_uid="saas_platform.clear_request_id")


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``tenant`` and ``client`` (the client's address) to every record
    (None when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "tenant"):
            record.tenant = current_tenant()
        if not hasattr(record, "client"):
            record.client = _client.get()
        return True


# Celery: the id of the request (or task) that enqueued a task travels in the message headers.
TASK_HEADER = "request_id"


def _before_task_publish(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def _task_prerun(task=None, **kwargs) -> None:
    request_id = getattr(getattr(task, "request", None), TASK_HEADER, None)
    set_request_id(request_id or new_request_id())


def _task_postrun(**kwargs) -> None:
    set_request_id(None)


def connect_celery_signals() -> None:
    from celery import signals

    signals.before_task_publish.connect(_before_task_publish, weak=False)
    signals.task_prerun.connect(_task_prerun, weak=False)
    signals.task_postrun.connect(_task_postrun, weak=False)


def _sentry_before_send(event, hint):
    tags = event.setdefault("tags", {})
    request_id = current_request_id()
    tenant = current_tenant()
    if request_id:
        tags.setdefault("request_id", request_id)
    if tenant:
        tags.setdefault("tenant", tenant)
    return event


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Report errors to Sentry when a DSN is configured; returns whether it did."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_sentry_before_send,
    )
    return True
