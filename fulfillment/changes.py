"""Fulfillment's side of changes by stage (orders/rules/stages.py), called by the workflow actions
(workflows/): a re-route before picking releases the order's shipments and stock
(``services.cancel_open_shipments``), so routing can run again after commit. Cancelling takes shipments off
their pick list (shipments.shipment_release records it, the pick list shows it as removed). Cancelling a
partly shipped order cancels only the shipments not shipped yet and moves the order on (shipped or
delivered): ``open_shipments_cancel``."""

from orders.models import Order

from .routing import backorders_cancel
from .services import cancel_open_shipments
from .shipments import order_sync_progress
from .status import NOT_YET_SHIPPED


def open_shipments_cancel(*, order: Order, user=None, reason: str) -> list[str]:
    """The part of a partly shipped order that has not left: cancelled (stock released, off the pick list,
    labels are the caller's: workflows.release), open backorders closed and the order's progress synced; what
    has left is the caller's (intercept or return). The caller holds the order's lock. Returns the numbers of
    the cancelled shipments."""
    numbers = list(order.shipments.filter(status__in=NOT_YET_SHIPPED).order_by("pk").values_list("number", flat=True))
    cancel_open_shipments(order=order, user=user, reason=reason)
    backorders_cancel(order=order)
    order_sync_progress(order, user=user)  # only shipped shipments are left: the order is shipped (or delivered)
    return numbers


def removed_from_picklist(picklist):
    """Shipments taken off this pick list after it was printed (cancelled while picking)."""
    return picklist.removed_shipments.select_related("order").order_by("pk")
