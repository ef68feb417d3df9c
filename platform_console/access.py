"""Who may open a platform console page: a signed-in platform admin (a staff user of the public
schema). The console's URLs exist only in the root host's URL map, so no tenant host reaches
them, and a tenant's staff session means nothing here (their users live in their schema)."""

from __future__ import annotations

from functools import wraps

from django.db import connection
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django_tenants.utils import get_public_schema_name


def is_platform_admin(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_staff
        and connection.schema_name == get_public_schema_name()
    )


def platform_page(*allowed_methods: str):
    """Declare a console view: the methods it answers (others 405) and that it is for
    platform admins (anyone else signed in: 403; nobody signed in: the sign-in page)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect("/console/login/?" + urlencode({"next": request.get_full_path()}))
            if not is_platform_admin(user):
                return render(request, "platform_console/forbidden.html", {"nav": ""}, status=403)
            return view(request, *args, **kwargs)

        wrapped = require_http_methods(list(allowed_methods))(wrapper)
        wrapped.platform_methods = allowed_methods
        wrapped.platform_admin_only = True
        return wrapped

    return decorate
