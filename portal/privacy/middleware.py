"""Remembers the request being served, so audit entries written deep in services and signal
handlers know who acted, from where, and under which request id."""

from __future__ import annotations

from .audit import reset_request, set_request


class AuditContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = set_request(request)
        try:
            return self.get_response(request)
        finally:
            reset_request(token)
