"""Fulfillment's side of changes by stage (orders/stage_rules.py): a re-route before picking releases the
order's shipments and stock, so routing can run again after commit. Cancelling takes shipments off their
pick list (services.shipment_release records it, the pick list shows it as removed). Cancelling a partly
shipped order cancels only the shipments not shipped yet and moves the order on (shipped or delivered)."""

from orders.signals import order_open_shipments_cancel, order_reroute

from .routing import backorders_cancel
from .services import cancel_open_shipments
from .shipments import order_sync_progress
from .status import NOT_YET_SHIPPED


def on_order_reroute(sender, order, user=None, reason: str = "", **kwargs) -> None:
    cancel_open_shipments(order=order, user=user, reason=f"re-route: {reason}")


def on_open_shipments_cancel(sender, order, user=None, reason: str = "", **kwargs) -> list[str]:
    """The part of a partly shipped order that has not left: cancelled (stock released, off the pick list,
    labels voided through shipment_cancelled); what has left is the caller's (intercept or return)."""
    numbers = list(order.shipments.filter(status__in=NOT_YET_SHIPPED).order_by("pk").values_list("number", flat=True))
    cancel_open_shipments(order=order, user=user, reason=reason)
    backorders_cancel(order=order)
    order_sync_progress(order, user=user)  # only shipped shipments are left: the order is shipped (or delivered)
    return numbers


def removed_from_picklist(picklist):
    """Shipments taken off this pick list after it was printed (cancelled while picking)."""
    return picklist.removed_shipments.select_related("order").order_by("pk")


def connect() -> None:
    order_reroute.connect(on_order_reroute, dispatch_uid="fulfillment.release_on_reroute")
    order_open_shipments_cancel.connect(on_open_shipments_cancel, dispatch_uid="fulfillment.cancel_open_part")
