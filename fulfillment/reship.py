"""Reship: send (part of) an order again in a new shipment, from the nearest location that has the stock,
with the stock reserved again. Used by exception cases (lost, damaged, returned) in logistics.

The new shipment starts ``reserved`` and goes through picking, packing and dispatch like any other.
The order's own status is not moved back here (a shipped or delivered order stays so); the reship is on the
order's timeline with the reason, the lines and the location chosen.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from inventory.models import Location
from inventory.services import StockRequest, stock_reserve
from oms.errors import DomainError, InsufficientStock
from orders.models import Order, OrderLine
from orders.services import order_event_record, order_lock
from orders.status import EventKind, OrderStatus
from orders.wording import msg

from .models import Shipment, ShipmentLine
from .routing import unscored_candidates


@dataclass(frozen=True)
class _Need:
    """The shape `unscored_candidates` reads from an order line, with the quantity to reship."""

    product_id: int
    quantity: int
    product: object
    sku: str


@transaction.atomic
def shipment_reship(*, order: Order, lines: list[tuple[OrderLine, int]], reason: str, user=None) -> Shipment:
    """Create a reserved shipment for ``lines`` ([(order line, quantity)]) at the nearest location that can
    ship all of it. Raises DomainError when nothing can (nothing is reserved then)."""
    order = order_lock(order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise DomainError(
            gettext("Order %(order_number)s is cancelled; nothing can be reshipped.") % {"order_number": order.number}
        )
    if not reason.strip():
        raise DomainError(gettext("A reship needs a reason."))
    wanted = [(line, qty) for line, qty in lines if qty]
    if not wanted:
        raise DomainError(gettext("Choose at least one line to reship."))
    for line, qty in wanted:
        if line.order_id != order.pk:
            raise DomainError(
                gettext("Line %(line_no)s is not a line of order %(order_number)s.")
                % {"line_no": line.line_no, "order_number": order.number}
            )
        if line.product_id is None:
            raise DomainError(
                gettext("Line %(line_no)s (%(line_sku)s) has no product.")
                % {"line_no": line.line_no, "line_sku": line.sku}
            )
        if qty < 0 or qty > line.quantity:
            raise DomainError(
                gettext("Line %(line_no)s: reship between 1 and %(quantity)s, not %(qty)s.")
                % {"line_no": line.line_no, "quantity": line.quantity, "qty": qty}
            )
    needs = [_Need(line.product_id, qty, line.product, line.sku) for line, qty in wanted]
    chosen = None
    for candidate in unscored_candidates(order, needs):
        if not candidate["eligible"]:
            continue
        try:
            with transaction.atomic():
                stock_reserve(
                    requests=[StockRequest(candidate["location_id"], n.product_id, n.quantity) for n in needs],
                    reference=order.number,
                    user=user,
                )
        except InsufficientStock:
            continue
        chosen = candidate
        break
    if chosen is None:
        raise DomainError(
            gettext("No location has the stock to reship order %(order_number)s.") % {"order_number": order.number}
        )
    location = Location.objects.get(pk=chosen["location_id"])
    shipment = Shipment.objects.create(order=order, location=location)
    shipment.number = f"SH{100000 + shipment.pk}"
    shipment.save(update_fields=["number"])
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line=line, product_id=line.product_id, quantity=qty)
        for line, qty in wanted
    )
    what = ", ".join(f"{line.sku} x{qty}" for line, qty in wanted)
    order_event_record(
        order=order,
        kind=EventKind.ROUTED,
        user=user,
        message=msg(
            gettext_noop("Reship %(shipment)s from %(location)s: %(what)s. Reason: %(reason)s"),
            shipment=shipment.number,
            location=location.name,
            what=what,
            reason=reason,
        ),
        data={
            "shipment": shipment.number,
            "reship": True,
            "reason": reason,
            "location": location.code,
            "lines": [{"line": line.line_no, "sku": line.sku, "quantity": qty} for line, qty in wanted],
        },
    )
    return shipment
