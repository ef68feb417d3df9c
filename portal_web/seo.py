"""/robots.txt and /sitemap.xml on a business's portal host.

robots.txt keeps crawlers out of what is for machines or for staff (the API, the console, the
admin, the website widget's data, the language switch, the waiting room's status), and out of
the links that carry a secret (calendar feeds, set-password and reset links). The family's own
pages (cart, account, billing...) stay allowed: a crawler is sent to the sign-in page there, and
a ``Disallow`` would make Lighthouse call those pages "blocked from indexing" (SEO 66, measured:
docs/web.md, "Lighthouse").

The sitemap lists home, the staff page and, when the business lets visitors browse classes
(``list_visible_when_logged_out``), the class list and every published class that has not
ended."""

from __future__ import annotations

from django.urls import reverse
from django.views.decorators.http import require_safe

from kernel.seo import SITEMAP_MAX_URLS, robots_response, sitemap_response
from portal.catalog.selectors import offering_public_ids
from portal.config.selectors import portal_settings_get

PRIVATE_PREFIXES = (
    "/account/reset/",
    "/account/set-password/",
    "/admin/",
    "/api/",
    "/calendar/",
    "/console/",
    "/embed/",
    "/i18n/",
    "/waiting-room/",
)


@require_safe
def robots_txt(request):
    return robots_response(request, disallow=PRIVATE_PREFIXES, sitemap=reverse("portal-sitemap"))


@require_safe
def sitemap_xml(request):
    portal = portal_settings_get(request)
    paths = [reverse("portal-home"), reverse("portal-staff")]
    if portal.list_visible_when_logged_out:
        paths.append(reverse("portal-classes"))
        ids = offering_public_ids(
            visible_kinds=portal.shown_kinds(), limit=SITEMAP_MAX_URLS - len(paths)
        )
        paths += [reverse("portal-offering", args=[pk]) for pk in ids]
    return sitemap_response(request, paths)
