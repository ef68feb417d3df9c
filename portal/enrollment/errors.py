from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kernel.errors import ApplicationError

# One whole sentence per thing a family may name that is not there (or not theirs), so each
# language words it its own way; anything else falls back to the English pattern.
NOT_FOUND = {
    "cart_item": gettext_noop("We could not find that cart item."),
    "enrollment": gettext_noop("We could not find that enrollment."),
    "hold": gettext_noop("We could not find that hold."),
    "offering": gettext_noop("We could not find that offering."),
    "punch_pass": gettext_noop("We could not find that punch pass."),
    "student": gettext_noop("We could not find that student."),
    "waitlist_entry": gettext_noop("We could not find that waitlist entry."),
}


def not_found(what: str) -> ApplicationError:
    message = NOT_FOUND.get(what)
    return ApplicationError(
        f"{what}_not_found",
        _(message) if message else f"We could not find that {what.replace('_', ' ')}.",
        status=404,
    )


def busy() -> ApplicationError:
    return ApplicationError(
        "busy",
        "Many families are registering right now. Please try again in a moment.",
        status=503,
        headers={"Retry-After": "2"},
    )
