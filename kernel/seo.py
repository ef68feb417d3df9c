"""robots.txt and sitemap.xml answers, for every host the platform serves: each business's
portal host (portal_web.seo) and the platform's own root host (tenants.views). Search engines
read them, and Lighthouse's SEO audit fetches /robots.txt (tests/bench/lighthouse.py)."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse

# Both change rarely (a new class, a new business): an hour in any cache is fine.
CACHE_CONTROL = "public, max-age=3600"
# The sitemap protocol's limit of URLs in one file.
SITEMAP_MAX_URLS = 50_000


def robots_response(request: HttpRequest, *, disallow: Iterable[str], sitemap: str) -> HttpResponse:
    """Every crawler may read the host except the ``disallow`` path prefixes; the sitemap is
    named by its absolute URL on the host asked (a custom domain names itself)."""
    lines = ["User-agent: *"]
    lines += [f"Disallow: {prefix}" for prefix in disallow]
    lines += ["", f"Sitemap: {request.build_absolute_uri(sitemap)}"]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = CACHE_CONTROL
    return response


def sitemap_response(request: HttpRequest, paths: Iterable[str]) -> HttpResponse:
    """A sitemap of ``paths`` (at most SITEMAP_MAX_URLS) as absolute URLs on the host asked."""
    entries = []
    for count, path in enumerate(paths):
        if count == SITEMAP_MAX_URLS:
            break
        entries.append(f"  <url><loc>{escape(request.build_absolute_uri(path))}</loc></url>")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(entry + "\n" for entry in entries)
        + "</urlset>\n"
    )
    response = HttpResponse(body, content_type="application/xml; charset=utf-8")
    response["Cache-Control"] = CACHE_CONTROL
    return response
