"""How orders tells the apps above it that something happened, without importing them.

- ``order_ready``: sent after commit when an order is confirmed and free of holds, so routing
  (fulfillment) can start. kwargs: order_id.
- ``orders_ready``: the batch form of ``order_ready``, sent once after commit for every batch of
  a file import (orders/intake/bulk.py) instead of one ``order_ready`` per order; a listener of
  ``order_ready`` listens here too. kwargs: order_ids (a list).

The cross-app verbs (cancel, change by stage, intercept, partial cancel) are not signals: they are the
workflow actions in ``workflows/``, which call each app's services directly in one transaction.
"""

from django.dispatch import Signal

order_ready = Signal()
orders_ready = Signal()
