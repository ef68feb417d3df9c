"""Website integration (/console/settings/website/): the snippet a business pastes on its own
website to show its class list (portal_web.embed), the widget's options, a copy button, a link
to the same list on the portal and a live preview of the widget in an iframe (a page of the
console's own host, framed only by it)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from kernel.csp import policy
from kernel.errors import ApplicationError
from portal.config.inputs import WebsiteEmbedInput, input_validate
from portal.config.website import (
    SNIPPET_OPTIONS,
    embed_choices,
    embed_options_check,
    embed_snippet,
)

from .access import console_page, methods
from .settings_views import settings_context


def _options(request) -> tuple[dict, ApplicationError | None]:
    raw = {name: request.GET.get(name, "").strip()[:20] for name in SNIPPET_OPTIONS}
    data = {name: value for name, value in raw.items() if value}
    try:
        options = input_validate(WebsiteEmbedInput, data)
        embed_options_check(options)
    except ApplicationError as exc:
        return input_validate(WebsiteEmbedInput, {}), exc
    return options, None


def _query(options: dict) -> str:
    return urlencode({k: v for k, v in options.items() if v not in (None, "")})


@methods("GET")
@console_page("manage_settings")
def website(request):
    options, error = _options(request)
    answer = embed_snippet(origin=request.tenant.url("").rstrip("/"), options=options)
    response = render(
        request,
        "portal_console/settings_website.html",
        settings_context(
            request,
            "website",
            options=options,
            choices=embed_choices(),
            error=error,
            preview_query=_query(options),
            **answer,
        ),
        status=error.status if error else 200,
    )
    # The live preview is a page of this host in an iframe: allow framing 'self' here.
    response["Content-Security-Policy"] = policy(str(request.csp_nonce)).replace(
        "frame-src ", "frame-src 'self' "
    )
    return response


@methods("GET")
@console_page("manage_settings")
@xframe_options_sameorigin
def website_preview(request):
    """The widget as a visitor of the business's website sees it, with the chosen options."""
    options, error = _options(request)
    attributes = {
        name: value
        for name, value in options.items()
        if value not in (None, "") and not (name == "style" and value != "none")
    }
    response = render(
        request,
        "portal_console/website_preview.html",
        {"attributes": attributes, "error": error},
        status=error.status if error else 200,
    )
    response["Content-Security-Policy"] = policy(str(request.csp_nonce)).replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    return response
