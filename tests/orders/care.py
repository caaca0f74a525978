"""Helpers for the customer-promise tests: an order taken to delivery with the real services."""

from datetime import UTC, datetime, timedelta

from logistics import services as logistics_services
from logistics.providers.base import NormalizedEvent
from tests import journey

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def scan(parcel, status, minutes=0, description="", location="Shanghai"):
    return NormalizedEvent.build(
        tracking_number=parcel.tracking_number,
        status=status,
        occurred_at=T0 + timedelta(minutes=minutes),
        description=description,
        location=location,
    )


def record(capture, parcel, status, minutes=0, **kw):
    with capture(execute=True):
        return logistics_services.tracking_event_record(
            parcel=parcel, event=scan(parcel, status, minutes, **kw), source="test"
        )


def shipped(capture, external_id="J1"):
    journey.world()
    with capture(execute=True):
        order = journey.order_through(capture, "shipped", external_id=external_id)
    order.refresh_from_db()
    return order


def delivered(capture, external_id="J1"):
    order = shipped(capture, external_id)
    parcel = order.shipments.get().parcels.get()
    record(capture, parcel, "in_transit", 10)
    record(capture, parcel, "delivered", 600)
    order.refresh_from_db()
    return order
