"""What each push says, in the app's two languages (the device's language, chosen at
registration). Short: a lock screen shows about two lines. The context is the one the family's
email gets (portal.enrollment.notifications.notify_family)."""

from __future__ import annotations

# event -> the app screen a tap opens (the app's navigation names, mobile/src/navigation).
SCREENS = {
    "waitlist_offer": "Waitlist",
    "hold_expiring": "Cart",
    "request_update": "Requests",
    "autopay_failed": "Billing",
    "announcement": "Announcements",
}

TEXTS = {
    "en": {
        "waitlist_offer": (
            "A seat opened in {offering}",
            "It is held for {student} until {expires}. Accept it before then.",
        ),
        "hold_expiring": (
            "Your cart is about to expire",
            "{offering} for {student} is held for {minutes} more min. Check out to keep it.",
        ),
        "request_update": (
            "Your {type} request was {status}",
            "{student}: {about}.{note}",
        ),
        "autopay_failed": (
            "We could not charge your card",
            "Your {period} tuition of {amount} did not go through: {reason}",
        ),
    },
    "es": {
        "waitlist_offer": (
            "Se abrió un lugar en {offering}",
            "Está reservado para {student} hasta {expires}. Acéptalo antes.",
        ),
        "hold_expiring": (
            "Tu carrito está por vencer",
            "{offering} para {student} queda reservado {minutes} min más. Paga para conservarlo.",
        ),
        "request_update": (
            "Tu solicitud de {type}: {status}",
            "{student}: {about}.{note}",
        ),
        "autopay_failed": (
            "No pudimos cobrar tu tarjeta",
            "La cuota de {period} por {amount} no se pudo cobrar: {reason}",
        ),
    },
}

REQUEST_WORDS = {
    "es": {
        "absence": "ausencia",
        "makeup": "recuperación",
        "transfer": "cambio",
        "drop": "baja",
        "approved": "aprobada",
        "denied": "rechazada",
    }
}


def language(locale: str) -> str:
    return "es" if (locale or "").lower().startswith("es") else "en"


def render(event: str, context: dict, locale: str) -> tuple[str, str]:
    """(title, body) of an event for a device's language."""
    lang = language(locale)
    values = {key: value for key, value in context.items() if isinstance(value, str | int)}
    if event == "request_update":
        words = REQUEST_WORDS.get(lang, {})
        values["type"] = words.get(values.get("type", ""), values.get("type", ""))
        values["status"] = words.get(values.get("status", ""), values.get("status", ""))
        note = context.get("note") or ""
        values["note"] = f" “{note}”" if note else ""
    title, body = TEXTS[lang][event]
    return _fill(title, values)[:200], _fill(body, values)[:2000]


def _fill(text: str, values: dict) -> str:
    class Missing(dict):
        def __missing__(self, key):
            return ""

    return text.format_map(Missing(values))
