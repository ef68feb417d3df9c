"""The online activity inbox: what families did online, newest first, filtered by kind,
status, family and dates; staff mark items processed (or back), each change audited."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.activity import selectors, services
from portal.activity.models import ActivityItem

from .access import console_page, methods

PAGE_SIZE = 100


def _family_id(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise ApplicationError(
            "invalid_filter", _("Pick a family."), fields={"family": [_("Pick a family.")]}
        )
    return int(value)


@methods("GET")
@console_page("view_families")
def activity(request):
    get = request.GET
    filters = {
        "kind": get.get("kind", "")[:30],
        "status": get.get("status", "unprocessed")[:20],
        "since": get.get("since", "")[:10],
        "until": get.get("until", "")[:10],
        "family": get.get("family", "")[:12],
    }
    error, items = None, []
    try:
        found = selectors.activity_list(
            kind=filters["kind"],
            status=filters["status"],
            family_id=_family_id(filters["family"]),
            since=filters["since"],
            until=filters["until"],
        )
        items = list(found[:PAGE_SIZE])
    except ApplicationError as exc:
        error = exc
    trails = selectors.activity_trails(items)
    return render(
        request,
        "portal_console/activity.html",
        {
            "nav": "activity",
            "items": [{"item": item, "trail": trails[item.pk]} for item in items],
            "kinds": ActivityItem.Kind.choices,
            "filters": filters,
            "error": error,
            "query": request.GET.urlencode(),
        },
        status=error.status if error else 200,
    )


@methods("POST")
@console_page("view_families")
def activity_mark(request, item_id: int):
    processed = request.POST.get("processed", "")
    back = request.POST.get("next", "")
    if not (
        back.startswith("/console/activity/")
        and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = "/console/activity/"
    try:
        if processed not in ("1", "0"):
            raise ApplicationError(
                "invalid_input",
                _("Mark it processed or not."),
                fields={"processed": [_("Mark it processed or not.")]},
            )
        services.activity_mark(item_id=item_id, processed=processed == "1", by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return render(
            request,
            "portal_console/error.html",
            {"nav": "activity", "error": exc},
            status=exc.status,
        )
    messages.success(
        request, _("Marked processed.") if processed == "1" else _("Marked not processed.")
    )
    return redirect(back)


@methods("GET")
@console_page("view_families")
def unsigned_policies(request):
    """Families with a live enrollment who still have a policy to accept (the dashboard's
    count opens this list)."""
    from portal.staff.selectors import families_with_unsigned_policies

    return render(
        request,
        "portal_console/unsigned_policies.html",
        {"nav": "families", "rows": families_with_unsigned_policies()},
    )
