"""The EasyPost carrier adapter against responses written to EasyPost's API documentation (the recorded
shipment create/buy of its official Python client, tests/fixtures/easypost/shipment_*.json); only the HTTP
transport is replaced. Also the carriers' tracking number formats and check digits."""

import base64
import json
from decimal import Decimal
from pathlib import Path

import pytest

from logistics.carriers.base import CarrierError, LabelRequest, ShipmentInfo, TransientCarrierError, get_adapter
from logistics.carriers.easypost_labels import EasyPostCarrier, easypost_address, inches, ounces
from logistics.tracking_numbers import (
    FORMATS,
    is_valid_for,
    is_valid_ups,
    is_valid_usps,
    ups_check_digit,
    usps_check_digit,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "easypost"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FakeEasyPost:
    """Answers requests in order with (status, body) and records what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, method, url, headers, body):
        self.requests.append(
            {"method": method, "url": url, "headers": dict(headers), "json": json.loads(body) if body else None}
        )
        return self.answers.pop(0)


SENDER = {
    "name": "Shanghai DC",
    "phone": "021-5555 0000",
    "country": "CN",
    "province": "Shanghai",
    "city": "Shanghai",
    "address1": "1 Warehouse Road",
    "postcode": "200000",
}
RECIPIENT = {
    "name": "Elizabeth Swan",
    "phone": "5555555555",
    "country": "us",
    "province": "CA",
    "city": "Redondo Beach",
    "address1": "179 N Harbor Dr",
    "postcode": "90277",
}


def label_request(**overrides):
    values = dict(
        shipment_number="SH100001",
        service_code="us-priority",
        external_service="USPS:Priority",
        weight_g=437,
        sender=SENDER,
        recipient=RECIPIENT,
        dimensions_mm=(254, 203, 102),
    )
    values.update(overrides)
    return LabelRequest(**values)


def test_create_label_creates_the_shipment_buys_the_named_rate_and_returns_the_pdf_label():
    http = FakeEasyPost((201, fixture("shipment_created.json")), (200, fixture("shipment_bought.json")))
    adapter = EasyPostCarrier(api_key="EZTK_test", transport=http)

    label = adapter.create_label(label_request())

    assert label.tracking_number == "9400100105442285876350"
    assert label.carrier_reference == "shp_9af92e0bdd6a428f8aba267686ab9cae"
    assert label.label_url.endswith("e8befd4ff12e134ac6a31282975b6e7251.pdf")
    assert (label.label_format, label.amount, label.currency) == ("PDF", Decimal("6.95"), "USD")
    create, buy = http.requests
    assert (create["method"], create["url"]) == ("POST", "https://api.easypost.com/v2/shipments")
    assert create["headers"]["Authorization"] == "Basic " + base64.b64encode(b"EZTK_test:").decode()
    assert create["json"] == {
        "shipment": {
            "to_address": {
                "name": "Elizabeth Swan",
                "street1": "179 N Harbor Dr",
                "city": "Redondo Beach",
                "state": "CA",
                "zip": "90277",
                "country": "US",
                "phone": "5555555555",
            },
            "from_address": {
                "name": "Shanghai DC",
                "street1": "1 Warehouse Road",
                "city": "Shanghai",
                "state": "Shanghai",
                "zip": "200000",
                "country": "CN",
                "phone": "021-5555 0000",
            },
            "parcel": {"weight": 15.5, "length": 10.0, "width": 8.0, "height": 4.1},
            "options": {"label_format": "PDF"},
            "reference": "SH100001",
        }
    }
    assert (buy["method"], buy["url"]) == (
        "POST",
        "https://api.easypost.com/v2/shipments/shp_9af92e0bdd6a428f8aba267686ab9cae/buy",
    )
    assert buy["json"] == {"rate": {"id": "rate_7eb8606e070a4df19b70de813f9bea9d"}}


def test_create_label_without_the_named_rate_says_what_was_offered_and_buys_nothing():
    http = FakeEasyPost((201, fixture("shipment_created.json")))
    adapter = EasyPostCarrier(api_key="k", transport=http)
    with pytest.raises(CarrierError) as err:
        adapter.create_label(label_request(external_service="FedEx:Ground"))
    assert str(err.value) == (
        "EasyPost offered no rate 'FedEx:Ground' for SH100001; offered: USPS:Express, USPS:GroundAdvantage, "
        "USPS:Priority (DhlEcs: shipment.customs_info.customs_items.0.code: field required)"
    )
    assert len(http.requests) == 1


def test_rates_are_cheapest_first_named_carrier_colon_service():
    http = FakeEasyPost((201, fixture("shipment_created.json")))
    adapter = EasyPostCarrier(api_key="k", transport=http)
    rates = adapter.rates(ShipmentInfo(weight_g=437, sender=SENDER, recipient=RECIPIENT))
    assert [(r.service_code, r.amount, r.currency, r.transit_days) for r in rates] == [
        ("USPS:GroundAdvantage", Decimal("5.93"), "USD", 3),
        ("USPS:Priority", Decimal("6.95"), "USD", 2),
        ("USPS:Express", Decimal("31.25"), "USD", 0),
    ]
    assert http.requests[0]["json"]["shipment"]["parcel"] == {"weight": 15.5}


def test_error_4xx_is_a_refusal_with_easyposts_message_5xx_is_transient():
    refused = EasyPostCarrier(api_key="k", transport=FakeEasyPost((422, fixture("error_address.json"))))
    with pytest.raises(CarrierError) as err:
        refused.create_label(label_request())
    assert not isinstance(err.value, TransientCarrierError)
    assert str(err.value) == (
        "EasyPost refused (422): ADDRESS.VERIFY.FAILURE Unable to verify address. (address: Address not found)"
    )
    down = EasyPostCarrier(api_key="k", transport=FakeEasyPost((503, b"<html>busy</html>")))
    with pytest.raises(TransientCarrierError, match="EasyPost answered 503: no error details"):
        down.create_label(label_request())


def test_no_api_key_is_refused_before_any_request():
    http = FakeEasyPost()
    with pytest.raises(CarrierError, match="needs an API key"):
        EasyPostCarrier(api_key="", transport=http).create_label(label_request())
    assert http.requests == []


def test_void_refunds_the_shipment_and_a_rejected_refund_raises():
    http = FakeEasyPost(
        (200, fixture("shipment_refund_submitted.json")), (200, fixture("shipment_refund_rejected.json"))
    )
    adapter = EasyPostCarrier(api_key="k", transport=http)
    adapter.void("9400100105442285876350", "shp_9af92e0bdd6a428f8aba267686ab9cae")
    assert (
        http.requests[0]["url"] == "https://api.easypost.com/v2/shipments/shp_9af92e0bdd6a428f8aba267686ab9cae/refund"
    )
    with pytest.raises(CarrierError, match="refund_status 'rejected'"):
        adapter.void("9400100105442285876350", "shp_9af92e0bdd6a428f8aba267686ab9cae")
    with pytest.raises(CarrierError, match="needs its EasyPost shipment id"):
        adapter.void("9400100105442285876350")


def test_track_posts_a_tracker_and_parses_it_like_the_webhook():
    event = json.loads(fixture("tracker_updated_in_transit.json"))
    http = FakeEasyPost((200, json.dumps(event["result"]).encode()))
    adapter = EasyPostCarrier(api_key="k", transport=http)
    events = adapter.track(event["result"]["tracking_code"], carrier="USPS")
    assert http.requests[0]["json"] == {
        "tracker": {"tracking_code": event["result"]["tracking_code"], "carrier": "USPS"}
    }
    assert len(events) == len(event["result"]["tracking_details"])
    assert events == sorted(events, key=lambda e: e.occurred_at)


def test_units_and_address_mapping():
    assert (ounces(437), ounces(0), ounces(28350)) == (15.5, 0.1, 1000.1)
    assert (inches(254), inches(100)) == (10.0, 4.0)
    assert easypost_address(
        {
            "name": "陈静",
            "province": "上海",
            "city": "上海",
            "district": "徐汇区",
            "address1": "漕溪北路 18 号",
            "postcode": "200030",
            "country": "cn",
        }
    ) == {
        "name": "陈静",
        "street1": "徐汇区 漕溪北路 18 号",
        "city": "上海",
        "state": "上海",
        "zip": "200030",
        "country": "CN",
    }


def test_easypost_is_a_registered_adapter():
    assert isinstance(get_adapter("easypost"), EasyPostCarrier)


# ---- tracking number formats -----------------------------------------------------------------


def test_usps_impb_check_digit_of_easyposts_test_label():
    assert usps_check_digit("940010010544228587635") == 0
    assert is_valid_usps("9400 1001 0544 2285 8763 50") is True
    assert is_valid_usps("9400100105442285876351") is False
    assert is_valid_usps("940010010544228587635") is False  # 21 digits


def test_ups_check_digit():
    assert ups_check_digit("999AA1012345678") == 4
    assert is_valid_ups("1Z999AA10123456784") is True
    assert is_valid_ups("1Z999AA10123456785") is False
    assert is_valid_ups("1Z999AA1012345678") is False


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("s10", "RR473124829GB", "RR473124828GB"),
        ("sf", "SF1234567890123", "SF123456789012"),
        ("sf", "123456789012", "12345678901"),
        ("zto", "78123456789012", "781234567890123"),
        ("yto", "YT1234567890123", "YT123456789012"),
        ("easypost", "EZ1000000001", "EZ100000001"),
        ("easypost", "9400100105442285876350", "9400100105442285876351"),
        ("usps", "9400100105442285876350", "EZ1000000001"),
        ("", "ABC123456", "AB-12"),
    ],
)
def test_each_carriers_format(fmt, good, bad):
    assert is_valid_for(fmt, good) is True
    assert is_valid_for(fmt, bad) is False


def test_which_formats_have_a_check_digit():
    assert sorted(name for name, (_, check, _) in FORMATS.items() if check) == ["domestic", "s10", "ups", "usps"]
