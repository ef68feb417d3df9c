from django.dispatch import Signal

# Sent inside the transaction that confirms an order (free, or paid), with ``order``.
# The billing app records the order's charges in the family ledger.
order_confirmed = Signal()

# Sent inside the transaction that expires an unpaid order, with ``order``.
order_expired = Signal()

# Sent inside the checkout transaction once the order and its priced lines exist, with
# ``order`` and ``params`` (extra checkout input, e.g. a gift certificate code). Receivers may
# add lines that lower the total (and must update the order's totals); checkout re-reads the
# order afterwards and confirms it at once if nothing is left to pay.
order_created = Signal()
