"""Console pages for the front desk: enroll a student from the family's page (with an
override that needs a reason), take the money there (cash, cheque, a saved card) or leave it
owed; drop and transfer an enrollment; the classes' waitlists, an offer by hand and the order
of the line. Each view parses, checks ``manage_enrollments`` and calls one service."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from portal.billing.money import amount_format
from portal.enrollment import selectors as enrollment_selectors
from portal.enrollment import services as enrollment_services
from portal.orders.desk import desk_enroll
from portal.requests import staff as request_staff

from .access import console_page, methods
from .money_views import _error, _family_page


def _int(value, name: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ApplicationError("invalid_input", _("Choose one."), fields={name: [_("Choose one.")]})
    return number


def _refused(request, family_id: int, form: str, exc: ApplicationError):
    messages.error(request, exc.message)
    try:
        return _family_page(request, family_id, status=exc.status, form=form, values=request.POST)
    except ApplicationError as missing:
        return _error(request, "families", missing)


@methods("POST")
@console_page("manage_enrollments")
def family_enroll(request, family_id: int):
    post = request.POST
    try:
        method = post.get("saved_method_id", "")
        result = desk_enroll(
            family_id=family_id,
            student_id=_int(post.get("student_id"), "student_id"),
            offering_id=_int(post.get("offering_id"), "offering_id"),
            by=request.user,
            payment=post.get("payment", "owed"),
            reference=post.get("reference", "")[:100],
            saved_method_id=_int(method, "saved_method_id")
            if post.get("payment") == "card"
            else None,
            override_reason=post.get("override_reason", "")[:1000] if post.get("override") else "",
            note=post.get("note", "")[:2000],
        )
    except ApplicationError as exc:
        return _refused(request, family_id, "enroll", exc)
    currency = request.tenant.currency
    shown = f"{amount_format(result.amount, currency=currency)} {currency}"
    owed = f"{amount_format(result.owed, currency=currency)} {currency}"
    text = {
        "cash": _("Enrolled; %(amount)s paid in cash.") % {"amount": shown},
        "cheque": _("Enrolled; %(amount)s paid by cheque.") % {"amount": shown},
        "card": _("Enrolled; %(amount)s charged to the card.") % {"amount": shown},
        "credit": _("Enrolled; account credit paid %(amount)s.") % {"amount": shown},
        "free": _("Enrolled; nothing to pay."),
        "owed": _("Enrolled; %(amount)s is owed on the account.") % {"amount": owed},
    }[result.paid_with]
    messages.success(request, text)
    if result.card_error:
        messages.error(
            request,
            _("The card was not charged (%(why)s); %(amount)s is owed.")
            % {"why": result.card_error, "amount": owed},
        )
    return redirect(f"/console/families/{family_id}/")


def _family_of(enrollment_id: int) -> int:
    family_id = enrollment_selectors.enrollment_family_id(enrollment_id=enrollment_id)
    if family_id is None:
        raise Http404("No such enrollment.")
    return family_id


@methods("POST")
@console_page("manage_enrollments")
def enrollment_drop(request, enrollment_id: int):
    family_id = _family_of(enrollment_id)
    post = request.POST
    try:
        effective = None
        if post.get("effective_date"):
            try:
                effective = date.fromisoformat(post["effective_date"])
            except ValueError as exc:
                raise ApplicationError(
                    "invalid_input",
                    _("Give the last day as a date."),
                    fields={"effective_date": [_("Give the last day as a date.")]},
                ) from exc
        request_staff.enrollment_desk_drop(
            enrollment_id=enrollment_id,
            reason=post.get("reason", "")[:2000],
            by=request.user,
            effective_date=effective,
            credit_unused=bool(post.get("credit_unused")),
            note=post.get("note", "")[:2000],
        )
    except ApplicationError as exc:
        return _refused(request, family_id, f"drop-{enrollment_id}", exc)
    messages.success(request, _("Dropped; the family is told."))
    return redirect(f"/console/families/{family_id}/")


@methods("POST")
@console_page("manage_enrollments")
def enrollment_transfer(request, enrollment_id: int):
    family_id = _family_of(enrollment_id)
    try:
        request_staff.enrollment_desk_transfer(
            enrollment_id=enrollment_id,
            offering_id=_int(request.POST.get("offering_id"), "offering_id"),
            by=request.user,
            note=request.POST.get("note", "")[:2000],
        )
    except ApplicationError as exc:
        return _refused(request, family_id, f"transfer-{enrollment_id}", exc)
    messages.success(request, _("Transferred; the family is told."))
    return redirect(f"/console/families/{family_id}/")


@methods("GET")
@console_page("manage_enrollments")
def waitlists(request):
    return render(
        request,
        "portal_console/waitlists.html",
        {"nav": "waitlists", "offerings": list(enrollment_selectors.offerings_with_waitlists())},
    )


def _waitlist_page(request, offering_id: int, status: int = 200, values=None):
    offering = enrollment_selectors.offering_for_staff(offering_id=offering_id)
    if offering is None:
        raise Http404("No such class.")
    return render(
        request,
        "portal_console/waitlist.html",
        {
            "nav": "waitlists",
            "offering": offering,
            "entries": enrollment_selectors.waitlist_for_offering(offering_id=offering_id),
            "values": values or {},
        },
        status=status,
    )


@methods("GET")
@console_page("manage_enrollments")
def waitlist(request, offering_id: int):
    return _waitlist_page(request, offering_id)


def _entry_offering(entry_id: int) -> int:
    offering_id = enrollment_selectors.waitlist_entry_offering_id(entry_id=entry_id)
    if offering_id is None:
        raise Http404("No such waitlist entry.")
    return offering_id


@methods("POST")
@console_page("manage_enrollments")
def waitlist_offer(request, entry_id: int):
    offering_id = _entry_offering(entry_id)
    try:
        enrollment_services.waitlist_staff_offer(
            entry_id=entry_id,
            by=request.user,
            override_reason=request.POST.get("override_reason", "")[:1000],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _waitlist_page(request, offering_id, status=exc.status, values=request.POST)
    messages.success(request, _("Seat offered; the family is emailed."))
    return redirect(f"/console/waitlists/{offering_id}/")


@methods("POST")
@console_page("manage_enrollments")
def waitlist_move(request, entry_id: int):
    offering_id = _entry_offering(entry_id)
    try:
        enrollment_services.waitlist_staff_move(
            entry_id=entry_id,
            position=_int(request.POST.get("position"), "position"),
            by=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _waitlist_page(request, offering_id, status=exc.status)
    messages.success(request, _("The waitlist's order is changed."))
    return redirect(f"/console/waitlists/{offering_id}/")
