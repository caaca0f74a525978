"""Shipment, pick list and routing replay statuses and their transition tables. No database access here."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.status import OrderStatus


class ShipmentStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


S = ShipmentStatus

SHIPMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.RESERVED: frozenset({S.PICKING, S.PACKED, S.CANCELLED}),
    S.PICKING: frozenset({S.RESERVED, S.PACKED, S.CANCELLED}),
    S.PACKED: frozenset({S.PICKING, S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED}),
    S.IN_TRANSIT: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED}),
    S.OUT_FOR_DELIVERY: frozenset({S.IN_TRANSIT, S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Ordered progress, used to refuse moving a shipment backwards on late tracking events.
PROGRESS = [S.RESERVED, S.PICKING, S.PACKED, S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED]
SHIPPED_OR_LATER = frozenset({S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED})
NOT_YET_SHIPPED = frozenset({S.RESERVED, S.PICKING, S.PACKED})


def can_transition(current: str, target: str) -> bool:
    return target in SHIPMENT_TRANSITIONS.get(current, frozenset())


class PickListStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PICKING = "picking", _("Picking")
    DONE = "done", _("Done")


P = PickListStatus

# A pick list follows its shipments (``derive_picklist_status``): open while none is packed, picking once the
# first is, done when every shipment left on it is packed, shipped or cancelled. A packed shipment unpacked again
# takes a done list back to picking; a list never goes back to open.
PICKLIST_TRANSITIONS: dict[str, frozenset[str]] = {
    P.OPEN: frozenset({P.PICKING, P.DONE}),
    P.PICKING: frozenset({P.DONE}),
    P.DONE: frozenset({P.PICKING}),
}


def can_picklist_transition(current: str, target: str) -> bool:
    return target in PICKLIST_TRANSITIONS.get(current, frozenset())


# A shipment on a pick list still to pick; every other status (packed, shipped ..., cancelled) is done with.
PICKLIST_WAITING = frozenset({S.RESERVED, S.PICKING})


def derive_picklist_status(current: str, shipment_statuses: list[str]) -> PickListStatus:
    """Where a pick list is, from the statuses of the shipments on it (``current``: where it is now)."""
    live = [s for s in shipment_statuses if s != S.CANCELLED]
    waiting = [s for s in live if s in PICKLIST_WAITING]
    if not waiting:
        return P.DONE
    if len(waiting) < len(live) or current != P.OPEN:
        return P.PICKING
    return P.OPEN


class ReplayStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


# A replay is queued, claimed by one worker (running) and ends done or failed; a failed one may run again.
REPLAY_TRANSITIONS: dict[str, frozenset[str]] = {
    ReplayStatus.QUEUED: frozenset({ReplayStatus.RUNNING}),
    ReplayStatus.RUNNING: frozenset({ReplayStatus.DONE, ReplayStatus.FAILED}),
    ReplayStatus.DONE: frozenset(),
    ReplayStatus.FAILED: frozenset({ReplayStatus.RUNNING}),
}


def can_replay_transition(current: str, target: str) -> bool:
    return target in REPLAY_TRANSITIONS.get(current, frozenset())


class PickListKind(models.TextChoices):
    WAVE = "wave", _("Wave")
    SINGLE = "single", _("Single order")


class PackMismatchKind(models.TextChoices):
    WRONG = "wrong", _("Wrong item")
    SURPLUS = "surplus", _("Surplus item")
    SHORT = "short", _("Short")


def derive_order_status(shipment_statuses: list[str]) -> OrderStatus:
    """The one function that derives an order's progress from its (non-cancelled) shipments."""
    statuses = [s for s in shipment_statuses if s != S.CANCELLED]
    if not statuses:
        return OrderStatus.CONFIRMED
    if all(s == S.DELIVERED for s in statuses):
        return OrderStatus.DELIVERED
    if all(s in SHIPPED_OR_LATER for s in statuses):
        return OrderStatus.SHIPPED
    if any(s in SHIPPED_OR_LATER for s in statuses):
        return OrderStatus.PARTIALLY_SHIPPED
    if all(s == S.PACKED for s in statuses):
        return OrderStatus.PACKED
    if any(s in (S.PICKING, S.PACKED) for s in statuses):
        return OrderStatus.PICKING
    return OrderStatus.ALLOCATED
