"""Shipment status and its transition table. No database access here."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
    DONE = "done", _("Done")
