from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from kernel.seo import robots_response, sitemap_response

from .selectors import directory_list

# The root host's pages for platform admins and machines: not for search engines.
PLATFORM_PRIVATE_PREFIXES = ("/admin/", "/api/", "/console/", "/webhooks/")


def landing(request):
    tenants = [{"name": t.name, "url": t.url()} for t in directory_list()[:50]]
    return render(
        request,
        "tenants/landing.html",
        {"platform_domain": settings.PLATFORM_DOMAIN, "tenants": tenants},
    )


@require_safe
def robots_txt(request):
    return robots_response(
        request, disallow=PLATFORM_PRIVATE_PREFIXES, sitemap=reverse("platform-sitemap")
    )


@require_safe
def sitemap_xml(request):
    """The root host's one public page; each business's portal has its own sitemap."""
    return sitemap_response(request, [reverse("platform-landing")])
