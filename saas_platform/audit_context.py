"""Remembers the request being served, so audit entries written deep in services and signal
handlers know who acted, from where, and under which request id."""

from __future__ import annotations

from portal.privacy.audit import reset_request, set_request


class AuditContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = set_request(request)
        try:
            return self.get_response(request)
        finally:
            reset_request(token)


class HistoryContextMiddleware:
    """Every database change a request makes is recorded by triggers (portal.privacy.history)
    under one pghistory context carrying who acted: the user (set again when DRF's token
    authentication sets ``request.user`` inside the view), the client address, the method,
    the path and the request id. Every method, not only writes: a GET may settle lapsed
    holds. Must come after authentication (and the request id)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        import pghistory
        from django.core.handlers.asgi import ASGIRequest
        from django.core.handlers.wsgi import WSGIRequest

        from kernel.client_address import client_address
        from kernel.observability import current_request_id

        metadata = {
            "request_id": current_request_id() or "",
            "method": request.method,
            "url": request.path[:500],
            "ip": client_address(request),
            **actor_metadata(getattr(request, "user", None)),
        }
        with pghistory.context(**metadata):
            if type(request) is WSGIRequest:
                request.__class__ = _WSGIRequest
            elif type(request) is ASGIRequest:
                request.__class__ = _ASGIRequest
            return self.get_response(request)


def actor_metadata(user) -> dict:
    """The acting user as the history records it (no user: a visitor or the system)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user": None, "user_email": "", "actor": "visitor"}
    from django.db import connection

    if connection.schema_name == "public":
        kind = "platform"
    else:
        kind = "staff" if user.is_staff else "family"
    return {"user": user.pk, "user_email": user.email, "actor": kind}


class _UserTracking:
    """DRF authenticates inside the view and then sets ``request.user`` on the Django request:
    update the history context with that user."""

    def __setattr__(self, attr, value):
        if attr == "user":
            import pghistory

            pghistory.context(**actor_metadata(value))
        super().__setattr__(attr, value)


def _request_classes():
    from django.core.handlers.asgi import ASGIRequest
    from django.core.handlers.wsgi import WSGIRequest

    return (
        type("WSGIRequest", (_UserTracking, WSGIRequest), {}),
        type("ASGIRequest", (_UserTracking, ASGIRequest), {}),
    )


_WSGIRequest, _ASGIRequest = _request_classes()
