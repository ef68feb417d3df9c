from django.conf import settings
from django.shortcuts import render

from .selectors import directory_list


def landing(request):
    tenants = [{"name": t.name, "url": t.url()} for t in directory_list()[:50]]
    return render(
        request,
        "tenants/landing.html",
        {"platform_domain": settings.PLATFORM_DOMAIN, "tenants": tenants},
    )
