from django.dispatch import Signal

# Sent inside the transaction that confirms an order (free, or paid), with ``order``.
# The billing app records the order's charges in the family ledger.
order_confirmed = Signal()
