"""Routing, shipments, pick lists and packing. ``_set_shipment_status`` is the one door for
``Shipment.status``; every change writes an event on the order's timeline."""

from django.db import connection, transaction
from django.utils import timezone

from inventory.models import Location
from inventory.selectors import active_locations, available_by_location
from inventory.services import StockRequest, stock_release, stock_reserve, stock_ship
from oms.errors import DomainError, InsufficientStock, TransitionNotAllowed
from orders.models import Order
from orders.services import order_event_record, order_hold, order_lock, order_set_progress
from orders.status import EventKind, HoldReason, OrderStatus
from orders.status import can_transition as can_order_transition

from . import geo
from .models import PickList, RoutingDecision, Shipment, ShipmentLine
from .status import NOT_YET_SHIPPED, PROGRESS, ShipmentStatus, can_transition, derive_order_status

POLICY_NEAREST = "nearest"


# ---- status door and order progress --------------------------------------------------------


def _set_shipment_status(shipment: Shipment, target: str, *, user=None, note: str = "") -> None:
    current = shipment.status
    if current == target:
        return
    if not can_transition(current, target):
        raise TransitionNotAllowed(
            f"Shipment {shipment.number} cannot go from {ShipmentStatus(current).label} "
            f"to {ShipmentStatus(target).label}."
        )
    shipment.status = target
    now = timezone.now()
    fields = ["status"]
    for status, attr in (
        (ShipmentStatus.PACKED, "packed_at"),
        (ShipmentStatus.SHIPPED, "shipped_at"),
        (ShipmentStatus.DELIVERED, "delivered_at"),
    ):
        if target == status and getattr(shipment, attr) is None:
            setattr(shipment, attr, now)
            fields.append(attr)
    shipment.save(update_fields=fields)
    kind = {
        ShipmentStatus.PICKING: EventKind.PICKING,
        ShipmentStatus.PACKED: EventKind.PACKED,
        ShipmentStatus.SHIPPED: EventKind.SHIPPED,
        ShipmentStatus.DELIVERED: EventKind.DELIVERED,
    }.get(target, EventKind.STATUS)
    message = f"Shipment {shipment.number}: {ShipmentStatus(current).label} → {ShipmentStatus(target).label}"
    if note:
        message += f" ({note})"
    order_event_record(
        order=shipment.order,
        kind=kind,
        message=message,
        user=user,
        data={"shipment": shipment.number, "from": current, "to": target},
    )


def _sync_order(order: Order, *, user=None) -> None:
    statuses = list(order.shipments.values_list("status", flat=True))
    target = derive_order_status(statuses)
    # A reship after shipping or delivery does not pull the order back to an earlier stage:
    # the order keeps its status while the new shipment's own status shows its progress.
    if order.status != target and can_order_transition(order.status, target):
        order_set_progress(order=order, target=target, user=user)


def _lock_shipment(shipment: Shipment) -> Shipment:
    order_lock(shipment.order_id)  # always order first, then shipment: one lock order everywhere
    return Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)


def _requests(shipment: Shipment) -> list[StockRequest]:
    return [StockRequest(shipment.location_id, line.product_id, line.quantity) for line in shipment.lines.all()]


# ---- routing ---------------------------------------------------------------------------------


# What a location must have for each capability classification can require (orders.models.Capability).
CAPABILITY_FIELDS = {"cold_chain": "cold_chain", "bulky": "handles_bulky"}


def _has_capability(location: Location, capability: str) -> bool:
    field = CAPABILITY_FIELDS.get(capability)
    return bool(field and getattr(location, field))


def _candidates(order: Order, lines) -> list[dict]:
    need: dict[int, int] = {}
    classes = set()
    for line in lines:
        need[line.product_id] = need.get(line.product_id, 0) + line.quantity
        classes.add(line.product.handling_class)
    available = available_by_location(product_ids=set(need))
    sku_of = {line.product_id: line.sku for line in lines}
    place = geo.locate(
        country=order.ship_country, province=order.ship_province, city=order.ship_city, postcode=order.ship_postcode
    )
    result = []
    for location in active_locations():
        reasons = []
        missing = sorted(c for c in classes if not location.can_handle(c))
        if missing:
            reasons.append("cannot handle " + ", ".join(missing))
        lacking = [c for c in order.capability_list if not _has_capability(location, c)]
        if lacking:
            reasons.append("lacks " + ", ".join(lacking) + " (required by classification)")
        short = [sku_of[p] for p, q in need.items() if available.get(location.pk, {}).get(p, 0) < q]
        if short:
            reasons.append("short of " + ", ".join(sorted(short)))
        distance = None
        if place and location.latitude is not None and location.longitude is not None:
            distance = round(geo.distance_km(location.latitude, location.longitude, place.latitude, place.longitude), 1)
        result.append(
            {
                "location_id": location.pk,
                "location": location.code,
                "eligible": not reasons,
                "distance_km": distance,
                "score": distance,
                "reasons": reasons,
            }
        )
    result.sort(key=lambda c: (not c["eligible"], c["distance_km"] is None, c["distance_km"] or 0, c["location"]))
    return result


@transaction.atomic
def order_route(*, order_id: int, user=None) -> RoutingDecision | None:
    """Route a confirmed order to the nearest location that can ship all of it and reserve stock.

    A no-op (returns None) when the order is not waiting for routing: safe to deliver twice.
    """
    order = order_lock(order_id)
    if order.status != OrderStatus.CONFIRMED or order.on_hold:
        return None
    if order.shipments.exclude(status=ShipmentStatus.CANCELLED).exists():
        return None
    lines = list(order.lines.select_related("product"))
    if any(line.product_id is None for line in lines):
        order_hold(order=order, reason=HoldReason.UNKNOWN_SKU, note="a line has no product", user=user)
        return None
    candidates = _candidates(order, lines)
    chosen = None
    for candidate in candidates:
        if not candidate["eligible"]:
            continue
        try:
            with transaction.atomic():
                stock_reserve(
                    requests=[StockRequest(candidate["location_id"], ln.product_id, ln.quantity) for ln in lines],
                    reference=order.number,
                    user=user,
                )
        except InsufficientStock:
            candidate["eligible"] = False
            candidate["reasons"].append("stock taken meanwhile")
            continue
        chosen = candidate
        break
    for candidate in candidates:
        if candidate is chosen:
            candidate["verdict"] = "chosen: nearest location that can ship all of it"
        elif candidate["eligible"]:
            candidate["verdict"] = "farther away"
        else:
            candidate["verdict"] = "; ".join(candidate["reasons"])
    if chosen is None:
        decision = RoutingDecision.objects.create(
            order=order,
            policy=POLICY_NEAREST,
            chosen=None,
            candidates=candidates,
            reason="No location can ship the whole order.",
        )
        order_event_record(
            order=order,
            kind=EventKind.ROUTING_FAILED,
            user=user,
            message="No location can ship the whole order.",
            data={"decision": decision.pk},
        )
        order_hold(order=order, reason=HoldReason.STOCK_SHORT, note=_short_note(candidates), user=user)
        return decision
    location = Location.objects.get(pk=chosen["location_id"])
    shipment = Shipment.objects.create(order=order, location=location)
    shipment.number = f"SH{100000 + shipment.pk}"
    shipment.save(update_fields=["number"])
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line=ln, product_id=ln.product_id, quantity=ln.quantity) for ln in lines
    )
    distance = f", {chosen['distance_km']} km" if chosen["distance_km"] is not None else ""
    reason = f"{location.code} is the nearest location that can ship all of it{distance}."
    decision = RoutingDecision.objects.create(
        order=order, policy=POLICY_NEAREST, chosen=location, candidates=candidates, reason=reason
    )
    order_event_record(
        order=order,
        kind=EventKind.ROUTED,
        user=user,
        message=f"Routed to {location.name}. {reason}",
        data={"decision": decision.pk, "shipment": shipment.number},
    )
    _sync_order(order, user=user)
    return decision


def _short_note(candidates: list[dict]) -> str:
    parts = [f"{c['location']}: {'; '.join(c['reasons'])}" for c in candidates if c["reasons"]]
    return (" | ".join(parts) or "no active location")[:255]


def _release_shipment(shipment: Shipment, *, user=None, reason: str) -> None:
    stock_release(requests=_requests(shipment), reference=shipment.order.number, user=user, reason=reason)
    shipment.picklist = None
    shipment.save(update_fields=["picklist"])
    _set_shipment_status(shipment, ShipmentStatus.CANCELLED, user=user, note=reason)


def cancel_open_shipments(*, order: Order, user=None, reason: str) -> int:
    """Cancel the shipments of an order that have not shipped and give their stock back."""
    shipments = list(order.shipments.select_for_update().filter(status__in=NOT_YET_SHIPPED))
    for shipment in shipments:
        shipment.order = order
        _release_shipment(shipment, user=user, reason=reason)
    return len(shipments)


# ---- pick lists and packing ----------------------------------------------------------------


@transaction.atomic
def picklist_create(
    *, location: Location, user=None, shipment_ids: list[int] | None = None, limit: int = 50
) -> PickList:
    """Put shipments that are ready at a location on one pick list (priority first, oldest first)."""
    queryset = Shipment.objects.ready_to_pick().filter(location=location)
    if shipment_ids:
        queryset = queryset.filter(pk__in=shipment_ids)
    queryset = queryset.order_by("order__priority", "created_at", "pk")
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    shipments = list(queryset[:limit])
    if not shipments:
        raise DomainError(f"No shipments are ready to pick at {location.code}.")
    picklist = PickList.objects.create(location=location, created_by=user)
    picklist.number = f"PL{100000 + picklist.pk}"
    picklist.save(update_fields=["number"])
    for shipment in shipments:
        order = order_lock(shipment.order_id)
        shipment.refresh_from_db()
        shipment.order = order
        shipment.picklist = picklist
        shipment.save(update_fields=["picklist"])
        _set_shipment_status(shipment, ShipmentStatus.PICKING, user=user, note=f"pick list {picklist.number}")
        _sync_order(order, user=user)
    return picklist


@transaction.atomic
def shipment_pack(*, shipment: Shipment, weight_g: int | None = None, user=None) -> Shipment:
    shipment = _lock_shipment(shipment)
    if shipment.order.on_hold:
        raise DomainError(f"Order {shipment.order.number} is on hold; release it before packing.")
    if weight_g is not None:
        if weight_g <= 0:
            raise DomainError("Weight must be more than 0 g.")
        shipment.weight_g = weight_g
        shipment.save(update_fields=["weight_g"])
    _set_shipment_status(shipment, ShipmentStatus.PACKED, user=user)
    _sync_order(shipment.order, user=user)
    return shipment


@transaction.atomic
def shipment_ship(*, shipment: Shipment, user=None, note: str = "") -> Shipment:
    """Hand a packed shipment to the carrier: stock leaves on hand and the reservation."""
    shipment = _lock_shipment(shipment)
    if shipment.status != ShipmentStatus.PACKED:
        raise TransitionNotAllowed(f"Shipment {shipment.number} is {shipment.get_status_display()}, not packed.")
    if shipment.order.on_hold:
        raise DomainError(f"Order {shipment.order.number} is on hold; release it before shipping.")
    stock_ship(requests=_requests(shipment), reference=shipment.number, user=user)
    _set_shipment_status(shipment, ShipmentStatus.SHIPPED, user=user, note=note)
    _sync_order(shipment.order, user=user)
    return shipment


@transaction.atomic
def shipment_advance(*, shipment: Shipment, target: str, user=None, note: str = "") -> bool:
    """Move a shipped shipment forward (in transit, out for delivery, delivered); never back."""
    shipment = _lock_shipment(shipment)
    if shipment.status not in PROGRESS or target not in PROGRESS:
        return False
    if PROGRESS.index(target) <= PROGRESS.index(shipment.status):
        return False
    if not can_transition(shipment.status, target):
        return False
    _set_shipment_status(shipment, target, user=user, note=note)
    _sync_order(shipment.order, user=user)
    return True
