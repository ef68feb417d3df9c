"""Parse a posted form with the API's own Input serializer, so a page refuses exactly what the
API refuses, with the same field messages (``invalid_input`` and ``fields``)."""

from __future__ import annotations

from kernel.api.exception_handler import _fields
from kernel.errors import ApplicationError


def api_validate(serializer_class, data, **kwargs) -> dict:
    """The serializer's validated data, or an ApplicationError shaped like the API's 400."""
    serializer = serializer_class(data=data, **kwargs)
    if serializer.is_valid():
        return serializer.validated_data
    fields = _fields(serializer.errors)
    first = next(iter(fields.values()), ["Invalid input."])
    raise ApplicationError("invalid_input", first[0] if first else "Invalid input.", fields=fields)
