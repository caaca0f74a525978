"""Listeners for orders' signals: routing starts after commit. (A cancellation frees stock through the
workflow action workflows.cancel.order_cancel, which calls fulfillment's services directly.)

An order ready to fulfil (one, or a file import's batch) nudges the window router (``fulfillment.route_window``,
fulfillment/routing/window.py), which routes every waiting order in windows; with ``ROUTING_IN_WINDOWS`` off,
each order is routed on its own by ``route_order`` / ``route_orders`` as before."""

from django.conf import settings

from oms.background import nudge
from orders.signals import order_ready, orders_ready

from .routing import WINDOW_TASK
from .tasks import route_order, route_orders

# A file import's batch is routed by tasks of this many orders each (several workers share a batch).
ROUTE_CHUNK = 250


def in_windows() -> bool:
    return bool(getattr(settings, "ROUTING_IN_WINDOWS", True))


def on_order_ready(sender, order_id: int, **kwargs) -> None:
    if in_windows():
        nudge(WINDOW_TASK)
        return
    route_order.delay(order_id)


def on_orders_ready(sender, order_ids: list[int], **kwargs) -> None:
    if in_windows():
        nudge(WINDOW_TASK)
        return
    ids = list(order_ids)
    for start in range(0, len(ids), ROUTE_CHUNK):
        route_orders.delay(ids[start : start + ROUTE_CHUNK])


def connect() -> None:
    order_ready.connect(on_order_ready, dispatch_uid="fulfillment.route_on_ready")
    orders_ready.connect(on_orders_ready, dispatch_uid="fulfillment.route_batch_on_ready")
