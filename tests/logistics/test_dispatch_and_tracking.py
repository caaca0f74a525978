import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fulfillment import services as fulfillment_services
from fulfillment.status import ShipmentStatus
from inventory.models import HandlingClass
from logistics import services
from logistics.models import Parcel, TrackingEvent
from logistics.providers.base import NormalizedEvent
from logistics.status import TrackingStatus
from logistics.tracking_numbers import is_valid_s10
from oms.errors import DomainError
from orders import services as order_services
from orders.status import OrderStatus
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    ServiceLevelFactory,
    canonical,
    stock,
)

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "easypost"


@pytest.fixture
def packed(django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha")
    product = ProductFactory(sku="SKU-A", weight_g=400)
    stock(location, product, 10)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(channel=ChannelFactory(slug="web"), data=canonical(), source="t").order
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=900)
    return shipment


def event(parcel, status, minutes, description=""):
    when = datetime(2026, 11, 20, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return NormalizedEvent.build(
        tracking_number=parcel.tracking_number, status=status, occurred_at=when, description=description,
        location="Shanghai", carrier_status=status, raw={},
    )


def test_dispatch_picks_the_cheapest_fitting_service_and_ships(packed):
    cheap = ServiceLevelFactory(code="eco", base_rate="5.00", per_kg_rate="1.00", transit_days=5)
    ServiceLevelFactory(code="exp", base_rate="15.00", per_kg_rate="3.00", transit_days=1)

    parcel = services.shipment_dispatch(shipment=packed)

    assert parcel.service == cheap
    assert is_valid_s10(parcel.tracking_number)
    assert parcel.tracking_number.startswith("LC") and parcel.tracking_number.endswith("CN")
    assert parcel.weight_g == 900
    assert parcel.expected_delivery is not None
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.SHIPPED
    assert packed.order.status == OrderStatus.SHIPPED
    # Dispatching twice returns the same parcel, ships nothing more.
    assert services.shipment_dispatch(shipment=packed) == parcel
    assert Parcel.objects.count() == 1


def test_fresh_goods_need_a_cold_chain_service(django_capture_on_commit_callbacks):
    location = LocationFactory(code="cold", cold_chain=True)
    stock(location, ProductFactory(sku="FRESH-9", handling_class=HandlingClass.FRESH), 5)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=ChannelFactory(slug="web"), data=canonical(lines=[("FRESH-9", 1)]), source="t"
        ).order
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=900)
    ServiceLevelFactory(code="eco", base_rate="1.00")
    with pytest.raises(DomainError, match="No active carrier service"):
        services.shipment_dispatch(shipment=shipment)
    assert not Parcel.objects.exists()
    cold = ServiceLevelFactory(code="cold", base_rate="30.00", cold_chain=True)
    assert services.shipment_dispatch(shipment=shipment).service == cold


def test_events_move_forward_only_and_duplicates_are_stored_once(packed):
    ServiceLevelFactory()
    parcel = services.shipment_dispatch(shipment=packed)

    assert services.tracking_event_record(parcel=parcel, event=event(parcel, "in_transit", 10), source="t") is True
    assert services.tracking_event_record(parcel=parcel, event=event(parcel, "in_transit", 10), source="t") is False
    assert services.tracking_event_record(parcel=parcel, event=event(parcel, "delivered", 90), source="t") is True
    # A late in-transit scan arrives after delivery: stored, but nothing moves back.
    assert services.tracking_event_record(parcel=parcel, event=event(parcel, "in_transit", 30, "late"), source="t")

    parcel.refresh_from_db()
    packed.refresh_from_db()
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 3
    assert parcel.status == TrackingStatus.DELIVERED
    assert packed.status == ShipmentStatus.DELIVERED
    assert packed.order.status == OrderStatus.DELIVERED


def test_easypost_webhook_delivers_the_order_and_replay_changes_nothing(packed, client, settings):
    settings.EASYPOST_WEBHOOK_SECRET = "s3cret"
    ServiceLevelFactory()
    parcel = services.shipment_dispatch(shipment=packed)
    payload = json.loads((FIXTURES / "tracker_updated_delivered.json").read_text())
    payload["result"]["tracking_code"] = parcel.tracking_number
    body = json.dumps(payload).encode()
    from logistics.providers.easypost import compute_signature

    headers = {"HTTP_X_HMAC_SIGNATURE": compute_signature(body, "s3cret")}
    url = "/webhooks/tracking/easypost/"

    first = client.post(url, body, content_type="application/json", **headers)
    assert first.status_code == 200
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.DELIVERED
    assert packed.order.status == OrderStatus.DELIVERED
    count = TrackingEvent.objects.count()
    assert count == len(payload["result"]["tracking_details"])

    again = client.post(url, body, content_type="application/json", **headers)
    assert again.status_code == 200
    assert TrackingEvent.objects.count() == count


def test_webhook_with_bad_signature_is_stored_401_and_changes_nothing(packed, client, settings):
    from orders.models import InboundMessage

    settings.EASYPOST_WEBHOOK_SECRET = "s3cret"
    ServiceLevelFactory()
    parcel = services.shipment_dispatch(shipment=packed)
    payload = json.loads((FIXTURES / "tracker_updated_delivered.json").read_text())
    payload["result"]["tracking_code"] = parcel.tracking_number
    response = client.post("/webhooks/tracking/easypost/", json.dumps(payload), content_type="application/json",
                           HTTP_X_HMAC_SIGNATURE="hmac-sha256-hex=deadbeef")
    assert response.status_code == 401
    message = InboundMessage.objects.get(source="webhook:easypost")
    assert message.status == "rejected"
    assert parcel.tracking_number in message.body
    assert TrackingEvent.objects.count() == 0
