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


# ---- one push, many parcels (Count, Data[]): how Kdniao sends them ---------------------------------------------


def many_parcels_push(client, items: list[dict], key: str = APP_KEY):
    data = {"EBusinessID": "1237100", "PushTime": "2026-11-22 09:30:00", "Count": str(len(items)), "Data": items}
    body = build_push_body(json.dumps(data, ensure_ascii=False), key)
    return client.post(URL, body, content_type="application/x-www-form-urlencoded;charset=utf-8")


def item_of(name: str, tracking_number: str) -> dict:
    item = json.loads((FIXTURES / name).read_text(encoding="utf-8"))["Data"][0]
    return {**item, "LogisticCode": tracking_number}


@pytest.fixture
def three(parcel, django_capture_on_commit_callbacks):
    return [parcel] + [parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", f"K{n}")) for n in (2, 3)]


def test_a_push_of_many_parcels_is_one_message_and_records_each_parcels_scans(client, three):
    first, second, third = three
    items = [
        item_of("push_in_transit.json", first.tracking_number),
        item_of("push_delivered.json", second.tracking_number),
        item_of("push_problem_address.json", third.tracking_number),
    ]

    response = many_parcels_push(client, items)

    assert response.status_code == 200
    assert response.json()["Success"] is True
    message = InboundMessage.objects.get(source="webhook:kdniao")
    assert (message.status, message.error) == ("processed", "")
    assert message.result["recorded"] == TrackingEvent.objects.count()
    assert message.result["duplicates"] == 0
    counts = [TrackingEvent.objects.filter(parcel=p).count() for p in three]
    assert counts == [3, 6, len(items[2]["Traces"])]
    for p in three:
        p.refresh_from_db()
    assert [p.status for p in three] == [TrackingStatus.IN_TRANSIT, TrackingStatus.DELIVERED, TrackingStatus.EXCEPTION]
    assert second.shipment.order.status == OrderStatus.DELIVERED


def test_a_bad_parcel_inside_a_push_is_set_aside_and_the_others_are_recorded(client, three):
    first, second, third = three
    broken = item_of("push_in_transit.json", third.tracking_number)
    broken["Traces"] = [*broken["Traces"][:1], {**broken["Traces"][1], "AcceptTime": "yesterday"}]
    items = [
        item_of("push_in_transit.json", first.tracking_number),
        broken,
        item_of("push_delivered.json", second.tracking_number),
    ]

    response = many_parcels_push(client, items)

    assert response.status_code == 200  # stored: Kdniao must not push it again
    message = InboundMessage.objects.get(source="webhook:kdniao")
    assert message.status == "partial"
    expected = (
        "RequestData.Data[1].Traces[1].AcceptTime: not a 'YYYY-MM-DD HH:MM:SS' time: 'yesterday' "
        f"(parcel {third.tracking_number})"
    )
    assert message.result["set_aside"] == [expected]
    assert message.error == f"Parcels set aside: {expected}"
    assert message.result["recorded"] == 9
    assert [TrackingEvent.objects.filter(parcel=p).count() for p in three] == [3, 6, 0]
    third.refresh_from_db()
    assert third.status == TrackingStatus.INFO_RECEIVED  # nothing of the bad parcel applied, not even its good scan
    first.refresh_from_db()
    assert first.status == TrackingStatus.IN_TRANSIT


def test_a_push_whose_every_parcel_is_bad_fails_with_each_reason_and_records_nothing(client, three):
    first, second, _third = three
    items = [
        {**item_of("push_in_transit.json", first.tracking_number), "Traces": "not a list"},
        {**item_of("push_in_transit.json", second.tracking_number), "LogisticCode": ""},
    ]

    assert many_parcels_push(client, items).status_code == 200

    message = InboundMessage.objects.get(source="webhook:kdniao")
    assert message.status == "failed"
    assert message.error == (
        "Unreadable payload: RequestData.Data: no readable parcel: "
        f"RequestData.Data[0].Traces: expected a list (parcel {first.tracking_number}); "
        "RequestData.Data[1].LogisticCode: missing"
    )
    assert TrackingEvent.objects.count() == 0


def test_a_many_parcel_push_retried_records_nothing_twice(client, three):
    first, second, _third = three
    items = [
        item_of("push_in_transit.json", first.tracking_number),
        item_of("push_delivered.json", second.tracking_number),
    ]
    many_parcels_push(client, items)
    many_parcels_push(client, items)

    first_message, second_message = InboundMessage.objects.filter(source="webhook:kdniao").order_by("pk")
    assert first_message.result["recorded"] == 9
    assert (second_message.status, second_message.result["recorded"], second_message.result["duplicates"]) == (
        "processed",
        0,
        9,
    )
    assert TrackingEvent.objects.count() == 9
