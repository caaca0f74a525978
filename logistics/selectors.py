"""Reads for logistics pages and the public tracking page."""

from django.db.models import QuerySet

from orders.models import Order
from orders.status import EventKind, OrderStatus

from .models import Parcel, TrackingEvent
from .status import TrackingStatus


def parcel_list() -> QuerySet[Parcel]:
    return Parcel.objects.select_related("shipment__order", "service__carrier")


def find_order_for_customer(number: str, contact: str) -> Order | None:
    """An order by number, only when the e-mail or the phone's last four digits match."""
    number, contact = number.strip().upper(), contact.strip()
    if not number or not contact:
        return None
    order = Order.objects.select_related("customer").filter(number=number).first()
    if order is None:
        return None
    if "@" in contact:
        emails = {e.lower() for e in (order.ship_email, getattr(order.customer, "email", "")) if e}
        return order if contact.lower() in emails else None
    digits = "".join(ch for ch in contact if ch.isdigit())
    if len(digits) != 4:
        return None
    phones = [p for p in (order.ship_phone, getattr(order.customer, "phone", "")) if p]
    return order if any(p.endswith(digits) for p in phones) else None


MILESTONES = [
    ("received", "Order received", "订单已收到"),
    ("confirmed", "Order confirmed", "订单已确认"),
    ("picked", "Being picked", "拣货中"),
    ("packed", "Packed", "已打包"),
    ("shipped", "Shipped", "已发货"),
    ("in_transit", "In transit", "运输中"),
    ("out_for_delivery", "Out for delivery", "派送中"),
    ("delivered", "Delivered", "已签收"),
]


def public_tracking(order: Order) -> dict:
    """What a customer sees: milestones merged over all shipments, scans, expected date.

    Only the least personal data: first name, city, no phone, no e-mail, no street.
    """
    events = list(order.events.values("kind", "created_at", "data"))
    first_at = {}
    for e in events:
        key = None
        if e["kind"] == EventKind.CREATED:
            key = "received"
        elif e["kind"] == EventKind.STATUS and e["data"].get("to") == OrderStatus.CONFIRMED:
            key = "confirmed"
        elif e["kind"] == EventKind.PICKING:
            key = "picked"
        elif e["kind"] == EventKind.PACKED:
            key = "packed"
        elif e["kind"] == EventKind.SHIPPED:
            key = "shipped"
        if key and key not in first_at:
            first_at[key] = e["created_at"]
    parcels = list(
        Parcel.objects.filter(shipment__order=order).select_related("service__carrier").order_by("created_at")
    )
    scans = list(
        TrackingEvent.objects.filter(parcel__in=parcels).select_related("parcel").order_by("-occurred_at", "-id")
    )
    for scan in sorted(scans, key=lambda s: s.occurred_at):
        key = {
            TrackingStatus.IN_TRANSIT: "in_transit",
            TrackingStatus.OUT_FOR_DELIVERY: "out_for_delivery",
            TrackingStatus.DELIVERED: "delivered",
        }.get(scan.status)
        if key and key not in first_at:
            first_at[key] = scan.occurred_at
    if order.status == OrderStatus.DELIVERED and "delivered" not in first_at:
        first_at["delivered"] = order.updated_at
    reached = [i for i, (key, _, _) in enumerate(MILESTONES) if key in first_at]
    last = max(reached) if reached else 0
    steps = [
        {"key": key, "en": en, "zh": zh, "at": first_at.get(key), "done": i <= last, "current": i == last}
        for i, (key, en, zh) in enumerate(MILESTONES)
    ]
    problem = next(
        (
            p
            for p in parcels
            if p.status
            in (
                TrackingStatus.EXCEPTION,
                TrackingStatus.FAILED_ATTEMPT,
                TrackingStatus.RETURNED_TO_SENDER,
                TrackingStatus.LOST,
            )
        ),
        None,
    )
    expected = max((p.expected_delivery for p in parcels if p.expected_delivery), default=None)
    return {
        "number": order.number,
        "first_name": (order.ship_name or "").split(" ")[0],
        "city": order.ship_city,
        "cancelled": order.status == OrderStatus.CANCELLED,
        "delivered": order.status == OrderStatus.DELIVERED,
        "steps": steps,
        "parcels": parcels,
        "scans": scans,
        "expected": expected,
        "problem": problem,
    }
