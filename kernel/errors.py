"""The one application error type. Services raise it; the API exception handler and the web
error pages render it as {"code", "message", "fields"}."""

from __future__ import annotations

from typing import Any


def _translated(message: Any) -> Any:
    if not isinstance(message, str):
        return message
    from django.utils.translation import get_language, gettext

    if (get_language() or "en").startswith("en"):
        return message
    return gettext(message)


class ApplicationError(Exception):
    """A failure the caller can act on, with a stable machine-readable ``code``.

    ``status`` is the HTTP status the API answers with; ``fields`` maps input field names to
    lists of messages when the problem is with particular inputs.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        # Services write their messages in English; each is read in the active language (the
        # request's) when the catalog has it (portal/error_messages.py marks the services'
        # static messages), so pages and API answers speak the family's language.
        message = _translated(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = {
            name: [_translated(m) for m in messages] if isinstance(messages, list) else messages
            for name, messages in (fields or {}).items()
        }
        self.headers = headers or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "fields": self.fields}

    def __repr__(self) -> str:
        return f"ApplicationError({self.code!r}, {self.message!r})"


def violated_constraint(exc: BaseException) -> str | None:
    """The name of the constraint a database ``IntegrityError`` broke (psycopg's diagnostics),
    so a service can turn the loser of a race into the same refusal its own check gives."""
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    return getattr(diag, "constraint_name", None)
