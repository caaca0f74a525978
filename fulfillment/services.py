"""Shipments' business verbs: cancel the open ones, pick lists, pack, ship, advance. The status doors
(``Shipment.status``, ``PickList.status``) and following a parcel's scans (one shipment or a tracking batch) live
in fulfillment/shipments.py; routing (fulfillment/routing/) is re-exported here for existing callers."""

from django.db import connection, transaction
from django.utils.translation import gettext, gettext_noop

from inventory.models import Location
from inventory.services import stock_ship
from oms.errors import DomainError, TransitionNotAllowed
from orders.models import Order
from orders.services import order_lock
from orders.wording import msg

from .merge import merged_weight_g
from .models import PickList, Shipment

# ---- routing: fulfillment/routing/ (re-exported here for existing callers) ---------------------
from .routing import (  # noqa: E402, F401
    CAPABILITY_FIELDS,
    POLICY_NEAREST,
    order_route,
)
from .selectors import PICK_ORDER
from .shipments import (
    lock_stock_rows,
    members_follow,
    order_sync_progress,
    shipment_lock,
    shipment_release,
    shipment_set_status,
    shipment_stock_requests,
)
from .status import NOT_YET_SHIPPED, PROGRESS, ShipmentStatus, can_transition


def cancel_open_shipments(*, order: Order, user=None, reason: str) -> int:
    """Cancel the shipments of an order that have not shipped and give their stock back. The caller holds the
    order's lock; shipments are locked by id, then stock rows by (location, product)."""
    shipments = list(order.shipments.select_for_update().filter(status__in=NOT_YET_SHIPPED).order_by("pk"))
    if len({s.location_id for s in shipments}) > 1:  # a split order: its stock rows first, in lock order
        lock_stock_rows({s.location_id for s in shipments}, {ln.product_id for s in shipments for ln in s.lines.all()})
    for shipment in shipments:
        shipment.order = order
        shipment_release(shipment, user=user, reason=reason)
    return len(shipments)


# ---- pick lists and packing ----------------------------------------------------------------


@transaction.atomic
def picklist_create(
    *, location: Location, user=None, shipment_ids: list[int] | None = None, limit: int = 50
) -> PickList:
    """Put shipments that are ready at a location on one pick list (selectors.PICK_ORDER)."""
    queryset = Shipment.objects.ready_to_pick().filter(location=location)
    if shipment_ids:
        queryset = queryset.filter(pk__in=shipment_ids)
    queryset = queryset.order_by(*PICK_ORDER)  # priority, promise date (none last), oldest
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    shipments = list(queryset[:limit])
    if not shipments:
        raise DomainError(gettext("No shipments are ready to pick at %(location)s.") % {"location": location.code})
    picklist = PickList.objects.create(location=location, created_by=user)
    picklist.number = f"PL{100000 + picklist.pk}"
    picklist.save(update_fields=["number"])
    for shipment in shipments:
        order = order_lock(shipment.order_id)
        shipment.refresh_from_db()
        shipment.order = order
        shipment.picklist = picklist
        shipment.save(update_fields=["picklist"])
        shipment_set_status(
            shipment,
            ShipmentStatus.PICKING,
            user=user,
            note=msg(gettext_noop("pick list %(number)s"), number=picklist.number),
        )
        order_sync_progress(order, user=user)
        members_follow(
            shipment,
            ShipmentStatus.PICKING,
            user=user,
            note=msg(gettext_noop("pick list %(number)s"), number=picklist.number),
            picklist=picklist,
        )
    return picklist


def _refuse_member(shipment: Shipment) -> None:
    if shipment.merged_into_id:
        lead = Shipment.objects.values_list("number", flat=True).get(pk=shipment.merged_into_id)
        raise DomainError(
            gettext("Shipment %(number)s travels with %(lead)s: pack and ship %(lead)s.")
            % {"number": shipment.number, "lead": lead}
        )


@transaction.atomic
def shipment_pack(*, shipment: Shipment, weight_g: int | None = None, user=None) -> Shipment:
    shipment = shipment_lock(shipment)
    _refuse_member(shipment)
    if shipment.order.on_hold:
        raise DomainError(
            gettext("Order %(order)s is on hold; release it before packing.") % {"order": shipment.order.number}
        )
    if weight_g is not None:
        if weight_g <= 0:
            raise DomainError(gettext("Weight must be more than 0 g."))
        shipment.weight_g = weight_g
        shipment.save(update_fields=["weight_g"])
    elif shipment.weight_g is None and shipment.merged_members.exists():
        # One parcel: the lead's weight is the weight of everything in it (the label is the lead's).
        shipment.weight_g = merged_weight_g(shipment)
        shipment.save(update_fields=["weight_g"])
    shipment_set_status(shipment, ShipmentStatus.PACKED, user=user)
    order_sync_progress(shipment.order, user=user)
    members_follow(shipment, ShipmentStatus.PACKED, user=user)
    return shipment


@transaction.atomic
def shipment_ship(*, shipment: Shipment, user=None, note: str = "") -> Shipment:
    """Hand a packed shipment to the carrier: stock leaves on hand and the reservation."""
    shipment = shipment_lock(shipment)
    if shipment.status != ShipmentStatus.PACKED:
        raise TransitionNotAllowed(
            gettext("Shipment %(number)s is %(status)s, not packed.")
            % {"number": shipment.number, "status": shipment.get_status_display()}
        )
    _refuse_member(shipment)
    if shipment.order.on_hold:
        raise DomainError(
            gettext("Order %(order)s is on hold; release it before shipping.") % {"order": shipment.order.number}
        )
    stock_ship(requests=shipment_stock_requests(shipment), reference=shipment.number, user=user)
    shipment_set_status(shipment, ShipmentStatus.SHIPPED, user=user, note=note)
    order_sync_progress(shipment.order, user=user)
    members_follow(shipment, ShipmentStatus.SHIPPED, user=user, note=note)
    return shipment


@transaction.atomic
def shipment_advance(*, shipment: Shipment, target: str, user=None, note: str = "") -> bool:
    """Move a shipped shipment forward (in transit, out for delivery, delivered); never back."""
    shipment = shipment_lock(shipment)
    if shipment.status not in PROGRESS or target not in PROGRESS:
        return False
    if PROGRESS.index(target) <= PROGRESS.index(shipment.status):
        return False
    if not can_transition(shipment.status, target):
        return False
    shipment_set_status(shipment, target, user=user, note=note)
    order_sync_progress(shipment.order, user=user)
    members_follow(shipment, target, user=user, note=note)
    return True
