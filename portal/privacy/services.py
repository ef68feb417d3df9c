"""A family's data rights: export everything the business holds about it, ask to be forgotten,
and (staff) complete that request.

Completing a deletion anonymises the family's personal data — names, emails, phones, address,
students' dates of birth, medical notes and photos (the files deleted), emergency contacts,
signatures, logins — and keeps
its money history: orders, order lines, payments and ledger entries keep every amount, so every
balance and report stays what it was (only the student's first name is taken out of their
descriptions). The family row stays (pseudonymised) because those rows
point at it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, F, Func, QuerySet, Value
from django.utils import timezone

from kernel.errors import ApplicationError
from kernel.users.models import ApiToken, User
from portal.accounts.models import (
    CalendarFeed,
    EmergencyContact,
    Family,
    Guardian,
    PolicyAcceptance,
    Student,
)
from portal.accounts.photos import student_photos_export, student_photos_forget
from portal.billing.models import LedgerEntry, Payment, SavedPaymentMethod
from portal.enrollment.models import Enrollment, Hold, Order, OrderLine, WaitlistEntry
from portal.requests.models import MakeupToken, Request
from portal.store.models import GiftCertificate, PunchPass

from .audit import audit_record
from .models import DeletionRequest

EXPORT_VERSION = 1
# Never exported: secrets that would let someone act as the family, not data about it.
_SECRET_FIELDS = {"client_secret", "password", "key_hash", "token", "idempotency_key"}


def _rows(queryset: QuerySet[Any]) -> list[dict]:
    model = queryset.model
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in _SECRET_FIELDS]
    return list(queryset.order_by("pk").values(*names))


SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"


def family_export(*, family: Family) -> dict:
    """Everything the business holds about the family, as plain JSON-able data.

    Every table is read in one REPEATABLE READ READ ONLY transaction: one snapshot, so writes
    committing meanwhile (a payment, a hold expiring, a contact added) can neither make the
    export fail nor mix rows from before and after them (under READ COMMITTED each query saw
    its own moment: an order line without its order, a balance without its entry). Called
    inside a caller's transaction, the caller's snapshot rules apply (``SET TRANSACTION`` must
    open a transaction). The audit entry is written after, outside the read-only transaction."""
    if connection.in_atomic_block:
        data = _export_read(family.pk)
    else:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(SNAPSHOT)
            data = _export_read(family.pk)
    # The photos' files are read after the snapshot (storage may be S3: no network call inside
    # the transaction), for the students the snapshot saw.
    data["student_photos"] = student_photos_export(
        [Student(pk=row["id"], photo=row["photo"]) for row in data["students"]]
    )
    audit_record(action="export", obj=family, family_id=family.pk)
    return data


def _export_read(family_id: int) -> dict:
    students = Student.objects.filter(family_id=family_id)
    guardians = Guardian.objects.filter(family_id=family_id)
    logins = User.objects.filter(guardian__family_id=family_id)
    data = {
        "format": "saas-platform-family-export",
        "version": EXPORT_VERSION,
        "exported_at": timezone.now(),
        "family": _rows(Family.objects.filter(pk=family_id))[0],
        "guardians": _rows(guardians),
        "logins": list(
            logins.order_by("pk").values("id", "email", "full_name", "date_joined", "last_login")
        ),
        "students": _rows(students),
        "emergency_contacts": _rows(EmergencyContact.objects.filter(family_id=family_id)),
        "policy_acceptances": _rows(PolicyAcceptance.objects.filter(family_id=family_id)),
        "enrollments": _rows(Enrollment.objects.filter(family_id=family_id)),
        "waitlist_entries": _rows(WaitlistEntry.objects.filter(family_id=family_id)),
        "cart_holds": _rows(Hold.objects.filter(family_id=family_id)),
        "orders": _rows(Order.objects.filter(family_id=family_id)),
        "order_lines": _rows(OrderLine.objects.filter(order__family_id=family_id)),
        "payments": _rows(Payment.objects.filter(family_id=family_id)),
        "ledger": _rows(LedgerEntry.objects.filter(family_id=family_id)),
        "saved_payment_methods": _rows(SavedPaymentMethod.objects.filter(family_id=family_id)),
        "requests": _rows(Request.objects.filter(family_id=family_id)),
        "makeup_tokens": _rows(MakeupToken.objects.filter(family_id=family_id)),
        "punch_passes": _rows(PunchPass.objects.filter(family_id=family_id)),
        "gift_certificates_bought": _rows(GiftCertificate.objects.filter(purchaser_id=family_id)),
        "deletion_requests": _rows(DeletionRequest.objects.filter(family_id=family_id)),
    }
    return data


def family_deletion_request(*, guardian: Guardian, reason: str = "") -> DeletionRequest:
    """The primary guardian asks the business to forget the family. Staff complete it."""
    if not guardian.is_primary:
        raise ApplicationError(
            "primary_guardian_only",
            "Only the primary guardian can ask for the family's data to be deleted.",
            status=403,
        )
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ApplicationError(
            "reason_too_long",
            "The reason may be at most 2000 characters.",
            fields={"reason": ["At most 2000 characters."]},
        )
    try:
        with transaction.atomic():
            request = DeletionRequest.objects.create(family_id=guardian.family_id, reason=reason)
    except IntegrityError:
        raise ApplicationError(
            "deletion_already_requested",
            "You have already asked for your data to be deleted; the business will complete it.",
            status=409,
        ) from None
    audit_record(action="deletion_requested", obj=request, family_id=guardian.family_id, fields={})
    return request


def _scrub_descriptions(family: Family, first_name: str) -> int:
    """Order lines and ledger entries name the student ("Rec Gym — Mia"): replace the name,
    keep every amount. A plain UPDATE: the text is not money, so the money audit is not
    involved; the deletion's own entry counts the rows."""
    name = (first_name or "").strip()
    if not name:
        return 0
    pattern = f"— {re.escape(name)}(?=,|$)"
    scrubbed = Func(
        F("description"), Value(pattern), Value("— a student"), Value("g"),
        function="regexp_replace", output_field=CharField(),
    )  # fmt: skip
    count = 0
    for queryset in (
        OrderLine.objects.filter(order__family=family),
        LedgerEntry.objects.filter(family=family),
    ):
        count += queryset.filter(description__regex=pattern).update(description=scrubbed)
    return count


def _anonymous_email(kind: str, pk: int) -> str:
    return f"deleted-{kind}-{pk}@deleted.invalid"


@transaction.atomic
def family_deletion_complete(*, deletion_request_id: int, by: User | None = None) -> Family:
    """Anonymise the family of a pending deletion request (staff). Refused while the family
    still has live enrollments, seats held or a waitlist place: staff end those first, so no
    class roster shows an anonymous child by surprise."""
    request = DeletionRequest.objects.select_for_update().filter(pk=deletion_request_id).first()
    if request is None:
        raise ApplicationError(
            "deletion_request_not_found", "No such deletion request.", status=404
        )
    if request.status != DeletionRequest.Status.PENDING:
        raise ApplicationError(
            "deletion_already_completed",
            "This deletion request is already completed.",
            status=409,
        )
    family = Family.objects.select_for_update().get(pk=request.family_id)
    if Enrollment.objects.filter(family=family, status__in=Enrollment.LIVE).exists():
        raise ApplicationError(
            "family_has_live_enrollments",
            "Drop or cancel the family's current enrollments before deleting its data.",
            status=409,
        )
    if Hold.objects.filter(family=family, status__in=Hold.SEAT_TAKING).exists():
        raise ApplicationError(
            "family_has_held_seats",
            "The family holds seats in a cart or an offer; release them first.",
            status=409,
        )

    pk = family.pk
    family.name = f"Deleted family {pk}"
    for name in ("address_line1", "address_line2", "city", "region", "postal_code", "country"):
        setattr(family, name, "")
    family.referral_source = ""
    family.staff_notes = ""
    family.status = Family.Status.INACTIVE
    family.save()

    guardians = list(Guardian.objects.filter(family=family).select_related("user"))
    for guardian in guardians:
        guardian.first_name = "Deleted"
        guardian.last_name = "guardian"
        guardian.email = _anonymous_email("guardian", guardian.pk)
        guardian.phone = ""
        guardian.relationship = ""
        guardian.save()
        user = guardian.user
        if user is not None:
            ApiToken.objects.filter(user=user).delete()
            user.email = _anonymous_email("user", user.pk)
            user.full_name = ""
            user.is_active = False
            user.set_unusable_password()
            user.save()

    renamed = 0
    for student in Student.objects.filter(family=family):
        renamed += _scrub_descriptions(family, student.first_name)
        student.first_name = "Deleted"
        student.last_name = "student"
        student.date_of_birth = dt.date(student.date_of_birth.year, 1, 1)
        student.gender = Student.Gender.UNSPECIFIED
        student.medical_notes = ""
        student.is_active = False
        student.save()

    photos = student_photos_forget(family_id=family.pk)  # files deleted after the commit
    EmergencyContact.objects.filter(family=family).delete()
    CalendarFeed.objects.filter(family=family).delete()
    SavedPaymentMethod.objects.filter(family=family).delete()
    PolicyAcceptance.objects.filter(family=family).update(signature="(deleted)", ip_address=None)
    Request.objects.filter(family=family).update(reason="", staff_note="")
    Enrollment.objects.filter(family=family).update(staff_note="")
    WaitlistEntry.objects.filter(family=family).update(note="")
    Hold.objects.filter(family=family).update(keyword="")
    GiftCertificate.objects.filter(purchaser=family).update(message="")

    request.status = DeletionRequest.Status.COMPLETED
    request.completed_at = timezone.now()
    request.completed_by_email = getattr(by, "email", "") or ""
    request.reason = ""
    request.save()
    audit_record(
        action="deletion_completed",
        obj=request,
        family_id=pk,
        user=by,
        fields={
            "guardians": len(guardians),
            "descriptions_scrubbed": renamed,
            "photos_deleted": photos,
        },
    )
    return family
