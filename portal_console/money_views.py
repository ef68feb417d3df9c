"""Console pages for families and money: find a family, its page with the actions staff take
on its account (charge, credit, offline payment, refund, resend a receipt or an invitation),
aged receivables, and reports with their CSV download.

Views parse, check the named permission (``@console_page``), call one service or selector and
render. Amounts are typed and shown in the currency (``portal.billing.money``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.errors import ApplicationError
from kernel.staff_permissions import perm, staff_has_perm
from portal.accounts.photos import (
    student_initials,
    student_photo_remove,
    student_photo_upload,
    student_photo_url,
)
from portal.billing import staff as money
from portal.billing.models import StaffPosting
from portal.billing.money import amount_format, amount_parse
from portal.billing.receivables import BUCKET_LABELS, BUCKETS, receivables_aged
from portal.enrollment.selectors import offerings_for_desk
from portal.families import selectors as families
from portal.families import services as family_services
from portal.photos import MAX_PHOTO_BYTES
from portal.reports.selectors import REPORTS, report_run

from .access import console_page, methods

REPORT_TITLES = {
    "enrollment": gettext_lazy("Enrollment"),
    "fill-rate": gettext_lazy("Fill rate"),
    "revenue": gettext_lazy("Revenue by month"),
    "waitlist": gettext_lazy("Waitlist demand"),
    "drops": gettext_lazy("Drops with reasons"),
    "attendance": gettext_lazy("Attendance"),
}


def _error(request, nav: str, exc: ApplicationError):
    context = {"nav": nav, "error": exc}
    return render(request, "portal_console/error.html", context, status=exc.status)


def _fmt(request, amount: int) -> str:
    return f"{amount_format(amount, currency=request.tenant.currency)} {request.tenant.currency}"


@methods("GET")
@console_page("view_families")
def family_search(request):
    query = request.GET.get("q", "")[:200]
    results, error = None, None
    if query.strip():
        try:
            results = [
                {"family": f, "balance": _fmt(request, f.balance), "owes": f.balance > 0}
                for f in families.family_search(query=query)
            ]
        except ApplicationError as exc:
            error = exc
    return render(
        request,
        "portal_console/families.html",
        {"nav": "families", "q": query, "results": results, "error": error},
        status=error.status if error else 200,
    )


def _family_page(request, family_id: int, *, status: int = 200, form: str = "", values=None):
    view = families.family_overview(family_id=family_id)
    can = {
        name: staff_has_perm(request.user, perm(name))
        for name in (
            "take_payment",
            "post_credit",
            "refund_payment",
            "resend_emails",
            "manage_enrollments",
            "manage_student_photos",
        )
    }
    ledger = view["ledger"]
    entries = [
        {
            **e,
            "amount_display": _fmt(request, e["amount"]),
            "balance_display": _fmt(request, e["balance"]),
        }
        for e in reversed(ledger["entries"])
    ]
    payments = [
        {
            **p,
            "amount_display": _fmt(request, p["payment"].amount),
            "refunded_display": _fmt(request, p["payment"].amount_refunded),
            "refundable_display": amount_format(p["refundable"], currency=request.tenant.currency),
        }
        for p in view["payments"]
    ]
    return render(
        request,
        "portal_console/family.html",
        {
            "nav": "families",
            **view,
            "entries": entries,
            "payments": payments,
            "balance_display": _fmt(request, ledger["balance"]),
            "past_due_display": _fmt(request, ledger["past_due"]),
            "owes": ledger["balance"] > 0,
            "can": can,
            "methods": StaffPosting.Method.choices,
            "currency": request.tenant.currency,
            "form": form,
            "values": values or {},
            "desk_offerings": list(offerings_for_desk()) if can["manage_enrollments"] else [],
            "student_cards": [
                {"student": s, "photo_url": student_photo_url(s), "initials": student_initials(s)}
                for s in view["students"]
            ],
        },
        status=status,
    )


@methods("GET")
@console_page("view_families")
def family_detail(request, family_id: int):
    try:
        return _family_page(request, family_id)
    except ApplicationError as exc:
        return render(
            request,
            "portal_console/error.html",
            {"nav": "families", "error": exc},
            status=exc.status,
        )


def _act(request, family_id: int, form: str, action, success: str):
    """Run one money action from a family page's form; on refusal show the page again with the
    message and what was typed (nothing changed), else go back to it."""
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
        try:
            return _family_page(
                request, family_id, status=exc.status, form=form, values=request.POST
            )
        except ApplicationError as missing:
            return _error(request, "families", missing)
    messages.success(request, success)
    return redirect(f"/console/families/{family_id}/")


@methods("POST")
@console_page("manage_student_photos")
def family_student_photo(request, family_id: int, student_id: int):
    """Upload a student's photo (``photo``, multipart) or remove it (``action=remove``)."""

    def act():
        if request.POST.get("action") == "remove":
            student_photo_remove(family_id=family_id, student_id=student_id)
            return
        upload = request.FILES.get("photo")
        if upload is not None and upload.size > MAX_PHOTO_BYTES:
            message = _("Images may be at most 5 MB.")
            raise ApplicationError("image_too_large", message, fields={"photo": [message]})
        student_photo_upload(
            family_id=family_id,
            student_id=student_id,
            name=upload.name if upload else "",
            data=upload.read() if upload else b"",
        )

    removed = request.POST.get("action") == "remove"
    return _act(
        request,
        family_id,
        f"photo-{student_id}",
        act,
        _("Photo removed.") if removed else _("Photo saved."),
    )


def _amount(request, name: str = "amount") -> int:
    return amount_parse(request.POST.get(name, ""), currency=request.tenant.currency)


def _text(request, name: str, limit: int) -> str:
    return request.POST.get(name, "")[: limit + 1]  # the service refuses what is too long


@methods("POST")
@console_page("take_payment")
def family_charge(request, family_id: int):
    return _act(
        request,
        family_id,
        "charge",
        lambda: money.ledger_charge_post(
            family_id=family_id,
            amount=_amount(request),
            description=_text(request, "description", 255),
            note=_text(request, "note", 2000),
            by=request.user,
            idempotency_key=_text(request, "idempotency_key", 64),
        ),
        _("Charge posted."),
    )


@methods("POST")
@console_page("post_credit")
def family_credit(request, family_id: int):
    return _act(
        request,
        family_id,
        "credit",
        lambda: money.ledger_credit_post(
            family_id=family_id,
            amount=_amount(request),
            description=_text(request, "description", 255),
            note=_text(request, "note", 2000),
            by=request.user,
            idempotency_key=_text(request, "idempotency_key", 64),
        ),
        _("Credit given."),
    )


@methods("POST")
@console_page("take_payment")
def family_payment(request, family_id: int):
    return _act(
        request,
        family_id,
        "payment",
        lambda: money.offline_payment_record(
            family_id=family_id,
            amount=_amount(request),
            method=request.POST.get("method", ""),
            reference=_text(request, "reference", 100),
            note=_text(request, "note", 2000),
            by=request.user,
            idempotency_key=_text(request, "idempotency_key", 64),
        ),
        _("Payment recorded."),
    )


@methods("POST")
@console_page("refund_payment")
def family_refund(request, family_id: int, payment_id: int):
    raw = request.POST.get("amount", "").strip()
    return _act(
        request,
        family_id,
        f"refund-{payment_id}",
        lambda: money.staff_payment_refund(
            family_id=family_id,
            payment_id=payment_id,
            amount=_amount(request) if raw else None,
            reason=_text(request, "reason", 255),
            by=request.user,
        ),
        _("Refund sent to the card."),
    )


@methods("POST")
@console_page("resend_emails")
def family_receipt(request, family_id: int, entry_id: int):
    return _act(
        request,
        family_id,
        "",
        lambda: money.receipt_resend(family_id=family_id, entry_id=entry_id, by=request.user),
        _("Receipt emailed again."),
    )


@methods("POST")
@console_page("resend_emails")
def family_invite(request, family_id: int, guardian_id: int):
    return _act(
        request,
        family_id,
        "",
        lambda: family_services.guardian_invite_resend(
            family_id=family_id, guardian_id=guardian_id, by=request.user
        ),
        _("Invitation emailed again."),
    )


@methods("GET")
@console_page("view_money")
def receivables(request):
    aged = receivables_aged()
    rows = [
        {
            **row,
            "cells": [_fmt(request, row[key]) for key in BUCKETS],
            "total_display": _fmt(request, row["total"]),
        }
        for row in aged["families"]
    ]
    return render(
        request,
        "portal_console/receivables.html",
        {
            "nav": "receivables",
            "aged": aged,
            "rows": rows,
            "labels": [BUCKET_LABELS[key] for key in BUCKETS],
            "totals": [_fmt(request, aged["totals"][key]) for key in BUCKETS],
            "total": _fmt(request, aged["totals"]["total"]),
        },
    )


@methods("GET")
@console_page("view_reports")
def report(request, name: str = "enrollment"):
    params = request.GET.dict()
    try:
        result = report_run(name=name, params=params)
        error = None
    except ApplicationError as exc:
        result, error = None, exc
    table = None
    if result is not None:
        table = [[result.cell(row, c) for c in result.columns] for row in result.rows]
    return render(
        request,
        "portal_console/reports.html",
        {
            "nav": "reports",
            "name": name,
            "reports": [(key, REPORT_TITLES[key]) for key in REPORTS],
            "report": result,
            "table": table,
            "params": params,
            "query": request.GET.urlencode(),
            "error": error,
        },
        status=error.status if error else 200,
    )


@methods("GET")
@console_page("view_reports")
def report_csv(request, name: str):
    try:
        result = report_run(name=name, params=request.GET.dict())
    except ApplicationError as exc:
        return render(
            request,
            "portal_console/error.html",
            {"nav": "reports", "error": exc},
            status=exc.status,
        )
    response = HttpResponse(result.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{result.name}.csv"'
    return response


@methods("GET")
@console_page("view_money")
def autopay(request):
    from portal.orders.autopay_runs import autopay_charges_retryable, autopay_runs_list

    runs = [
        {
            **run,
            "amount_display": _fmt(request, run["amount"]),
            "failed_display": _fmt(request, run["failed_amount"]),
        }
        for run in autopay_runs_list()
    ]
    failing = [
        {"charge": c, "amount_display": _fmt(request, c.amount)}
        for c in autopay_charges_retryable(limit=200)
    ]
    return render(
        request,
        "portal_console/autopay.html",
        {
            "nav": "autopay",
            "runs": runs,
            "failing": failing,
            "can_retry": staff_has_perm(request.user, perm("take_payment")),
        },
    )


@methods("POST")
@console_page("take_payment")
def autopay_retry(request, charge_id: int):
    from portal.orders.autopay_runs import autopay_retry as retry

    # Back to the page the retry was asked from: the autopay runs or the failed payments.
    back = request.POST.get("next", "")
    if not back.startswith(("/console/autopay/", "/console/payments/failed/")) or not (
        url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = "/console/autopay/"
    try:
        charge = retry(charge_id=charge_id, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if charge.status == charge.Status.SUCCEEDED:
        messages.success(request, _("The card was charged."))
    else:
        messages.error(
            request,
            _("The card was not charged: %(reason)s") % {"reason": charge.last_error or "—"},
        )
    return redirect(back)


@methods("GET")
@console_page("view_payouts")
def payouts(request):
    from portal.billing.stripe_reports import balance_transactions_list, payouts_list

    refresh = request.GET.get("refresh") == "1"
    try:
        listed = payouts_list(limit=20, refresh=refresh)
        fees = balance_transactions_list(limit=100, refresh=refresh)["totals"]
        error = None
    except ApplicationError as exc:
        listed, fees, error = None, None, exc
    rows = [
        {**p, "amount_display": f"{amount_format(p['amount'], currency=p['currency'])} "
         f"{p['currency']}"}
        for p in (listed or {}).get("payouts", [])
    ]  # fmt: skip
    return render(
        request,
        "portal_console/payouts.html",
        {
            "nav": "payouts",
            "payouts": rows,
            "fees": {k: _fmt(request, v) for k, v in fees.items()} if fees else None,
            "error": error,
        },
        status=200 if error is None or error.status < 500 else 502,
    )
