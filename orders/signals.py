"""How orders tells the apps above it that something happened, without importing them.

- ``order_ready``: sent after commit when an order is confirmed and free of holds, so routing
  (fulfillment) can start. kwargs: order_id.
- ``order_cancelled``: sent inside the cancelling transaction; receivers must release what
  they hold for the order (shipments, reservations) or raise to abort the cancellation.
  kwargs: order, user, reason.
"""

from django.dispatch import Signal

order_ready = Signal()
order_cancelled = Signal()
