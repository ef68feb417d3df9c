"""Reads for staff: finding a family and its overview."""

from __future__ import annotations

import re

from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from kernel.errors import ApplicationError
from portal.accounts.models import Family, Guardian, Student
from portal.billing.models import AutopayCharge, LedgerEntry, Payment, Refund, StaffPosting
from portal.billing.selectors import ledger_get, payment_method_list
from portal.enrollment.models import Enrollment, WaitlistEntry
from portal.requests.models import Request

from .errors import family_not_found

SEARCH_MIN, SEARCH_MAX, SEARCH_LIMIT = 2, 100, 50
_DIGITS = re.compile(r"\D")


def _balance_subquery() -> Coalesce:
    return Coalesce(
        Subquery(
            LedgerEntry.objects.filter(family=OuterRef("pk"))
            .values("family")
            .annotate(total=Sum("amount"))
            .values("total")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def family_search(*, query: str, limit: int = SEARCH_LIMIT) -> QuerySet[Family]:
    """Families matching every word of ``query`` in the family's name, a guardian's name,
    email or phone (digits compared, whatever the punctuation) or a student's name; most
    relevant first is not attempted: alphabetical, at most ``limit``. Each family carries
    ``balance`` (minor units, positive: owed)."""
    text = query.strip() if isinstance(query, str) else ""
    if "\x00" in text or not SEARCH_MIN <= len(text) <= SEARCH_MAX:
        raise ApplicationError(
            "invalid_search",
            f"Type {SEARCH_MIN} to {SEARCH_MAX} characters of a name, an email or a phone.",
            fields={"q": [f"{SEARCH_MIN} to {SEARCH_MAX} characters."]},
        )
    families = Family.objects.all()
    for word in text.split()[:6]:
        guardians = Guardian.objects.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
        digits = _DIGITS.sub("", word)
        if len(digits) >= 3 and len(digits) >= len(word) // 2:
            guardians = guardians | Guardian.objects.annotate(
                phone_digits=Func(
                    F("phone"), Value(r"\D"), Value(""), Value("g"), function="regexp_replace"
                )
            ).filter(phone_digits__contains=digits)
        students = Student.objects.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
        families = families.filter(
            Q(name__icontains=word)
            | Q(pk__in=guardians.values("family_id"))
            | Q(pk__in=students.values("family_id"))
        )
    return (
        families.annotate(balance=_balance_subquery())
        .prefetch_related("guardians", "students")
        .order_by("name", "pk")[:limit]
    )


def family_overview(*, family_id: int) -> dict:
    """Everything staff need on one family's page: guardians (and whether each has chosen a
    password), students, enrollments, requests, waitlist entries, the whole ledger with its
    balance and past-due part, saved cards, card payments with what is left to refund, staff
    postings and autopay charges. Medical notes are not part of it (their own permission)."""
    family = (
        Family.objects.prefetch_related("guardians__user", "students__level")
        .filter(pk=family_id)
        .first()
    )
    if family is None:
        raise family_not_found()
    pending_refunds = Subquery(
        Refund.objects.filter(payment=OuterRef("pk"), status=Refund.Status.PENDING)
        .values("payment")
        .annotate(total=Sum("amount"))
        .values("total")[:1],
        output_field=IntegerField(),
    )
    payments = (
        Payment.objects.filter(family=family)
        .annotate(refund_pending=Coalesce(pending_refunds, Value(0)))
        .order_by("-created_at", "-pk")
    )
    return {
        "family": family,
        "guardians": [
            {
                "guardian": g,
                "has_login": g.user_id is not None and g.user is not None,
                "password_set": bool(g.user and g.user.has_usable_password()),
            }
            for g in family.guardians.all()
        ],
        "students": list(family.students.all()),
        # Answers to the business's own signup questions (Settings > Signup questions).
        "signup_answers": list(family.signup_answers.all()),
        "enrollments": list(
            Enrollment.objects.filter(family=family)
            .select_related("student", "offering__program")
            .order_by("-start_date", "-pk")
        ),
        "waitlist": list(
            WaitlistEntry.objects.filter(family=family, status__in=WaitlistEntry.LIVE)
            .select_related("student", "offering")
            .order_by("created_at")
        ),
        "requests": list(
            Request.objects.filter(family=family)
            .select_related("student", "enrollment__offering", "target_offering")
            .order_by("-created_at", "-pk")[:50]
        ),
        "ledger": ledger_get(family=family, period="all"),
        "payment_methods": list(payment_method_list(family=family)),
        "payments": [
            {
                "payment": p,
                "refundable": max(p.amount - p.amount_refunded - p.refund_pending, 0)
                if p.status == Payment.Status.SUCCEEDED
                else 0,
            }
            for p in payments
        ],
        "postings": list(StaffPosting.objects.filter(family=family).order_by("-created_at")[:50]),
        "autopay": list(
            AutopayCharge.objects.filter(family=family).order_by("-created_at", "-pk")[:24]
        ),
    }
