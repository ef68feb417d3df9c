"""/theme.css on every tenant host: the published theme as CSS custom properties, cached for a
year under a versioned URL (the ETag is the tokens' hash; revalidation answers 304)."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from kernel.staff_permissions import perm, staff_has_perm
from theming.emitters import css
from theming.services import theme_current, theme_preview_tokens


@require_GET
def theme_css(request):
    user = getattr(request, "user", None)
    if request.GET.get("preview") and staff_has_perm(user, perm("edit_theme")):
        response = HttpResponse(css(theme_preview_tokens(), 0), content_type="text/css")
        response["Cache-Control"] = "no-store"
        return response
    version = theme_current()
    if version is None:
        return HttpResponse("/* no theme published */\n", content_type="text/css", status=404)
    etag = f'"{version.etag}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(css(version.tokens, version.number), content_type="text/css")
    response["ETag"] = etag
    if request.GET.get("v") == str(version.number):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=60, must-revalidate"
    return response
