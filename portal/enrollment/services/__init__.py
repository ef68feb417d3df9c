"""The enrollment app's services, by module: ``seats`` (row locks, counters, lapses and
waitlist offers), ``cart`` (holds), ``waitlist`` (a family's place in line) and ``staff`` (the
admin's drop, cancel and waitlist removal). Orders (checkout, confirmation, expiry) are
``portal.orders``."""

from .approval import enrollment_approve, enrollment_deny, enrollment_paid_amount
from .camp_booking import camp_booking_change
from .cart import (
    cart_add,
    cart_clear,
    cart_hold_again,
    cart_refresh,
    cart_remove,
    hold_expire_if_due,
    staff_hold_delete,
    warn_expiring_holds,
)
from .seats import (
    expire_due,
    lock_offerings,
    offering_seats_changed,
    recount,
    settle,
    settle_offerings,
)
from .staff import (
    enrollment_staff_cancel,
    enrollment_staff_drop,
    waitlist_staff_move,
    waitlist_staff_offer,
    waitlist_staff_remove,
)
from .waitlist import (
    waitlist_accept,
    waitlist_advance_for,
    waitlist_decline,
    waitlist_join,
    waitlist_position,
)

__all__ = [
    "camp_booking_change",
    "cart_add",
    "cart_clear",
    "cart_hold_again",
    "cart_refresh",
    "cart_remove",
    "enrollment_approve",
    "enrollment_deny",
    "enrollment_paid_amount",
    "enrollment_staff_cancel",
    "enrollment_staff_drop",
    "expire_due",
    "hold_expire_if_due",
    "lock_offerings",
    "offering_seats_changed",
    "recount",
    "settle",
    "settle_offerings",
    "staff_hold_delete",
    "waitlist_accept",
    "waitlist_advance_for",
    "waitlist_decline",
    "waitlist_join",
    "waitlist_position",
    "waitlist_staff_move",
    "waitlist_staff_offer",
    "waitlist_staff_remove",
    "warn_expiring_holds",
]
