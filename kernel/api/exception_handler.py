"""Every API error is rendered as {"code", "message", "fields"} with a stable code."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kernel.errors import ApplicationError

_CODES = {
    exceptions.NotAuthenticated: ("not_authenticated", None),
    exceptions.AuthenticationFailed: ("authentication_failed", None),
    exceptions.PermissionDenied: ("permission_denied", None),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    exceptions.ParseError: ("malformed_request", None),
    exceptions.Throttled: ("throttled", None),
}


def _flatten(detail) -> list[str]:
    if isinstance(detail, list):
        out: list[str] = []
        for item in detail:
            out.extend(_flatten(item))
        return out
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            out.extend(f"{key}: {msg}" for msg in _flatten(value))
        return out
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    if not isinstance(detail, dict):
        return {"non_field_errors": _flatten(detail)}
    return {str(key): _flatten(value) for key, value in detail.items()}


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        response = Response(exc.as_dict(), status=exc.status)
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        first = next(iter(fields.values()), ["Invalid input."])
        message = first[0] if first else "Invalid input."
        response.data = {"code": "invalid_input", "message": message, "fields": fields}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code, message = "error", None
    for exc_type, (exc_code, exc_message) in _CODES.items():
        if isinstance(exc, exc_type):
            code, message = exc_code, exc_message
            break
    detail = getattr(exc, "detail", None)
    response.data = {
        "code": code,
        "message": message or (str(detail) if detail is not None else str(exc)),
        "fields": {},
    }
    return response
