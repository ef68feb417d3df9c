"""The enrollment app's services, by module: ``seats`` (row locks, counters, lapses and
waitlist offers), ``cart`` (holds) and ``waitlist`` (a family's place in line). Orders
(checkout, confirmation, expiry) are ``portal.orders``."""

from .cart import (
    cart_add,
    cart_clear,
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
from .waitlist import (
    waitlist_accept,
    waitlist_advance_for,
    waitlist_decline,
    waitlist_join,
    waitlist_position,
)

__all__ = [
    "cart_add",
    "cart_clear",
    "cart_refresh",
    "cart_remove",
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
    "warn_expiring_holds",
]
