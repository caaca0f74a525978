"""What fulfillment tells the apps above it, without importing them.

- ``shipment_cancelled``: sent inside the cancelling transaction after a shipment is cancelled (its stock
  released); logistics voids the labels of its parcels that are not on a manifest yet
  (logistics/voids.py). A receiver that raises aborts the cancellation. kwargs: shipment, user, reason.
"""

from django.dispatch import Signal

shipment_cancelled = Signal()
