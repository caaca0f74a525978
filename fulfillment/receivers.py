"""Listeners for orders' signals: routing starts after commit, cancellation frees stock."""

from orders.signals import order_cancelled, order_ready

from .services import cancel_open_shipments
from .tasks import route_order


def on_order_ready(sender, order_id: int, **kwargs) -> None:
    route_order.delay(order_id)


def on_order_cancelled(sender, order, user=None, reason: str = "", **kwargs) -> None:
    cancel_open_shipments(order=order, user=user, reason=reason)


def connect() -> None:
    order_ready.connect(on_order_ready, dispatch_uid="fulfillment.route_on_ready")
    order_cancelled.connect(on_order_cancelled, dispatch_uid="fulfillment.release_on_cancel")
