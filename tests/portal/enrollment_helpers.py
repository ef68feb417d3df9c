from datetime import date, time, timedelta

from django.utils import timezone

from portal.billing.models import LedgerEntry
from portal.catalog.models import Offering
from portal.enrollment import services
from portal.enrollment.models import Enrollment
from portal.orders import services as orders
from tests.factories import GuardianFactory, OfferingFactory, StudentFactory
from tests.helpers import tenant_today


def next_weekday(weekday: int, after_days: int = 7) -> date:
    today = tenant_today()
    day = today + timedelta(days=after_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def make_family(email: str, **student):
    guardian = GuardianFactory(email=email)
    kid = StudentFactory(
        family=guardian.family, date_of_birth=student.pop("born", date(2016, 3, 1)), **student
    )
    return guardian.family, kid


def accept_policies(family) -> None:
    """The family accepts every active policy in its current version (as sign-up would)."""
    from portal.accounts.models import PolicyAcceptance
    from portal.accounts.selectors import policies_pending

    guardian = family.guardians.first()
    for pending in policies_pending(family):
        PolicyAcceptance.objects.create(
            policy=pending.policy,
            version=pending.policy.version,
            family=family,
            student_id=pending.student_id,
            guardian=guardian,
            signature=guardian.first_name or "Guardian",
        )


def make_offering(**kwargs) -> Offering:
    start = kwargs.pop("start_date", next_weekday(0))
    defaults = dict(
        capacity=3,
        start_date=start,
        end_date=start + timedelta(weeks=10),
        weekdays=[start.weekday()],
        start_time=time(16),
        end_time=time(17),
        tuition=10000,
        registration_fee=0,
    )
    defaults.update(kwargs)
    return OfferingFactory(**defaults)


def enroll(family, student, offering) -> Enrollment:
    services.cart_add(family=family, student_id=student.pk, offering_id=offering.pk)
    order = orders.checkout(family=family)
    orders.order_confirm(order_id=order.pk)
    return Enrollment.objects.get(student=student, offering=offering)


def seats(offering) -> tuple[int, int]:
    offering.refresh_from_db()
    return offering.seats_taken, offering.waitlist_count


def post_charge(family, amount: int, *, days_ago: int, kind: str = "charge"):
    entry = LedgerEntry.objects.create(
        family=family,
        kind=kind,
        description=f"Test {kind}",
        amount=amount,
        currency="USD",
        source_key=f"test:{kind}:{amount}:{days_ago}:{LedgerEntry.objects.count()}",
    )
    LedgerEntry.objects.filter(pk=entry.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return entry
