"""How orders tells the apps above it that something happened, without importing them.

- ``order_ready``: sent after commit when an order is confirmed and free of holds, so routing
  (fulfillment) can start. kwargs: order_id.
- ``orders_ready``: the batch form of ``order_ready``, sent once after commit for every batch of
  a file import (orders/intake/bulk.py) instead of one ``order_ready`` per order; a listener of
  ``order_ready`` listens here too. kwargs: order_ids (a list).
- ``order_cancelled``: sent inside the cancelling transaction; receivers must release what
  they hold for the order (shipments, reservations) or raise to abort the cancellation.
  kwargs: order, user, reason.
- ``order_reroute``: sent inside the transaction when a change before picking re-routes the order
  (orders.services.stage_changes); receivers release the order's shipments and stock (fulfillment) or
  raise to abort the change. kwargs: order, user, reason.
- ``order_intercept_requested``: sent inside the transaction when a shipped order is cancelled or its
  address changed (stage rule "intercept"); logistics flags the shipments and opens a case for the
  carrier (logistics/voids.py). Receivers return a short text of what they did. kwargs: order, user,
  reason, reason_code, change, data.
- ``order_open_shipments_cancel``: sent inside the transaction when a partly shipped order is cancelled
  (orders.services.stage_changes): the shipments not shipped yet are cancelled (stock released, off the
  pick list, labels voided), open backorders closed and the order's progress synced (fulfillment); the
  shipped ones become intercept or return requests. Receivers return the numbers of the shipments they
  cancelled. kwargs: order, user, reason.
"""

from django.dispatch import Signal

order_ready = Signal()
orders_ready = Signal()
order_cancelled = Signal()
order_reroute = Signal()
order_intercept_requested = Signal()
order_open_shipments_cancel = Signal()
