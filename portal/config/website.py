"""Website integration: the snippet a business pastes on its own website to show its class
list (the widget of ``portal_web.embed``: ``/embed.js`` with ``data-*`` options), and the deep
link to the same filtered list on the portal. Pure: the caller gives the portal's origin."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

# The widget's options a business chooses on the console page, in the order the snippet
# writes them (``data-<name>``; see the header of portal_web/templates/portal_web/embed.js).
SNIPPET_OPTIONS = ("program", "location", "kind", "limit", "lang", "style")
DEFAULT_LIMIT = 20


def embed_snippet(*, origin: str, options: dict[str, Any]) -> dict[str, str]:
    """``{"script_url", "snippet", "class_list_url"}`` for validated options
    (``portal.config.inputs.WebsiteEmbedInput``): the ``<script>`` tag to paste, and the
    portal's class list with the same filters, for a plain link."""
    attributes = []
    for name in SNIPPET_OPTIONS:
        value = options.get(name)
        if value in (None, "") or (name == "limit" and value == DEFAULT_LIMIT):
            continue
        if name == "style" and value != "none":
            continue
        attributes.append(f' data-{name}="{escape(str(value))}"')
    script_url = f"{origin}/embed.js"
    snippet = f'<script src="{escape(script_url)}"{"".join(attributes)} async></script>'
    search = {n: options[n] for n in ("program", "location", "kind") if options.get(n)}
    class_list_url = f"{origin}/classes/" + (f"?{urlencode(search)}" if search else "")
    return {"script_url": script_url, "snippet": snippet, "class_list_url": class_list_url}


def embed_options_check(options: dict[str, Any]) -> None:
    """``invalid_input`` when the program or location is not one of this business's active
    ones (the widget would answer every visitor with an error)."""
    from kernel.errors import ApplicationError
    from portal.catalog.models import Location, Program

    for name, model in (("program", Program), ("location", Location)):
        value = options.get(name)
        if value is not None and not model.objects.filter(pk=value, is_active=True).exists():
            message = f"Choose a {name} of this business."
            raise ApplicationError("invalid_input", message, fields={name: [message]})


def embed_choices() -> dict[str, list]:
    """What the options may be: active programs and locations, kinds, languages."""
    from django.conf import settings

    from portal.catalog.models import Location, Offering, Program

    return {
        "programs": list(Program.objects.filter(is_active=True).values("id", "name")),
        "locations": list(Location.objects.filter(is_active=True).values("id", "name")),
        "kinds": [{"id": v, "name": str(label)} for v, label in Offering.Kind.choices],
        "languages": [{"id": code, "name": str(name)} for code, name in settings.LANGUAGES],
    }
