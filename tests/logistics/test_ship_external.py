"""Ship with a number from elsewhere (issue 13, item 8): a tracking number from a label made outside the OMS, at
the pack station, on the shipment page and in the API. No label is bought or drawn; the shipment ships as usual."""

import json
from datetime import UTC, datetime

import pytest

from fulfillment.models import Shipment
from inventory.models import Stock
from logistics import services as logistics_services
from logistics.external_labels import tracking_number_clean
from logistics.models import Parcel
from logistics.providers.base import NormalizedEvent, make_dedupe_key
from oms.models import ApiToken
from orders.care.tracking_links import tracking_token
from orders.models import Notification, OrderEvent
from tests import journey
from tests.factories import CarrierFactory, ServiceLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned(settings):
    settings.OMS_NOTIFICATIONS_SUPPRESSED = False


@pytest.fixture
def packed(django_capture_on_commit_callbacks):
    journey.world()
    ServiceLevelFactory(carrier=CarrierFactory(code="sf", name="SF Express", adapter="local"), code="sf-std")
    order = journey.order_through(django_capture_on_commit_callbacks, "packed")
    return order.shipments.get()


def _stock(shipment):
    row = Stock.objects.get(location=shipment.location, product__sku="SKU-A")
    return row.on_hand, row.reserved


def _state(shipment):
    s = Shipment.objects.get(pk=shipment.pk)
    return (s.status, s.weight_g, Parcel.objects.count(), OrderEvent.objects.count(), _stock(s))


@pytest.fixture
def api(client):
    users = journey.users()
    keys = {role: ApiToken.issue(users[role])[1] for role in ("warehouse", "customer_service")}

    def call(number, body, role="warehouse", raw=None):
        return client.post(
            f"/api/v1/shipments/{number}/ship-external/",
            raw if raw is not None else json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {keys[role]}",
        )

    return call


# ---- the number ---------------------------------------------------------------------------------------


def test_tracking_numbers_are_trimmed_and_checked():
    assert tracking_number_clean("  sf 1234 5678 9012 ") == "SF123456789012"
    assert tracking_number_clean("1Z-999-AA1") == "1Z-999-AA1"


# ---- API ----------------------------------------------------------------------------------------------


def test_api_ships_under_a_known_carrier_without_a_label(api, packed, client, django_capture_on_commit_callbacks):
    on_hand, reserved = _stock(packed)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(packed.number, {"carrier": "sf", "tracking_number": " sf1234 5678 90 "})
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("shipment_status", "carrier", "carrier_name", "tracking_number")} == {
        "shipment_status": "shipped",
        "carrier": "sf",
        "carrier_name": "SF Express",
        "tracking_number": "SF1234567890",
    }
    assert (body["external_label"], body["label_url"], body["service"]) == (True, None, "sf-std")
    parcel = Parcel.objects.get()
    assert (parcel.external_label, parcel.label_url, parcel.carrier_reference) == (True, "", "")
    assert Shipment.objects.get(pk=packed.pk).status == "shipped"
    assert _stock(packed) == (on_hand - 1, reserved - 1)  # out of on hand and the reservation
    events = OrderEvent.objects.filter(order=packed.order, kind="shipped").order_by("id")
    event = events.get(data__external_label=True)
    assert event.message == "Shipped with SF Express under SF1234567890; the label was made outside the OMS."
    assert event.data["external_label"] is True
    note = Notification.objects.get(order=packed.order, kind="shipped")
    assert "SF1234567890" in note.body_text and "SF Express" in note.body_text
    # The label was made elsewhere: no PDF from the OMS.
    client.force_login(journey.users()["warehouse"])
    assert client.get(f"/logistics/parcels/{parcel.pk}/label/").status_code == 302
    assert client.get(f"/logistics/parcels/{parcel.pk}/label.zpl").status_code == 302


def test_api_other_carrier_by_name_and_tracking_pushes_find_the_parcel(api, packed, client):
    response = api(packed.number, {"carrier": "other", "carrier_name": " 顺心捷达 ", "tracking_number": "SX-88990011"})
    assert response.status_code == 201, response.content
    parcel = Parcel.objects.get()
    carrier = parcel.service.carrier
    assert (parcel.carrier_name, carrier.code, carrier.active) == ("顺心捷达", "other", False)
    assert response.json()["carrier_name"] == "顺心捷达"
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    event = NormalizedEvent(
        tracking_number="SX-88990011",
        status="in_transit",
        occurred_at=at,
        description="Departed hub",
        location="Hangzhou",
        carrier_status="transit",
        dedupe_key=make_dedupe_key("SX-88990011", "in_transit", at, "Departed hub"),
    )
    batch = logistics_services.tracking_events_record(entries=[(event, "aftership")])
    assert batch.parcels == {"SX-88990011": parcel.pk}
    parcel.refresh_from_db()
    assert parcel.status == "in_transit"
    assert Shipment.objects.get(pk=packed.pk).status == "in_transit"
    page = client.get(f"/track/{tracking_token(packed.order.number)}/").content.decode()
    assert "顺心捷达" in page and "SX-88990011" in page


BAD = [
    ({}, {"carrier", "tracking_number"}),
    ({"carrier": "sf"}, {"tracking_number"}),
    ({"carrier": "sf", "tracking_number": "12345"}, {"tracking_number"}),
    ({"carrier": "sf", "tracking_number": "A" * 41}, {"tracking_number"}),
    ({"carrier": "sf", "tracking_number": "SF12345678;DROP"}, {"tracking_number"}),
    ({"carrier": "sf", "tracking_number": "SF1234\x005678"}, {"tracking_number"}),
    ({"carrier": "sf", "tracking_number": "ＳＦ１２３４５６７"}, {"tracking_number"}),
    ({"carrier": "sf", "tracking_number": 12345678}, {"tracking_number"}),
    ({"carrier": "sf", "tracking_number": ["SF12345678"]}, {"tracking_number"}),
    ({"carrier": "nope", "tracking_number": "SF12345678"}, {"carrier"}),
    ({"carrier": "s\x00f", "tracking_number": "SF12345678"}, {"carrier"}),
    ({"carrier": 7, "tracking_number": "SF12345678"}, {"carrier"}),
    ({"carrier": "other", "tracking_number": "SF12345678"}, {"carrier_name"}),
    ({"carrier": "other", "carrier_name": "x" * 101, "tracking_number": "SF12345678"}, {"carrier_name"}),
    ({"carrier": "other", "carrier_name": {"a": 1}, "tracking_number": "SF12345678"}, {"carrier_name"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD)
def test_api_bad_input_is_400_with_field_errors_and_changes_nothing(api, packed, body, fields):
    before = _state(packed)
    response = api(packed.number, body)
    assert response.status_code == 400, response.content
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert _state(packed) == before


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "null", '{"carrier": "sf"', "\ufeff"])
def test_api_bodies_that_are_not_an_object_are_400(api, packed, raw):
    before = _state(packed)
    assert api(packed.number, None, raw=raw).status_code == 400
    assert _state(packed) == before


def test_api_refuses_a_number_already_used_and_other_states(api, packed, django_capture_on_commit_callbacks):
    journey.order_through(django_capture_on_commit_callbacks, "packed", external_id="J2")
    other = Shipment.objects.exclude(pk=packed.pk).get()
    assert api(other.number, {"carrier": "sf", "tracking_number": "SF1234567890"}).status_code == 201
    before = _state(packed)
    dup = api(packed.number, {"carrier": "sf", "tracking_number": "sf 1234567890"})
    assert dup.status_code == 400
    assert dup.json()["errors"] == [
        {
            "field": "tracking_number",
            "message": f"Tracking number SF1234567890 is already used by the parcel of shipment {other.number} "
            "(SF Express).",
        }
    ]
    assert _state(packed) == before
    # Shipped already: 409; unknown shipment: 404; a role without the pack permission: 403.
    again = api(other.number, {"carrier": "sf", "tracking_number": "SF0000000001"})
    assert again.status_code == 409 and "already has parcel SF1234567890" in again.json()["error"]
    assert api("SH999999", {"carrier": "sf", "tracking_number": "SF0000000001"}).status_code == 404
    # a NUL in a URL is bad input (oms/request_guard.py), whatever the view
    assert api("SH%00", {"carrier": "sf", "tracking_number": "SF0000000001"}).status_code == 400
    cs = api(packed.number, {"carrier": "sf", "tracking_number": "SF0000000001"}, role="customer_service")
    assert cs.status_code == 403
    assert _state(packed) == before


def test_api_refuses_a_shipment_that_is_not_packed(api, django_capture_on_commit_callbacks):
    journey.world()
    CarrierFactory(code="sf", name="SF Express")
    order = journey.order_through(django_capture_on_commit_callbacks, "picking")
    shipment = order.shipments.get()
    before = _state(shipment)
    response = api(shipment.number, {"carrier": "sf", "tracking_number": "SF0000000001"})
    assert response.status_code == 409 and "pack it first" in response.json()["error"]
    assert _state(shipment) == before


def test_openapi_documents_the_endpoint(client):
    doc = client.get("/api/schema/").json()
    post = doc["paths"]["/shipments/{number}/ship-external/"]["post"]
    assert set(post["responses"]) == {"201", "400", "401", "403", "404", "409"}
    assert doc["components"]["schemas"]["ShipExternalIn"]["required"] == ["carrier", "tracking_number"]


# ---- the shipment page -----------------------------------------------------------------------------------


def test_shipment_page_ships_with_a_number_from_elsewhere(client, packed):
    client.force_login(journey.users()["warehouse"])
    page = client.get(f"/fulfillment/shipments/{packed.number}/").content.decode()
    assert 'id="ship-external"' in page and "Label made elsewhere?" in page and 'value="other"' in page
    url = f"/logistics/shipments/{packed.number}/ship-external/"
    response = client.post(url, {"carrier": "sf", "tracking_number": "SF7777777777"})
    assert response.status_code == 302 and response.url == f"/fulfillment/shipments/{packed.number}/"
    page = client.get(response.url).content.decode()
    assert "SF7777777777" in page and "Label made elsewhere (no OMS label)" in page
    assert 'id="ship-external"' not in page  # shipped: nothing more to do here
    assert Shipment.objects.get(pk=packed.pk).status == "shipped"


def test_shipment_page_bad_input_is_400_with_the_errors_and_changes_nothing(client, packed):
    client.force_login(journey.users()["warehouse"])
    url = f"/logistics/shipments/{packed.number}/ship-external/"
    before = _state(packed)
    cases = [
        ({"carrier": "sf", "tracking_number": "12"}, "at least 6 characters"),
        ({"carrier": "other", "tracking_number": "SF12345678"}, "Name the carrier."),
        ({"carrier": "bogus", "tracking_number": "SF12345678"}, "Select a valid choice"),
        ({"carrier": "sf", "tracking_number": "SF<script>1"}, "only letters A-Z, digits and"),
        ({"carrier": "sf", "tracking_number": "SF123\x00456"}, "Null characters are not allowed"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert _state(packed) == before
    assert client.get(url).status_code == 200


# ---- the pack station --------------------------------------------------------------------------------------


def _scanned(client, django_capture_on_commit_callbacks):
    journey.world()
    CarrierFactory(code="sf", name="SF Express")
    order = journey.order_through(django_capture_on_commit_callbacks, "picking")
    shipment = order.shipments.get()
    client.force_login(journey.users()["warehouse"])
    part = client.post(
        f"/fulfillment/pack/{shipment.number}/scan/", {"code": "SKU-A"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "all items scanned" in part
    return shipment, part


def test_pack_station_packs_and_ships_with_a_number_from_elsewhere(client, django_capture_on_commit_callbacks):
    shipment, part = _scanned(client, django_capture_on_commit_callbacks)
    assert 'id="ship-external"' in part and 'name="weight_kg"' in part and 'name="from" value="pack"' in part
    on_hand, reserved = _stock(shipment)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/logistics/shipments/{shipment.number}/ship-external/",
            {
                "from": "pack",
                "carrier": "sf",
                "tracking_number": "SF5555555555",
                "weight_kg": "0.9",
                "package_type": "box-s",
            },
        )
    assert response.status_code == 302
    assert response.url == f"/fulfillment/pack/?done={shipment.number}"
    done = client.get(response.url).content.decode()
    assert "Open label to print" not in done and "shipped with SF Express under SF5555555555" in done
    s = Shipment.objects.get(pk=shipment.pk)
    assert (s.status, s.weight_g, s.package_type) == ("shipped", 900, "box-s")
    assert _stock(shipment) == (on_hand - 1, reserved - 1)
    assert Notification.objects.filter(order=shipment.order, kind="shipped").count() == 1


def test_pack_station_refused_number_leaves_the_shipment_unpacked(client, django_capture_on_commit_callbacks):
    shipment, _ = _scanned(client, django_capture_on_commit_callbacks)
    before = _state(shipment)
    for data in (
        {"from": "pack", "carrier": "sf", "tracking_number": "SF5555555555", "weight_kg": "0", "package_type": "box-s"},
        {"from": "pack", "carrier": "sf", "tracking_number": "bad!", "weight_kg": "1", "package_type": "box-s"},
        {
            "from": "pack",
            "carrier": "sf",
            "tracking_number": "SF5555555555",
            "weight_kg": "1e30",
            "package_type": "box-s",
        },
    ):
        response = client.post(f"/logistics/shipments/{shipment.number}/ship-external/", data)
        assert response.status_code == 400, data
        assert 'name="from" value="pack"' in response.content.decode()
    assert _state(shipment) == before
    assert Shipment.objects.get(pk=shipment.pk).status == "picking"
