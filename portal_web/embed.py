"""Website integration: ``<script src="https://<slug>.<domain>/embed.js" data-program="...">``
renders the business's class list on its own website.

The script fetches ``/embed/offerings.json`` from the tenant host with ``credentials: "omit"``:
no cookie is sent or set, so nothing depends on third-party cookies, and "Enroll" links open the
portal on its own host (the offering's page), where the family signs in first-party. These two
endpoints are the only ones that answer cross-origin requests (``Access-Control-Allow-Origin:
*`` without credentials). Search uses the catalog's filter parser and output shapes (the API's
too), so the widget, the portal and the apps apply one rule set."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kernel.errors import ApplicationError
from kernel.hosts import public_origin
from portal.catalog.availability import availability_for
from portal.catalog.filters import KNOWN, bad, parse_offering_filters
from portal.catalog.outputs import OfferingOutput
from portal.catalog.selectors import FILTER_NAMES, filter_value_ids, offering_search
from portal.config.selectors import portal_settings_get

# Widget-only parameters; everything else is a class-search filter (portal.catalog.filters).
WIDGET_PARAMS = {"limit", "lang"}
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
LANG_CODES = [code for code, _name in settings.LANGUAGES]


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response["Access-Control-Max-Age"] = "86400"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _language(request) -> str:
    asked = (request.GET.get("lang") or "").strip().lower()
    if asked in LANG_CODES:
        return asked
    locale = getattr(connection.tenant, "locale", "") or settings.LANGUAGE_CODE
    return locale if locale in LANG_CODES else settings.LANGUAGE_CODE


def _resolve_names(params: QueryDict) -> QueryDict:
    """``program=Gymnastics`` -> ``program=<id>`` (case-insensitive); ids pass through, and the
    filter parser then checks them. Levels by name need the program, so they go by id or by
    "Program: Level"."""
    out = params.copy()
    # Filters a business may give by name as well as by id (data-program="Gymnastics").
    for name in FILTER_NAMES:
        resolved = []
        for raw in params.getlist(name):
            for value in (v.strip() for v in raw.split(",")):
                if not value:
                    continue
                if value.isdigit():
                    resolved.append(value)
                    continue
                ids = filter_value_ids(name=name, value=value)
                if len(ids) != 1:
                    raise bad(name, f"Unknown {name} “{value[:100]}”.")
                resolved.append(str(ids[0]))
        if resolved:
            out.setlist(name, [",".join(resolved)])
    return out


def _limit(params: QueryDict) -> int:
    raw = (params.get("limit") or "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise bad("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def _labels() -> dict:
    """The widget's words in the active language (the script itself carries only the loading
    and failure messages)."""
    return {
        "enroll": _("Enroll"),
        "details": _("Details"),
        "see_all": _("See all classes"),
        "full": _("Full"),
        "open": _("Open"),
        "openings": _("openings"),
        "waitlist": _("Join the waitlist"),
        "ages": _("Ages"),
        "none": _("No classes match right now."),
        "list_label": _("Classes at %(name)s") % {"name": connection.tenant.name},
        "days": {
            "mon": _("Mon"),
            "tue": _("Tue"),
            "wed": _("Wed"),
            "thu": _("Thu"),
            "fri": _("Fri"),
            "sat": _("Sat"),
            "sun": _("Sun"),
        },
    }


@require_http_methods(["GET", "OPTIONS"])
def embed_offerings(request):
    """The class list for the widget: public data only, the same filters as the class search."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    with translation.override(_language(request)):
        try:
            portal = portal_settings_get(request)
            if not portal.list_visible_when_logged_out:
                raise ApplicationError(
                    "login_required",
                    _("Sign in to see the classes this business offers."),
                    status=401,
                )
            params = request.GET.copy()
            limit = _limit(params)
            for name in WIDGET_PARAMS:
                params.pop(name, None)
            params.pop("page", None)
            params.pop("page_size", None)
            params = _resolve_names(params)
            filters = parse_offering_filters(params)
        except ApplicationError as error:
            response = JsonResponse(error.as_dict(), status=error.status)
            for name, value in error.headers.items():
                response[name] = value
            response["Cache-Control"] = "no-store"
            return _cors(response)
        offerings = list(
            offering_search(filters=filters, visible_kinds=portal.shown_kinds())[: limit + 1]
        )
        more = len(offerings) > limit
        offerings = offerings[:limit]
        context = {
            "portal": portal,
            "currency": connection.tenant.currency,
            "availability": availability_for(offerings),
        }
        items = OfferingOutput(offerings, many=True, context=context).data
        origin = public_origin(request)  # the answer is cached publicly: no client-sent port
        for item in items:
            item["url"] = origin + reverse("portal-offering", kwargs={"offering_id": item["id"]})
        search = {k: v for k, v in params.items() if k in KNOWN and v}
        search_url = origin + reverse("portal-classes")
        if search:
            search_url += "?" + urlencode(search)
        body = {
            "business": {"name": connection.tenant.name, "url": origin + "/"},
            "language": translation.get_language(),
            "results": items,
            "more": more,
            "search_url": search_url,
            "labels": _labels(),
        }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    # Availability changes as families enroll; a minute of staleness keeps a popular page cheap.
    response["Cache-Control"] = "public, max-age=60"
    return _cors(response)


@require_http_methods(["GET", "OPTIONS"])
def embed_js(request):
    """The widget script. It carries this host's origin, so it works even when the browser
    does not expose ``document.currentScript`` (async loading)."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    messages = {}
    for code in LANG_CODES:
        with translation.override(code):
            messages[code] = {
                "loading": _("Loading classes…"),
                "failed": _("The class list could not be loaded."),
                "portal": _("See our classes on our portal"),
            }
    origin = public_origin(request)
    script = render_to_string(
        "portal_web/embed.js",
        {
            "origin_json": json.dumps(origin),
            "messages_json": json.dumps(messages, ensure_ascii=False),
            "default_lang_json": json.dumps(_language(request)),
        },
    )
    etag = '"' + hashlib.sha256(script.encode()).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    # Businesses paste the URL once; an hour keeps it fast and lets fixes roll out the same day.
    response["Cache-Control"] = "public, max-age=3600"
    return _cors(response)
