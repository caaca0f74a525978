"""A small world for the tracking, ETA and exception-case tests: orders taken to a stage with the real services.

Only timestamps are moved by hand (`backdate`), to put preconditions on a controlled clock; every state is
reached through the services."""

from datetime import UTC, datetime, timedelta

from fulfillment import services as fulfillment_services
from fulfillment.models import Shipment
from logistics import services as logistics_services
from logistics.models import Carrier, Parcel
from logistics.providers.base import NormalizedEvent
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, stock

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Friday


def world(stock_qty: int = 50) -> dict:
    location = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", province="Shanghai")
    product = ProductFactory(sku="SKU-A", weight_g=400)
    stock(location, product, stock_qty, bin="A-01")
    service = ServiceLevelFactory(code="std", transit_days=3)
    return {"location": location, "product": product, "service": service, "channel": ChannelFactory(slug="web")}


def order_at(capture, stage: str, external_id: str, *, qty: int = 1, **overrides):
    """Create an order and take it to: allocated, picking, packed, shipped. Returns the order."""
    channel = ChannelFactory(slug="web")
    data = canonical(external_id, lines=[("SKU-A", qty)], **overrides)
    with capture(execute=True):
        order = order_services.order_create(channel=channel, data=data, source="test").order
    order.refresh_from_db()
    if stage == "created":
        return order
    shipment = order.shipments.get()
    if stage == "allocated":
        return order
    fulfillment_services.picklist_create(location=shipment.location)
    if stage == "picking":
        return order
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    if stage == "packed":
        return order
    logistics_services.shipment_dispatch(shipment=shipment)
    order.refresh_from_db()
    return order


def parcel_of(order) -> Parcel:
    return Parcel.objects.select_related("shipment__order", "service__carrier").get(shipment__order=order)


def event(parcel, status, when, description="", carrier_status="", est=None):
    return NormalizedEvent.build(
        tracking_number=parcel.tracking_number,
        status=status,
        occurred_at=when,
        description=description,
        location="Beijing",
        carrier_status=carrier_status,
        est_delivery_date=est,
        raw={"carrier_status": carrier_status} if carrier_status else {},
    )


def record(parcel, status, when, now=None, **kw) -> bool:
    return logistics_services.tracking_event_record(
        parcel=parcel, event=event(parcel, status, when, **kw), source="test", now=now
    )


def backdate(order, *, created=None, shipped=None) -> None:
    """Move an order's or its shipments' timestamps to a controlled clock (preconditions only)."""
    if created is not None:
        type(order).objects.filter(pk=order.pk).update(created_at=created)
        Shipment.objects.filter(order=order).update(created_at=created)
    if shipped is not None:
        Shipment.objects.filter(order=order, shipped_at__isnull=False).update(shipped_at=shipped)


def carrier() -> Carrier:
    return Carrier.objects.get(code="local")


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
