"""POST /webhooks/tracking/aftership/ end to end: stored raw, signature checked, parsed, recorded."""

import json
from pathlib import Path

import pytest

from fulfillment.status import ShipmentStatus
from logistics.models import TrackingEvent
from logistics.providers.aftership import compute_signature
from logistics.status import TrackingStatus
from orders.models import InboundMessage
from orders.status import OrderStatus
from tests.logistics.casework import order_at, parcel_of, world

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aftership"
URL = "/webhooks/tracking/aftership/"
SECRET = "as-secret-1"


@pytest.fixture
def parcel(django_capture_on_commit_callbacks, settings):
    settings.AFTERSHIP_WEBHOOK_SECRET = SECRET
    world()
    return parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", "A1"))


def body_for(parcel, name: str) -> bytes:
    data = json.loads((FIXTURES / name).read_text())
    data["msg"]["tracking_number"] = parcel.tracking_number
    return json.dumps(data).encode()


def post(client, body: bytes, signature: str | None = None):
    sig = compute_signature(body, SECRET) if signature is None else signature
    return client.post(URL, body, content_type="application/json", HTTP_AFTERSHIP_HMAC_SHA256=sig)


def test_delivered_push_moves_parcel_shipment_and_order(client, parcel):
    response = post(client, body_for(parcel, "tracking_update_delivered.json"))

    assert response.status_code == 200
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.DELIVERED
    assert parcel.shipment.status == ShipmentStatus.DELIVERED
    assert parcel.shipment.order.status == OrderStatus.DELIVERED
    assert TrackingEvent.objects.filter(parcel=parcel, source="aftership").count() == 5
    message = InboundMessage.objects.get(source="webhook:aftership")
    assert message.status == "processed"
    assert message.result == {"events": 5, "recorded": 5, "duplicates": 0, "unknown_tracking_numbers": []}
    assert (
        TrackingEvent.objects.filter(parcel=parcel).order_by("occurred_at").first().raw["checkpoint"]["raw_tag"] == "50"
    )


def test_the_same_push_twice_is_stored_once(client, parcel):
    body = body_for(parcel, "tracking_update_in_transit.json")
    post(client, body)
    events = list(TrackingEvent.objects.values_list("pk", flat=True))

    assert post(client, body).status_code == 200

    assert list(TrackingEvent.objects.values_list("pk", flat=True)) == events
    assert InboundMessage.objects.filter(source="webhook:aftership").count() == 2  # every body is kept
    assert InboundMessage.objects.order_by("-pk").first().result["duplicates"] == 3


def test_a_late_older_push_does_not_move_the_parcel_back(client, parcel):
    post(client, body_for(parcel, "tracking_update_delivered.json"))

    assert post(client, body_for(parcel, "tracking_update_out_of_order.json")).status_code == 200

    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.DELIVERED
    assert parcel.shipment.status == ShipmentStatus.DELIVERED
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 5


def test_bad_signature_is_stored_answered_401_and_changes_nothing(client, parcel):
    body = body_for(parcel, "tracking_update_delivered.json")

    response = post(client, body, signature="bm9wZQ==")

    assert response.status_code == 401
    message = InboundMessage.objects.get(source="webhook:aftership")
    assert message.status == "rejected"
    assert parcel.tracking_number in message.body
    assert TrackingEvent.objects.count() == 0
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.INFO_RECEIVED
    assert parcel.shipment.status == ShipmentStatus.SHIPPED
