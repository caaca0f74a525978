"""POST /webhooks/tracking/kdniao/ end to end: a form push, DataSign checked, Kdniao's answer returned."""

import json
from pathlib import Path

import pytest

from fulfillment.status import ShipmentStatus
from logistics.models import TrackingEvent
from logistics.providers.kdniao import build_push_body
from logistics.status import TrackingStatus
from orders.models import InboundMessage
from orders.status import OrderStatus
from tests.logistics.casework import order_at, parcel_of, world

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kdniao"
URL = "/webhooks/tracking/kdniao/"
APP_KEY = "kd-app-key"


@pytest.fixture
def parcel(django_capture_on_commit_callbacks, settings):
    settings.KDNIAO_WEBHOOK_SECRET = APP_KEY
    settings.KDNIAO_EBUSINESS_ID = "1237100"
    world()
    return parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", "K1"))


def push(client, parcel, name: str, key: str = APP_KEY):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    data["Data"][0]["LogisticCode"] = parcel.tracking_number
    body = build_push_body(json.dumps(data, ensure_ascii=False), key)
    return client.post(URL, body, content_type="application/x-www-form-urlencoded;charset=utf-8")


def test_delivered_push_is_applied_and_answered_the_kdniao_way(client, parcel):
    response = push(client, parcel, "push_delivered.json")

    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"EBusinessID", "UpdateTime", "Success", "Reason"}
    assert (answer["EBusinessID"], answer["Success"], answer["Reason"]) == ("1237100", True, "")
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.DELIVERED
    assert parcel.shipment.status == ShipmentStatus.DELIVERED
    assert parcel.shipment.order.status == OrderStatus.DELIVERED
    assert [e.status for e in TrackingEvent.objects.filter(parcel=parcel)] == ["in_transit"] * 4 + [
        "out_for_delivery",
        "delivered",
    ]
    assert TrackingEvent.objects.filter(parcel=parcel).last().description == "已签收，签收人：本人"


def test_the_same_push_twice_is_stored_once(client, parcel):
    push(client, parcel, "push_in_transit.json")
    assert push(client, parcel, "push_in_transit.json").json()["Success"] is True
    assert TrackingEvent.objects.count() == 3
    assert InboundMessage.objects.order_by("-pk").first().result["duplicates"] == 3


def test_an_older_push_after_delivery_changes_nothing(client, parcel):
    push(client, parcel, "push_delivered.json")
    push(client, parcel, "push_in_transit.json")
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.DELIVERED
    assert TrackingEvent.objects.count() == 6


def test_bad_data_sign_is_stored_refused_and_changes_nothing(client, parcel):
    response = push(client, parcel, "push_delivered.json", key="not-our-key")

    assert response.status_code == 401
    assert response.json()["Success"] is False
    assert InboundMessage.objects.get(source="webhook:kdniao").status == "rejected"
    assert TrackingEvent.objects.count() == 0
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.INFO_RECEIVED


def test_problem_push_sets_the_parcel_to_exception(client, parcel):
    push(client, parcel, "push_problem_address.json")
    parcel.refresh_from_db()
    assert parcel.status == TrackingStatus.EXCEPTION
    assert TrackingEvent.objects.filter(parcel=parcel).last().raw["carrier_status"] == "kdniao/420"
