"""The step every cancelling or re-routing action shares: fulfillment cancels the order's shipments that have
not shipped (stock released, off the pick list, merges undone), then logistics voids their labels that were
not handed over. The caller holds the order's lock inside its transaction; shipments are locked by id, then
stock rows by (location, product), then parcels."""

from fulfillment.changes import open_shipments_cancel
from fulfillment.services import cancel_open_shipments
from fulfillment.status import NOT_YET_SHIPPED
from logistics.voids import shipments_labels_void
from orders.models import Order


def _open_shipments(order: Order) -> list[tuple[int, str]]:
    return list(order.shipments.filter(status__in=NOT_YET_SHIPPED).order_by("pk").values_list("pk", "number"))


def shipments_release(*, order: Order, user=None, reason: str) -> list[str]:
    """Cancel the order's open shipments and void their labels. Returns the cancelled shipments' numbers."""
    shipments = _open_shipments(order)
    cancel_open_shipments(order=order, user=user, reason=reason)
    shipments_labels_void(shipment_ids=[pk for pk, _ in shipments], user=user)
    return [number for _, number in shipments]


def open_part_release(*, order: Order, user=None, reason: str) -> list[str]:
    """A partly shipped order: cancel the part not shipped yet (fulfillment also closes open backorders and
    moves the order on), void its labels. Returns the cancelled shipments' numbers."""
    shipments = _open_shipments(order)
    numbers = open_shipments_cancel(order=order, user=user, reason=reason)
    shipments_labels_void(shipment_ids=[pk for pk, _ in shipments], user=user)
    return numbers
