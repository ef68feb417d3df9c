"""Orders: the one owner of an order's money. Checkout turns the cart into an order priced on
the server (``portal.enrollment.pricing``), then applies gift certificates and account credit as
tenders (``tenders``); a paid (or fully tendered) order is confirmed, an unpaid one lapses.
Everything an order changes elsewhere is called from here, in the open and in one direction:
seats (``portal.enrollment.services.seats``), the ledger and autopay records
(``portal.billing``), certificates and passes bought (``portal.store.services``).

Invariants (tests/portal/test_order_money.py checks them on random carts): an order's ``total``
is the sum of its lines; ``amount_due`` = total - live tenders >= 0; nothing negative.

Lock order: offerings (primary-key order) -> order -> payment / gift certificates -> family."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import prefetch
from kernel.errors import ApplicationError
from kernel.queries import CompiledQuery
from kernel.tasks import enqueue_on_commit
from portal import links
from portal.accounts.models import Family
from portal.billing.models import AutopayCharge, SavedPaymentMethod
from portal.billing.services import ledger_balance, ledger_record_order
from portal.catalog import waiting_room
from portal.catalog.models import Offering
from portal.config.selectors import portal_settings_get
from portal.enrollment import eligibility
from portal.enrollment.models import Enrollment, Hold, Order, OrderLine, RegistrationFeeCharge
from portal.enrollment.notifications import notify_family
from portal.enrollment.pricing import Line, price_items, totals
from portal.enrollment.services.cart import cart_refresh
from portal.enrollment.services.seats import (
    enrollment_confirmed,
    enrollments_confirm,
    expire_lapsed,
    lock_offerings,
    recount,
    settle,
)
from portal.privacy.audit import audit_batch
from portal.store import services as store

from . import tenders
from .models import OrderTender

logger = logging.getLogger(__name__)


def order_not_found() -> ApplicationError:
    return ApplicationError("order_not_found", "We could not find that order.", status=404)


def order_not_payable() -> ApplicationError:
    return ApplicationError(
        "order_not_payable",
        "This order can no longer be paid: its seats were released. Add them to your cart again.",
        status=409,
    )


# --- creating orders ---------------------------------------------------------------------


def order_create(
    *,
    family: Family,
    kind: str,
    lines: list[Line],
    idempotency_key: str,
    expires_at: datetime | None,
    created_at: datetime | None = None,
    confirmed_at: datetime | None = None,
) -> Order:
    """An order and its priced lines; its totals are the sums of the lines. The caller holds
    the transaction (and whatever locks the lines' seats need). With ``confirmed_at`` the
    order is written confirmed (a free checkout: nothing will ever be due), and the caller
    finishes confirming it with ``order_confirmed``."""
    subtotal, discount, total = totals(lines)
    if total < 0:
        raise ValueError("an order's lines cannot sum below zero")
    if confirmed_at is not None and total != 0:
        raise ValueError("only an order with nothing to pay is written confirmed")
    order = Order.objects.create(
        family=family,
        kind=kind,
        status=Order.Status.CONFIRMED if confirmed_at else Order.Status.AWAITING_PAYMENT,
        confirmed_at=confirmed_at,
        currency=connection.tenant.currency,
        subtotal=subtotal,
        discount_total=discount,
        total=total,
        idempotency_key=idempotency_key,
        created_at=created_at or timezone.now(),
        expires_at=expires_at,
    )
    made = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                kind=line.kind,
                description=line.description,
                amount=line.amount,
                student_id=line.student_id,
                offering_id=line.offering_id,
                registration_year=line.registration_year,
            )
            for line in lines
        ]
    )
    # A new order's lines are the ones just made (with their ids, in id order, as
    # ``order.lines.all()`` reads them): confirming it and answering with it read them from here.
    prefetch.attach(order, "lines", OrderLine, {"order": order}, made)
    return order


def _first_attended(offering: Offering, portal, today, chosen=()) -> date:
    if chosen:  # a camp booked by the day starts on the first day chosen
        return min(chosen)
    meetings = offering.meetings()
    upcoming = [day for day in meetings if day >= today]
    if portal.force_start_on_meeting_date and upcoming:
        return upcoming[0]
    return max(offering.start_date, today)


def _idempotency_key(holds: list[Hold], given: str | None) -> str:
    if given:
        return given.strip()[:100]
    digest = hashlib.sha256(",".join(str(h.pk) for h in sorted(holds, key=lambda h: h.pk)).encode())
    return f"cart:{digest.hexdigest()[:40]}"


def _check_card_on_file(family: Family, holds: list[Hold], portal) -> None:
    """When the business requires a saved card for recurring tuition, monthly classes cannot be
    checked out without one (autopay would have nothing to charge next month)."""
    if portal.stored_payment_method_policy != "required":
        return
    monthly = [h for h in holds if h.offering.tuition_billing == Offering.TuitionBilling.MONTHLY]
    if not monthly:
        return
    if SavedPaymentMethod.objects.filter(family=family, removed_at__isnull=True).exists():
        return
    names = ", ".join(sorted({h.offering.name for h in monthly}))
    raise ApplicationError(
        "payment_method_required",
        _("%(classes)s bills monthly by autopay: save a card on your account before checking out.")
        % {"classes": names},
        status=409,
    )


# The cart's holds with what checkout's rules read, compiled once per connection (kernel.queries).
_CHECKOUT_HOLDS = CompiledQuery(
    lambda family_id: Hold.objects.filter(
        family_id=family_id, status=Hold.Status.ACTIVE
    ).select_related("student__level", "offering"),
    family_id=int,
)

_ORDER_BY_KEY = CompiledQuery(
    lambda family_id, key: Order.objects.filter(family_id=family_id, idempotency_key=key),
    family_id=int,
    key=str,
)


def checkout(
    *,
    family: Family,
    idempotency_key: str | None = None,
    gift_certificate_code: str = "",
    use_account_credit: bool = True,
    admission_pass: str = "",
) -> Order:
    """Turn the cart's holds into one order priced on the server, then pay what a gift
    certificate and account credit cover (tenders, in that order). Nothing left to pay confirms
    at once; otherwise the seats stay reserved until the order is paid or lapses. Submitting the
    same cart twice (or the same key) returns the same order. A refusal changes nothing."""
    portal = portal_settings_get()
    if idempotency_key:
        existing = Order.objects.filter(
            family=family, idempotency_key=idempotency_key.strip()[:100]
        ).first()
        if existing is not None:
            return existing
    holds = _CHECKOUT_HOLDS.all(family_id=family.pk)
    lapsed = [h for h in holds if h.expires_at <= timezone.now()]
    if lapsed:
        cart_refresh(family=family)  # commit the release, then say which seats were lost
        names = ", ".join(f"{h.offering.name} ({h.student.first_name})" for h in lapsed)
        raise ApplicationError(
            "hold_expired",
            _("The hold on %(items)s has expired. Add it to your cart again if seats remain.")
            % {"items": names},
            status=409,
        )
    if not holds:
        recent = Order.objects.filter(
            family=family,
            kind=Order.Kind.REGISTRATION,
            created_at__gte=timezone.now() - timedelta(minutes=2),
        ).first()
        if recent is not None:
            return recent  # a double-submitted checkout of a cart that just became this order
        raise ApplicationError("cart_empty", "Your cart is empty.", status=400)
    # Rules that need no lock first, so a refusal never waits on a busy offering.
    openings = waiting_room.require_pass(
        offering_ids={h.offering_id for h in holds},
        family_id=family.pk,
        token=admission_pass,
        now=timezone.now(),
    )
    eligibility.check_policies(family, [h.student for h in holds])
    _check_card_on_file(family, holds, portal)
    key = _idempotency_key(holds, idempotency_key)
    now = timezone.now()
    # The family's and the students' rules read nothing a seat change moves, so they are
    # checked before the offerings' locks are taken (once per family and keyword, not per
    # hold): the lock is held for the seats alone.
    for keyword in sorted({h.keyword for h in holds}):
        eligibility.check_family(family, portal, now, keyword)
    for hold in holds:
        eligibility.check_student(hold.student, hold.offering)
    try:
        # The order's, its enrollments' and its ledger's audit entries: one INSERT at the end.
        with transaction.atomic(), audit_batch():
            offerings = lock_offerings([h.offering_id for h in holds])
            existing = _ORDER_BY_KEY.one(family_id=family.pk, key=key)
            if existing is not None:
                return existing
            for offering in offerings.values():
                expire_lapsed(offering, now)
            # Under the locks only a hold's status can have moved (expired, removed, checked
            # out by another tab); the rest of each hold, its student and class were read above.
            status = dict(
                Hold.objects.select_for_update()
                .filter(pk__in=[h.pk for h in holds])
                .values_list("pk", "status")
            )
            lapsed = [h for h in holds if status.get(h.pk) != Hold.Status.ACTIVE]
            if lapsed:
                names = ", ".join(f"{h.offering.name} ({h.student.first_name})" for h in lapsed)
                raise ApplicationError(
                    "hold_expired",
                    _(
                        "The hold on %(items)s has expired. "
                        "Add it to your cart again if seats remain."
                    )
                    % {"items": names},
                    status=409,
                )
            items = []
            for hold in holds:
                offering = offerings[hold.offering_id]
                eligibility.check_registration_window(offering, portal, now)
                items.append((hold.student, offering, hold))
            lines = price_items(
                family=family, items=[(s, o, h.camp_days) for s, o, h in items], portal=portal
            )
            # Nothing to pay and no certificate to draw (a free class): the order and its
            # enrollments are written in their final status, not reserved and then confirmed
            # (two UPDATEs, their history rows and audit entries fewer; docs/rush.md,
            # "Seventeenth pass"). Otherwise they wait for their tenders or the payment.
            free = not gift_certificate_code and totals(lines)[2] == 0
            order = order_create(
                family=family,
                kind=Order.Kind.REGISTRATION,
                lines=lines,
                idempotency_key=key,
                created_at=now,
                expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
                confirmed_at=now if free else None,
            )
            today = timezone.localdate(now)
            reserved = []
            for student, offering, hold in items:
                hold.status = Hold.Status.CONVERTED
                hold.ended_at = now
                hold.save(update_fields=["status", "ended_at"])
                status = Enrollment.Status.RESERVED
                if free:
                    pending = eligibility.needs_approval(family, offering, portal, now)
                    status = Enrollment.Status.PENDING if pending else Enrollment.Status.ACTIVE
                enrollment = Enrollment.objects.create(
                    family=family,
                    student=student,
                    offering=offering,
                    order=order,
                    status=status,
                    start_date=_first_attended(offering, portal, today, hold.camp_days),
                    camp_days=hold.camp_days,
                )
                reserved.append(enrollment)
            for offering in offerings.values():
                recount(offering, portal)
            # The order is new: its only tenders are the ones made here, so what is due is
            # known without reading them back.
            due = order.total
            drawn = credit = None
            if free:
                order_confirmed(
                    order,
                    portal=portal,
                    now=now,
                    summary=[enrollment_confirmed(e) for e in reserved],
                    pending_any=any(e.status == Enrollment.Status.PENDING for e in reserved),
                    tendered=False,
                    new_order=True,
                )
            if gift_certificate_code:
                drawn = tenders.tender_gift_certificate(
                    order=order, code=gift_certificate_code, due=due
                )
                due -= drawn.amount if drawn else 0
            if use_account_credit and due > 0:  # nothing due (a free class): no credit to take
                credit = tenders.tender_account_credit(order=order, due=due)
                due -= credit.amount if credit else 0
            if due == 0 and not free:
                order_confirm_locked(
                    order,
                    portal=portal,
                    now=now,
                    reserved=reserved,
                    tendered=bool(drawn or credit),
                )
            if not (drawn or credit):
                # The answer is made from the rows in hand (no tender: nothing else to show),
                # in the order ``order_list`` reads them; with a tender it is read again.
                prefetch.attach(
                    order,
                    "enrollments",
                    Enrollment,
                    {"order": order},
                    sorted(reserved, key=lambda e: (e.start_date, e.pk)),
                )
                order.live_tenders = []
            # The family's checkout slot in a registration opening goes to the next family.
            if openings:
                transaction.on_commit(
                    lambda: waiting_room.family_checked_out(family_id=family.pk, openings=openings)
                )
    except IntegrityError:
        existing = Order.objects.filter(family=family, idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return order


def invoice_create(
    *,
    family: Family,
    kind: str,
    lines: list[Line],
    idempotency_key: str,
    period: date | None = None,
    collect: bool = True,
) -> Order:
    """An invoice (monthly tuition, a transfer's price difference): owed from now, so its
    charges reach the ledger at once; it never lapses. Account credit pays what it can first.
    With ``collect`` an autopay charge collects the rest from the family's default saved card
    (or tells the family to pay online). The caller holds the transaction."""
    if kind not in Order.INVOICE_KINDS:
        raise ValueError(f"{kind} is not an invoice kind")
    order = order_create(
        family=family, kind=kind, lines=lines, idempotency_key=idempotency_key, expires_at=None
    )
    # Credit first: the balance must not yet include this invoice's own charges.
    tenders.tender_account_credit(order=order)
    ledger_record_order(order=order)
    due = tenders.amount_due(order)
    if due == 0:
        order_confirm_locked(order, portal=portal_settings_get(), now=timezone.now())
    elif collect:
        charge = AutopayCharge.objects.create(
            family=family, period=period, amount=due, currency=order.currency, order=order
        )
        if period is None:  # monthly tuition is charged by the autopay run that billed it
            from .tasks import autopay_attempt_task

            enqueue_on_commit(autopay_attempt_task, charge.pk)
    return order


def balance_order_create(*, family: Family) -> Order:
    """An order for the family's whole open balance (what the ledger says it owes), so it can
    pay everything in one step. Paying it settles the open invoices it covers."""
    owed = ledger_balance(family)
    if owed <= 0:
        raise ApplicationError("nothing_owed", "Your account has no balance to pay.", status=409)
    portal = portal_settings_get()
    now = timezone.now()
    with transaction.atomic():
        Family.objects.select_for_update(of=("self",)).filter(pk=family.pk).first()
        open_balance = (
            Order.objects.filter(
                family=family, kind=Order.Kind.BALANCE, status=Order.Status.AWAITING_PAYMENT
            )
            .filter(expires_at__gt=now)
            .first()
        )
        if open_balance is not None and open_balance.total == owed:
            return open_balance  # a second click pays the same order
        return order_create(
            family=family,
            kind=Order.Kind.BALANCE,
            lines=[Line(OrderLine.Kind.BALANCE, "Payment toward your account balance", owed)],
            idempotency_key=f"balance:{now.timestamp()}",
            created_at=now,
            expires_at=now + timedelta(minutes=portal.hold_timer_minutes),
        )


# --- confirming and lapsing -------------------------------------------------------------


def order_confirm(*, order_id: int) -> Order:
    """Paid (or nothing left to pay): confirm the order and everything it bought. Called by
    checkout for fully tendered orders and by ``payments`` once the money is in."""
    portal = portal_settings_get()
    now = timezone.now()
    offering_ids = list(
        Enrollment.objects.filter(order_id=order_id).values_list("offering_id", flat=True)
    )
    with transaction.atomic(), audit_batch():
        lock_offerings(offering_ids)
        order = Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
        if order is None:
            raise order_not_found()
        if order.status == Order.Status.CONFIRMED:
            return order
        if order.status != Order.Status.AWAITING_PAYMENT or order.lapsed(now):
            raise order_not_payable()
        order_confirm_locked(order, portal=portal, now=now)
    return order


def order_confirm_locked(
    order: Order,
    *,
    portal,
    now: datetime,
    reserved: list[Enrollment] | None = None,
    tendered: bool = True,
) -> None:
    """Confirm an order the caller has locked (with its offerings' locks, taken first).
    A caller that has just made the order may say what it knows instead of having it read
    again: ``reserved``, its reserved enrollments (with their offerings and students loaded;
    the order is then new, with nothing in the ledger yet), and ``tendered=False`` when it put
    no tender on it."""
    summary, pending_any = enrollments_confirm(
        order=order, portal=portal, now=now, reserved=reserved
    )
    order_confirmed(
        order,
        portal=portal,
        now=now,
        summary=summary,
        pending_any=pending_any,
        tendered=tendered,
        new_order=reserved is not None,
    )


def order_confirmed(
    order: Order,
    *,
    portal,
    now: datetime,
    summary: list[str],
    pending_any: bool,
    tendered: bool,
    new_order: bool = False,
) -> None:
    """What confirming an order does once its enrollments are confirmed (``summary`` and
    ``pending_any`` as ``enrollments_confirm`` returns them): fees, the ledger, tenders,
    certificates and passes, autopay, the order's own status (unless it was written
    confirmed), the family's emails. The caller holds the order's and its offerings' locks.
    ``new_order``: the caller made the order in this transaction (its lines have no ledger
    entries yet)."""
    # The lines are read once (under the locks): the fee charges, what the order bought and
    # the receipt come from the same rows.
    lines = list(order.lines.all())
    kinds = {line.kind for line in lines}
    for line in lines:
        if line.kind != OrderLine.Kind.REGISTRATION_FEE:
            continue
        RegistrationFeeCharge.objects.get_or_create(
            family_id=order.family_id,
            student_id=line.student_id,
            registration_year=line.registration_year,
            defaults={"order": order},
        )
    # Idempotent: an invoice's charges are already there (an order made in this transaction
    # has none: recorded without a savepoint each).
    ledger_record_order(order=order, lines=lines, new_order=new_order)
    if tendered:
        tenders.tenders_consume(order=order)
    # Certificates and passes only come with their own lines (portal.store.purchases).
    if OrderLine.Kind.GIFT_CERTIFICATE in kinds:
        store.gift_certificates_activate(order=order)
    if OrderLine.Kind.PUNCH_PASS in kinds:
        store.punch_passes_activate(order=order)
    if order.kind in Order.INVOICE_KINDS:  # only invoices are collected by autopay
        AutopayCharge.objects.filter(order=order).exclude(
            status=AutopayCharge.Status.SUCCEEDED
        ).update(status=AutopayCharge.Status.SUCCEEDED, next_attempt_at=None, last_error="")
    if order.kind == Order.Kind.BALANCE:
        _settle_open_invoices(order, portal, now)
    if order.status != Order.Status.CONFIRMED:
        order.status = Order.Status.CONFIRMED
        order.confirmed_at = now
        order.save(update_fields=["status", "confirmed_at"])
    if order.total > 0:
        notify_family(order.family_id, "payment_receipt", _receipt_context(order, lines))
    if summary:
        notify_family(
            order.family_id,
            "enrollment_confirmed",
            {
                "enrollments": summary,
                "pending": pending_any,
                "url": links.url("enrollments"),
            },
        )


def _receipt_context(order: Order, lines: list[OrderLine] | None = None) -> dict:
    """What the receipt email says (JSON-serialisable for the outbox): the lines, the tenders
    (credit, gift certificates) and the card payments that paid the order."""
    from portal.billing.models import Payment

    def money(amount: int) -> str:
        sign = "-" if amount < 0 else ""
        return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d} {order.currency}"

    payments = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED)
    return {
        "order_id": order.pk,
        "lines": [
            {"description": line.description, "amount": money(line.amount)}
            for line in (order.lines.all() if lines is None else lines)
        ],
        "total": money(order.total),
        "tenders": [
            {"description": tender.description, "amount": money(-tender.amount)}
            for tender in order.tenders.filter(status__in=OrderTender.LIVE)
        ],
        "payments": [
            {
                "method": (
                    f"{p.saved_method.brand} ending {p.saved_method.last4}"
                    if p.saved_method_id
                    else "card"
                ),
                "amount": money(p.amount),
            }
            for p in payments.select_related("saved_method")
        ],
        "url": links.url("order_receipt", order_id=order.pk),
    }


def _settle_open_invoices(balance_order: Order, portal, now: datetime) -> None:
    """A balance payment paid everything the ledger said was owed, so the family's open
    invoices are settled by it (autopay stops collecting them)."""
    invoices = Order.objects.select_for_update(of=("self",)).filter(
        family_id=balance_order.family_id,
        kind__in=Order.INVOICE_KINDS,
        status=Order.Status.AWAITING_PAYMENT,
        created_at__lte=balance_order.created_at,
    )
    for invoice in invoices:
        order_confirm_locked(invoice, portal=portal, now=now)


def order_expire(*, order_id: int, now: datetime | None = None) -> Order | None:
    """Lapse an unpaid order past its deadline: its seats go back (and to the waitlist), its
    tenders are released, what it would have bought is voided. Idempotent."""
    now = now or timezone.now()
    offering_ids = list(
        Enrollment.objects.filter(order_id=order_id, status=Enrollment.Status.RESERVED)
        .values_list("offering_id", flat=True)
        .distinct()
    )
    portal = portal_settings_get()
    with transaction.atomic():
        offerings = lock_offerings(offering_ids)
        order = Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
        if order is None or not order.lapsed(now):
            return order
        order_expire_locked(order, offerings=offerings.values(), portal=portal, now=now)
    return order


def order_expire_locked(order: Order, *, offerings, portal, now: datetime) -> None:
    """Lapse an order the caller has locked, with the locks of its offerings (taken first)."""
    for offering in offerings:
        settle(offering, portal, now)  # releases the order's reserved seats (and offers them)
    tenders.tenders_release(order=order)
    store.gift_certificates_void_unpaid(order=order)
    store.punch_passes_void_unpaid(order=order)
    order.status = Order.Status.EXPIRED
    order.save(update_fields=["status"])


def orders_expire_due() -> int:
    """The per-minute sweep: lapse every unpaid order past its deadline."""
    now = timezone.now()
    due = Order.objects.filter(
        status=Order.Status.AWAITING_PAYMENT, expires_at__lte=now
    ).values_list("pk", flat=True)
    count = 0
    for order_id in list(due):
        order_expire(order_id=order_id, now=now)
        count += 1
    return count


def orders_refresh(*, family: Family) -> None:
    """The check on read: lapse the family's unpaid orders past their deadline (in case the
    sweep has not run yet)."""
    now = timezone.now()
    for order_id in Order.objects.filter(
        family=family, status=Order.Status.AWAITING_PAYMENT, expires_at__lte=now
    ).values_list("pk", flat=True):
        order_expire(order_id=order_id, now=now)
