from django.shortcuts import render

from portal.config.selectors import portal_settings_get


def home(request):
    # A disabled portal never gets here (portal.config.middleware).
    portal = portal_settings_get(request)
    return render(request, "portal_web/home.html", {"tenant": request.tenant, "portal": portal})
