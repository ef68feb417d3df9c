"""Garbage input is a 400 before any view sees it.

PostgreSQL cannot store a NUL character, and a lone UTF-16 surrogate cannot be encoded as
UTF-8: either one reaching a query or an INSERT is a 500. ``BadInputMiddleware`` answers 400
for a NUL in the path, the query string or a form field (web forms, on every route);
``kernel.api.parsers.SafeJSONParser`` does the same for JSON bodies, and refuses JSON
nested deeper than ``MAX_JSON_DEPTH`` before parsing it (a few kilobytes of ``[[[[...`` would
otherwise cost the parser's recursion and then every serializer that walks it).

Answers: ``400 malformed_request`` in the API's error shape on ``/api/`` and ``/webhooks/``,
a short plain-text 400 elsewhere.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

NUL = "\x00"
MESSAGE = "The request contains a NUL character, which no field may hold."


def _has_nul(mapping) -> bool:
    return any(NUL in key or any(NUL in v for v in mapping.getlist(key)) for key in mapping)


def _bad(request, message: str):
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse(
            {"code": "malformed_request", "message": message, "fields": {}}, status=400
        )
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


class BadInputMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or _has_nul(request.GET):
            return _bad(request, MESSAGE)
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method == "POST" and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            try:
                form = request.POST
            except MultiPartParserError:
                return _bad(request, "The form data could not be read.")
            if _has_nul(form):
                return _bad(request, MESSAGE)
        return self.get_response(request)
