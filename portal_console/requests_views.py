"""Families' requests (absences, makeups, transfers, drops) for staff to read and decide: a
filtered list, one request's page, and the decision, through the same service as the staff API
and the Django admin (``portal.requests.services.request_decide``). The failed card payments
the dashboard counts, with a retry where autopay can charge the card again."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.staff_permissions import perm, staff_has_perm
from portal.billing.money import amount_format
from portal.orders.selectors import payments_failed_list
from portal.requests import selectors, services
from portal.requests.models import Request

from .access import console_page, methods

PAGE_SIZE = 100


def _fmt(request, amount: int) -> str:
    return f"{amount_format(amount, currency=request.tenant.currency)} {request.tenant.currency}"


def _difference(request, req: Request) -> str:
    """A transfer's prorated price difference in words, in the currency."""
    if req.type != Request.Type.TRANSFER or not req.price_difference:
        return ""
    if req.price_difference > 0:
        return _("The family owes %(amount)s more (an invoice on approval).") % {
            "amount": _fmt(request, req.price_difference)
        }
    return _("%(amount)s goes back to the family as account credit on approval.") % {
        "amount": _fmt(request, -req.price_difference)
    }


@methods("GET")
@console_page("view_requests")
def requests_list(request):
    get = request.GET
    filters = {
        "status": get.get("status", "pending")[:20] or "pending",
        "type": get.get("type", "")[:20],
        "offering": get.get("offering", "")[:12],
        "since": get.get("since", "")[:10],
        "until": get.get("until", "")[:10],
    }
    error, rows = None, []
    try:
        found = selectors.staff_request_list(
            status=filters["status"],
            type=filters["type"],
            offering=filters["offering"],
            since=filters["since"],
            until=filters["until"],
        )
        rows = [{"req": req, "difference": _difference(request, req)} for req in found[:PAGE_SIZE]]
    except ApplicationError as exc:
        error = exc
    return render(
        request,
        "portal_console/requests.html",
        {
            "nav": "requests",
            "rows": rows,
            "more": len(rows) == PAGE_SIZE,
            "filters": filters,
            "statuses": [
                ("pending", _("To decide")),
                ("approved", _("Approved")),
                ("denied", _("Denied")),
                ("cancelled", _("Cancelled")),
                ("all", _("All")),
            ],
            "types": Request.Type.choices,
            "offerings": selectors.staff_request_offerings(),
            "error": error,
        },
        status=error.status if error else 200,
    )


def _detail_page(request, req: Request, *, status: int = 200, note: str = "", error=None):
    return render(
        request,
        "portal_console/request.html",
        {
            "nav": "requests",
            "req": req,
            "difference": _difference(request, req),
            "can_decide": staff_has_perm(request.user, perm("decide_request")),
            "note": note,
            "error": error,
        },
        status=status,
    )


@methods("GET")
@console_page("view_requests")
def request_detail(request, request_id: int):
    try:
        req = selectors.staff_request_get(request_id=request_id)
    except ApplicationError as exc:
        return render(
            request,
            "portal_console/error.html",
            {"nav": "requests", "error": exc},
            status=exc.status,
        )
    return _detail_page(request, req)


@methods("POST")
@console_page("decide_request")
def request_decide(request, request_id: int):
    """``decision=approve|deny`` with ``note`` (the reason, required to deny). A refusal shows
    the request again with the message and what was typed, and changes nothing."""
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")[:4000]
    try:
        if decision not in ("approve", "deny"):
            raise ApplicationError(
                "invalid_input",
                _("Choose approve or deny."),
                fields={"decision": [_("Choose approve or deny.")]},
            )
        req = services.request_decide(
            request_id=request_id, approve=decision == "approve", note=note, by=request.user
        )
    except ApplicationError as exc:
        try:
            req = selectors.staff_request_get(request_id=request_id)
        except ApplicationError:
            return render(
                request,
                "portal_console/error.html",
                {"nav": "requests", "error": exc},
                status=exc.status,
            )
        return _detail_page(request, req, status=exc.status, note=note, error=exc)
    if req.status == Request.Status.APPROVED:
        messages.success(request, _("Request approved; the family is told."))
    else:
        messages.success(request, _("Request denied; the family is told why."))
    return redirect(f"/console/requests/{req.pk}/")


@methods("GET")
@console_page("view_money")
def payments_failed(request):
    """Card payments that failed in the last ``days`` (30 by default, the dashboard's count),
    each with what it was for, why, and what became of the bill since."""
    days = request.GET.get("days", "30")[:4]
    error, rows = None, []
    try:
        rows = [
            {**row, "amount_display": _fmt(request, row["payment"].amount)}
            for row in payments_failed_list(days=days)
        ]
    except ApplicationError as exc:
        error = exc
    return render(
        request,
        "portal_console/payments_failed.html",
        {
            "nav": "autopay",
            "rows": rows,
            "days": days,
            "day_choices": ("7", "30", "90", "365"),
            "can_retry": staff_has_perm(request.user, perm("take_payment")),
            "error": error,
        },
        status=error.status if error else 200,
    )
