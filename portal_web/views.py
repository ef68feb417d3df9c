from django.shortcuts import render

from portal.config.selectors import portal_settings_get


def home(request):
    portal = portal_settings_get()
    if not portal.portal_enabled:
        return render(
            request, "portal_web/unavailable.html", {"tenant": request.tenant}, status=503
        )
    return render(request, "portal_web/home.html", {"tenant": request.tenant, "portal": portal})
