from django.shortcuts import render

from portal.config.selectors import portal_settings_get
from theming.services import theme_current


def home(request):
    # A disabled portal never gets here (portal.config.middleware).
    portal = portal_settings_get(request)
    theme = theme_current()
    logo_url = theme.snapshot.get("logo_url") if theme else ""
    return render(
        request,
        "portal_web/home.html",
        {"tenant": request.tenant, "portal": portal, "theme": theme, "logo_url": logo_url},
    )
