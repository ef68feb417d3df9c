"""Who may open a console page: signed-in staff of this business holding the page's named
permission (kernel/staff_permissions.py). Every console view is declared with
``@console_page("<codename>")``; the role matrix test reads ``view.console_permission``."""

from __future__ import annotations

from functools import wraps

from django.shortcuts import redirect, render
from django.utils.http import urlencode

from kernel.staff_permissions import perm, staff_has_perm


def console_page(*codenames: str, any_of: bool = False):
    """Declare a console view's permission(s): all of them (default) or ``any_of``."""
    names = tuple(perm(codename) for codename in codenames)

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect("/console/login/?" + urlencode({"next": request.get_full_path()}))
            check = any if any_of else all
            if not user.is_staff or not check(staff_has_perm(user, name) for name in names):
                return render(
                    request,
                    "portal_console/forbidden.html",
                    {"needed": names, "nav": ""},
                    status=403,
                )
            return view(request, *args, **kwargs)

        wrapper.console_permission = names
        wrapper.console_any_of = any_of
        return wrapper

    return decorate


def methods(*allowed: str):
    """The HTTP methods a console view answers (others: 405), recorded on the view so the
    role matrix test knows what to try."""
    from django.views.decorators.http import require_http_methods

    def decorate(view):
        wrapped = require_http_methods(list(allowed))(view)
        wrapped.console_methods = allowed
        return wrapped

    return decorate
