"""Splitting a shipment by hand: chosen lines and quantities move to a new shipment at the same or another
location, before picking.

To another location the moved units are released here and reserved there through inventory.services, all
or nothing (a short location refuses the split and nothing changes). A merged shipment is unmerged first.
One event on the order's timeline, with the reason code.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from inventory.models import Location
from inventory.services import StockRequest, stock_release, stock_reserve
from oms.errors import DomainError, InsufficientStock
from orders.services import order_event_record
from orders.status import ChangeReason, EventKind
from orders.wording import msg

from .models import Shipment, ShipmentLine
from .shipments import shipment_lock
from .status import ShipmentStatus


def _new_shipment(order, location) -> Shipment:
    shipment = Shipment.objects.create(order=order, location=location)
    shipment.number = f"SH{100000 + shipment.pk}"
    shipment.save(update_fields=["number"])
    return shipment


@transaction.atomic
def shipment_split(
    *,
    shipment: Shipment,
    quantities: dict[int, int],
    location: Location | None = None,
    reason_code: str,
    note: str = "",
    user=None,
) -> Shipment:
    """Move {shipment line id: quantity} to a new shipment (at ``location``, default the same one).
    Returns the new shipment."""
    if reason_code not in ChangeReason.values:
        raise DomainError(gettext("Choose a reason code for the split."))
    shipment = shipment_lock(shipment)
    if shipment.status != ShipmentStatus.RESERVED or shipment.picklist_id:
        raise DomainError(
            gettext("Shipment %(number)s is already being picked: it can no longer be split.")
            % {"number": shipment.number}
        )
    if shipment.merged_into_id or shipment.merged_members.exists():
        raise DomainError(gettext("Shipment %(number)s is merged: unmerge it first.") % {"number": shipment.number})
    target = location or shipment.location
    if not target.active:
        raise DomainError(gettext("%(code)s is not an active location.") % {"code": target.code})
    lines = {line.pk: line for line in shipment.lines.select_related("product")}
    moves: list[tuple[ShipmentLine, int]] = []
    for line_id, qty in quantities.items():
        if not qty:
            continue
        line = lines.get(int(line_id))
        if line is None:
            raise DomainError(
                gettext("Shipment %(number)s has no line %(line)s.") % {"number": shipment.number, "line": line_id}
            )
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0 or qty > line.quantity:
            raise DomainError(
                gettext("%(sku)s: move between 1 and %(quantity)s.")
                % {"sku": line.product.sku, "quantity": line.quantity}
            )
        moves.append((line, qty))
    if not moves:
        raise DomainError(gettext("Choose what to move to the new shipment."))
    if sum(q for _, q in moves) == sum(line.quantity for line in lines.values()):
        raise DomainError(gettext("Nothing would stay on the shipment: move less, or re-route the order."))
    cannot = sorted({line.product.sku for line, _ in moves if not target.can_handle(line.product.handling_class)})
    if cannot:
        raise DomainError(
            gettext("%(code)s cannot handle %(skus)s.") % {"code": target.code, "skus": ", ".join(cannot)}
        )
    order = shipment.order
    if target.pk != shipment.location_id:
        stock_release(
            requests=[StockRequest(shipment.location_id, line.product_id, q) for line, q in moves],
            reference=order.number,
            user=user,
            reason=f"split to {target.code}",
        )
        try:
            stock_reserve(
                requests=[StockRequest(target.pk, line.product_id, q) for line, q in moves],
                reference=order.number,
                user=user,
            )
        except InsufficientStock as exc:
            raise DomainError(
                gettext("%(code)s cannot take it: %(error)s") % {"code": target.code, "error": exc}
            ) from None
    new = _new_shipment(order, target)
    for line, q in moves:
        ShipmentLine.objects.create(
            shipment=new, order_line_id=line.order_line_id, product_id=line.product_id, quantity=q
        )
        if q == line.quantity:
            line.delete()
        else:
            line.quantity -= q
            line.save(update_fields=["quantity"])
    moved = ", ".join(f"{line.product.sku} ×{q}" for line, q in moves)
    params = {"shipment": shipment.number, "moved": moved, "new": new.number}
    params["reason"] = ChangeReason.describe(reason_code, note)
    order_event_record(
        order=order,
        kind=EventKind.SPLIT,
        user=user,
        message=(
            msg(
                gettext_noop("Shipment %(shipment)s split: %(moved)s moved to %(new)s at %(where)s. %(reason)s"),
                **params,
                where=target.code,
            )
            if target.pk != shipment.location_id
            else msg(gettext_noop("Shipment %(shipment)s split: %(moved)s moved to %(new)s. %(reason)s"), **params)
        ),
        data={
            "shipment": shipment.number,
            "new_shipment": new.number,
            "location": target.code,
            "moved": [[line.product.sku, q] for line, q in moves],
            "reason_code": reason_code,
            "note": note,
        },
    )
    return new
