"""Listeners for orders' signals: routing starts after commit, cancellation frees stock."""

from orders.signals import order_cancelled, order_ready, orders_ready

from .routing import backorders_cancel
from .services import cancel_open_shipments
from .tasks import route_order, route_orders

# A file import's batch is routed by tasks of this many orders each (several workers share a batch).
ROUTE_CHUNK = 250


def on_order_ready(sender, order_id: int, **kwargs) -> None:
    route_order.delay(order_id)


def on_orders_ready(sender, order_ids: list[int], **kwargs) -> None:
    ids = list(order_ids)
    for start in range(0, len(ids), ROUTE_CHUNK):
        route_orders.delay(ids[start : start + ROUTE_CHUNK])


def on_order_cancelled(sender, order, user=None, reason: str = "", **kwargs) -> None:
    cancel_open_shipments(order=order, user=user, reason=reason)
    backorders_cancel(order=order)


def connect() -> None:
    order_ready.connect(on_order_ready, dispatch_uid="fulfillment.route_on_ready")
    orders_ready.connect(on_orders_ready, dispatch_uid="fulfillment.route_batch_on_ready")
    order_cancelled.connect(on_order_cancelled, dispatch_uid="fulfillment.release_on_cancel")
