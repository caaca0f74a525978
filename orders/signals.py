"""How orders tells the apps above it that something happened, without importing them.

- ``order_ready``: sent after commit when an order is confirmed and free of holds, so routing
  (fulfillment) can start. kwargs: order_id.
- ``order_cancelled``: sent inside the cancelling transaction; receivers must release what
  they hold for the order (shipments, reservations) or raise to abort the cancellation.
  kwargs: order, user, reason.
- ``order_event_recorded``: sent after commit for every row written by
  ``orders.services.order_event_record``; customer notifications listen here
  (orders.notifications.TRIGGERS). kwargs: order_id, event_id, kind, data.
"""

from django.dispatch import Signal

order_ready = Signal()
order_cancelled = Signal()
order_event_recorded = Signal()
