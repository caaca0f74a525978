"""Tracking states say what happened (issue 13 item 6), end to end through the real webhook views with signed
pushes: a refusal after out-for-delivery, a parcel not collected from a locker, a failed attempt, an exception
that clears and ends delivered, unknown carrier codes, and the timeline in event order. Each test shows the
parcel, the shipment, the order, the case and the customer's page."""

import json
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from fulfillment.status import ShipmentStatus
from logistics.cases import rules
from logistics.cases.types import CaseType
from logistics.models import ExceptionCase, Parcel, TrackingEvent
from logistics.providers import aftership, easypost
from logistics.providers.kdniao import build_push_body
from logistics.status import TrackingStatus as T
from orders.care.tracking_links import tracking_token
from orders.models import InboundMessage, OrderEvent
from orders.status import OrderStatus
from tests.factories import make_user
from tests.logistics.casework import T0, order_at, parcel_of, world

pytestmark = pytest.mark.django_db

EP_SECRET, AS_SECRET, KD_KEY = "ep-secret", "as-secret", "kd-app-key"


@pytest.fixture
def parcel(django_capture_on_commit_callbacks, settings):
    settings.EASYPOST_WEBHOOK_SECRET = EP_SECRET
    settings.AFTERSHIP_WEBHOOK_SECRET = AS_SECRET
    settings.KDNIAO_WEBHOOK_SECRET = KD_KEY
    settings.KDNIAO_EBUSINESS_ID = "1237100"
    cache.clear()  # the public page is cached per order and timeline row; ids repeat between tests on SQLite
    world()
    return parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", "TRUTH1"))


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- signed pushes, as each provider sends them ----------------------------------------------------------------


def easypost_push(client, parcel, details):
    """details: (status, status_detail, hours after T0, message), in any order (EasyPost sends the whole history)."""
    tracker = {
        "object": "Tracker",
        "id": "trk_1",
        "tracking_code": parcel.tracking_number,
        "carrier": "USPS",
        "status": details[-1][0],
        "tracking_details": [
            {
                "object": "TrackingDetail",
                "status": status,
                "status_detail": detail,
                "datetime": at(hours),
                "message": message,
                "tracking_location": {"city": "DENVER", "state": "CO", "country": "US"},
            }
            for status, detail, hours, message in details
        ],
    }
    body = json.dumps({"object": "Event", "id": "evt_1", "description": "tracker.updated", "result": tracker}).encode()
    response = client.post(
        "/webhooks/tracking/easypost/",
        body,
        content_type="application/json",
        HTTP_X_HMAC_SIGNATURE=easypost.compute_signature(body, EP_SECRET),
    )
    assert response.status_code == 200
    return InboundMessage.objects.order_by("-pk").first()


def aftership_push(client, parcel, checkpoints):
    """checkpoints: (tag, subtag, hours after T0, message)."""
    msg = {
        "id": "as1",
        "tracking_number": parcel.tracking_number,
        "slug": "sf-express",
        "tag": checkpoints[-1][0],
        "checkpoints": [
            {"checkpoint_time": at(h), "tag": tag, "subtag": subtag, "message": message, "location": "Shanghai"}
            for tag, subtag, h, message in checkpoints
        ],
    }
    body = json.dumps({"ts": 1, "event": "tracking_update", "event_id": "e1", "msg": msg}).encode()
    response = client.post(
        "/webhooks/tracking/aftership/",
        body,
        content_type="application/json",
        HTTP_AFTERSHIP_HMAC_SHA256=aftership.compute_signature(body, AS_SECRET),
    )
    assert response.status_code == 200
    return InboundMessage.objects.order_by("-pk").first()


def kdniao_push(client, parcel, traces, state="2"):
    """traces: (Action, hours after T0, AcceptStation); Kdniao's times are Beijing time without an offset."""
    beijing = [(T0 + timedelta(hours=h + 8)).strftime("%Y-%m-%d %H:%M:%S") for _a, h, _s in traces]
    record = {
        "EBusinessID": "1237100",
        "ShipperCode": "ZTO",
        "LogisticCode": parcel.tracking_number,
        "Success": True,
        "State": state,
        "StateEx": traces[-1][0],
        "Traces": [
            {"AcceptTime": when, "AcceptStation": station, "Action": action, "Location": "上海"}
            for (action, _h, station), when in zip(traces, beijing, strict=True)
        ],
    }
    data = {"EBusinessID": "1237100", "PushTime": "2026-11-20 10:00:00", "Count": 1, "Data": [record]}
    body = build_push_body(json.dumps(data, ensure_ascii=False), KD_KEY)
    response = client.post(
        "/webhooks/tracking/kdniao/", body, content_type="application/x-www-form-urlencoded;charset=utf-8"
    )
    assert response.status_code == 200 and response.json()["Success"] is True
    return InboundMessage.objects.order_by("-pk").first()


# ---- what each side sees ---------------------------------------------------------------------------------------


def states(parcel):
    parcel.refresh_from_db()
    return parcel.status, parcel.shipment.status, parcel.shipment.order.status


def cases_of(parcel):
    return list(ExceptionCase.objects.filter(order=parcel.shipment.order).values_list("type", "status"))


def public_page(client, parcel, zh=False):
    headers = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"} if zh else {"HTTP_ACCEPT_LANGUAGE": "en"}
    response = client.get(f"/track/{tracking_token(parcel.shipment.order.number)}/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def headline(html: str) -> str:
    start = html.index("<h1>") + 4
    return html[start : html.index("</h1>", start)]


# ---- 1. a refused parcel after out-for-delivery ----------------------------------------------------------------

EP_OUT = [
    ("pre_transit", "label_created", 0, "Shipping Label Created"),
    ("in_transit", "arrived_at_facility", 5, "Arrived at USPS Regional Facility"),
    ("out_for_delivery", "out_for_delivery", 20, "Out for Delivery"),
]


def test_easypost_refused_after_out_for_delivery_returns_to_sender_with_a_case(client, parcel):
    easypost_push(client, parcel, EP_OUT)
    assert states(parcel) == (T.OUT_FOR_DELIVERY, ShipmentStatus.OUT_FOR_DELIVERY, OrderStatus.SHIPPED)

    refused = EP_OUT + [("failure", "refused", 22, "Refused by recipient")]
    easypost_push(client, parcel, refused)

    assert states(parcel) == (T.RETURNING_TO_SENDER, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.RETURNED, "open")]
    case = ExceptionCase.objects.get()
    assert (case.parcel, case.facts["carrier_status"], case.facts["status"]) == (
        parcel,
        "failure/refused",
        "returning_to_sender",
    )
    assert headline(public_page(client, parcel)) == "Your parcel is on its way back to us"
    assert "is on its way back to us. When it arrives we will contact you" in public_page(client, parcel)
    assert headline(public_page(client, parcel, zh=True)) == "包裹正在退回"

    # The way back is scanned "in transit": the parcel stays on its way back; the same push again changes nothing.
    easypost_push(client, parcel, refused + [("in_transit", "departed_facility", 30, "Departed USPS Facility")])
    easypost_push(client, parcel, refused)
    assert states(parcel) == (T.RETURNING_TO_SENDER, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.RETURNED, "open")]  # one problem, one case
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 5


def test_before_the_fix_the_refusal_was_hidden_behind_out_for_delivery(client, parcel):
    """The scan that used to be dropped as "backwards" is applied and on the timeline as applied."""
    easypost_push(client, parcel, EP_OUT + [("failure", "refused", 22, "Refused by recipient")])
    scan = OrderEvent.objects.get(order=parcel.shipment.order, kind="tracking", data__status="returning_to_sender")
    assert scan.data["applied"] is True and scan.data["carrier_status"] == "failure/refused"
    assert "Returning to sender" in scan.message


def test_kdniao_refused_after_out_for_delivery(client, parcel):
    out = [("1", 0, "【上海】已揽收"), ("204", 5, "到达【上海转运中心】"), ("202", 20, "【上海】派件中")]
    kdniao_push(client, parcel, out)
    assert states(parcel) == (T.OUT_FOR_DELIVERY, ShipmentStatus.OUT_FOR_DELIVERY, OrderStatus.SHIPPED)

    kdniao_push(client, parcel, out + [("404", 22, "收件人拒收，快件退回")], state="4")

    assert states(parcel) == (T.RETURNING_TO_SENDER, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.RETURNED, "open")]
    assert headline(public_page(client, parcel, zh=True)) == "包裹正在退回"
    assert "包裹未能送达，正在退回我们的仓库" in public_page(client, parcel, zh=True)


# ---- 2. a parcel not collected from a locker or pickup point ---------------------------------------------------


def test_kdniao_not_collected_from_the_locker_then_returned_is_one_case(client, parcel):
    locker = [("1", 0, "已揽收"), ("202", 20, "派件中"), ("211", 22, "已放入【丰巢】快递柜")]
    kdniao_push(client, parcel, locker)
    assert states(parcel) == (T.AVAILABLE_FOR_PICKUP, ShipmentStatus.OUT_FOR_DELIVERY, OrderStatus.SHIPPED)

    overdue = locker + [("412", 94, "快递柜超时未取")]
    kdniao_push(client, parcel, overdue, state="4")

    assert states(parcel) == (T.EXCEPTION, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.NOT_COLLECTED, "open")]
    assert headline(public_page(client, parcel, zh=True)) == "包裹超时未取"
    assert headline(public_page(client, parcel)) == "Not collected from the pickup point"
    assert "was not collected from the pickup point in time" in public_page(client, parcel)

    kdniao_push(client, parcel, overdue + [("407", 100, "快件退回中")], state="4")
    assert states(parcel)[0] == T.RETURNING_TO_SENDER
    kdniao_push(client, parcel, overdue + [("407", 100, "快件退回中"), ("406", 130, "退货已签收")], state="4")
    assert states(parcel) == (T.RETURNED_TO_SENDER, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.NOT_COLLECTED, "open")]  # the same problem all along
    assert rules.exceptions_scan()["opened"] == {}


def test_easypost_unclaimed_at_the_pickup_point_goes_back_with_a_not_collected_case(client, parcel):
    pickup = EP_OUT[:2] + [("available_for_pickup", "arrived_at_pickup_location", 20, "Available for Pickup")]
    easypost_push(client, parcel, pickup)
    assert states(parcel) == (T.AVAILABLE_FOR_PICKUP, ShipmentStatus.OUT_FOR_DELIVERY, OrderStatus.SHIPPED)

    easypost_push(client, parcel, pickup + [("return_to_sender", "expired", 200, "Unclaimed - Being Returned")])

    assert states(parcel) == (T.RETURNING_TO_SENDER, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.NOT_COLLECTED, "open")]
    assert headline(public_page(client, parcel)) == "Not collected from the pickup point"


# ---- 3. a failed attempt, and an exception that clears ---------------------------------------------------------


def test_easypost_failed_attempt_then_out_again_then_delivered(client, parcel):
    attempt = EP_OUT + [("in_transit", "delayed", 23, "Delivery exception - Customer not available or business closed")]
    easypost_push(client, parcel, attempt)
    assert states(parcel) == (T.FAILED_ATTEMPT, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.FAILED_ATTEMPT, "open")]
    assert headline(public_page(client, parcel)) == "Delivery attempt failed"

    again = attempt + [("out_for_delivery", "out_for_delivery", 44, "Out for Delivery")]
    easypost_push(client, parcel, again)
    assert states(parcel) == (T.OUT_FOR_DELIVERY, ShipmentStatus.OUT_FOR_DELIVERY, OrderStatus.SHIPPED)
    easypost_push(client, parcel, again + [("delivered", None, 46, "Delivered, Front Door")])
    assert states(parcel) == (T.DELIVERED, ShipmentStatus.DELIVERED, OrderStatus.DELIVERED)
    assert rules.exceptions_scan()["closed"] == {CaseType.FAILED_ATTEMPT: 1}  # on the clock the case was opened by


def test_aftership_exception_then_in_transit_then_delivered(client, parcel):
    moving = [("InfoReceived", "InfoReceived_001", 0, "Info received"), ("InTransit", "InTransit_007", 5, "Departed")]
    held = moving + [("Exception", "Exception_005", 10, "Delayed by external factors")]
    aftership_push(client, parcel, held)
    assert states(parcel) == (T.EXCEPTION, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.CARRIER_EXCEPTION, "open")]

    resolved = held + [("InTransit", "InTransit_008", 30, "Problem resolved")]
    aftership_push(client, parcel, resolved)
    assert states(parcel) == (T.IN_TRANSIT, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert headline(public_page(client, parcel)) == "In transit"

    done = resolved + [
        ("OutForDelivery", "OutForDelivery_001", 40, "Out for delivery"),
        ("Delivered", "Delivered_001", 42, "Delivered"),
    ]
    aftership_push(client, parcel, done)
    assert states(parcel) == (T.DELIVERED, ShipmentStatus.DELIVERED, OrderStatus.DELIVERED)
    assert rules.exceptions_scan()["closed"] == {CaseType.CARRIER_EXCEPTION: 1}


def test_aftership_refused_after_out_for_delivery(client, parcel):
    out = [("InTransit", "InTransit_001", 0, "In transit"), ("OutForDelivery", "OutForDelivery_001", 20, "Out")]
    aftership_push(client, parcel, out)
    aftership_push(client, parcel, out + [("Exception", "Exception_003", 21, "Customer refused delivery")])
    assert states(parcel) == (T.RETURNING_TO_SENDER, ShipmentStatus.IN_TRANSIT, OrderStatus.SHIPPED)
    assert cases_of(parcel) == [(CaseType.RETURNED, "open")]


def test_a_stray_scan_after_delivery_changes_nothing(client, parcel):
    delivered = EP_OUT + [("delivered", None, 22, "Delivered")]
    easypost_push(client, parcel, delivered)
    easypost_push(client, parcel, delivered + [("in_transit", "status_update", 30, "Stray scan")])
    assert states(parcel) == (T.DELIVERED, ShipmentStatus.DELIVERED, OrderStatus.DELIVERED)
    assert cases_of(parcel) == []


# ---- 4. unknown codes are kept and flagged ---------------------------------------------------------------------


def test_an_unknown_kdniao_code_is_kept_flagged_and_shown_to_staff(client, parcel):
    message = kdniao_push(client, parcel, [("1", 0, "已揽收"), ("999", 5, "新状态")])

    assert message.status == "processed"
    assert message.result["unknown_codes"] == ["kdniao/999"]
    scan = TrackingEvent.objects.get(parcel=parcel, carrier_status="kdniao/999")
    assert (scan.status, scan.code_known, scan.raw["trace"]["Action"]) == (T.UNKNOWN, False, "999")
    assert states(parcel)[0] == T.IN_TRANSIT  # applied to nothing
    line = OrderEvent.objects.get(order=parcel.shipment.order, kind="tracking", data__carrier_status="kdniao/999")
    assert "unknown carrier code kdniao/999" in line.message and line.data["applied"] is False

    client.force_login(make_user("cs", "customer_service"))
    parcels_page = client.get("/logistics/parcels/").content.decode()
    assert "1 scan with unknown carrier codes" in parcels_page
    flagged = client.get("/logistics/parcels/?unknown_codes=true").content.decode()
    assert parcel.tracking_number in flagged
    assert "物流更新" in public_page(client, parcel, zh=True)


# ---- 5. the timeline in event order ----------------------------------------------------------------------------


def test_timelines_follow_event_time_not_arrival(client, parcel):
    # The newest scan arrives first, the older ones later (a delayed carrier feed).
    aftership_push(client, parcel, [("OutForDelivery", "OutForDelivery_001", 20, "Scan C: out for delivery")])
    aftership_push(client, parcel, [("InTransit", "InTransit_002", 2, "Scan A: accepted")])
    aftership_push(client, parcel, [("InTransit", "InTransit_003", 10, "Scan B: arrived at hub")])
    assert states(parcel)[0] == T.OUT_FOR_DELIVERY  # the late older scans moved nothing back

    client.force_login(make_user("cs", "customer_service"))
    staff = client.get(reverse("orders:order_detail", args=[parcel.shipment.order.number])).content.decode()
    timeline = staff[staff.index('<aside class="timeline') :]
    positions = [timeline.index(f"Scan {x}") for x in "ABC"]
    assert positions == sorted(positions)
    assert "(received " in timeline  # a scan recorded long after it happened says so

    customer = public_page(client, parcel)
    newest_first = [customer.index(f"Scan {x}") for x in "CBA"]
    assert newest_first == sorted(newest_first)


def test_refused_then_back_at_the_sender_is_one_message_to_the_customer(
    client, parcel, django_capture_on_commit_callbacks
):
    out = [("1", 0, "已揽收"), ("202", 20, "派件中")]
    with django_capture_on_commit_callbacks(execute=True):
        kdniao_push(client, parcel, out + [("404", 22, "拒收")], state="4")
    with django_capture_on_commit_callbacks(execute=True):
        kdniao_push(client, parcel, out + [("404", 22, "拒收"), ("406", 60, "退货签收")], state="4")
    assert states(parcel)[0] == T.RETURNED_TO_SENDER
    order = parcel.shipment.order
    [message] = order.notifications.exclude(kind__in=["confirmed", "shipped", "out_for_delivery"])
    assert message.context["problem_key"] == f"{parcel.tracking_number}:returning_to_sender"
    assert message.subject == f"您的订单 {order.number} 正在退回"  # the case's message, sent at the refusal
    assert cases_of(parcel) == [(CaseType.RETURNED, "open")]


def test_a_parcel_on_its_way_back_is_neither_late_nor_given_a_new_date(client, parcel):
    Parcel.objects.filter(pk=parcel.pk).update(expected_delivery=date(2026, 11, 22))  # long past
    easypost_push(client, parcel, EP_OUT + [("failure", "refused", 22, "Refused by recipient")])

    parcel.refresh_from_db()
    assert (parcel.status, parcel.expected_delivery) == (T.RETURNING_TO_SENDER, date(2026, 11, 22))
    assert not OrderEvent.objects.filter(order=parcel.shipment.order, data__basis__isnull=False).exists()
    result = rules.exceptions_scan(now=timezone.now() + timedelta(days=10))  # no "late", no "no scan" case
    assert result["opened"] == {}
    assert cases_of(parcel) == [(CaseType.RETURNED, "open")]


def test_collected_late_after_all_closes_the_not_collected_case(client, parcel):
    locker = [("1", 0, "已揽收"), ("211", 22, "已放入快递柜"), ("412", 94, "快递柜超时未取")]
    kdniao_push(client, parcel, locker, state="4")
    assert cases_of(parcel) == [(CaseType.NOT_COLLECTED, "open")]

    kdniao_push(client, parcel, locker + [("311", 100, "快递柜取件签收")], state="3")
    assert states(parcel) == (T.DELIVERED, ShipmentStatus.DELIVERED, OrderStatus.DELIVERED)
    assert rules.exceptions_scan()["closed"] == {CaseType.NOT_COLLECTED: 1}
