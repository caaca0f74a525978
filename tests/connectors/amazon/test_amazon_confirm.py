"""Confirm shipment to Amazon (issue 16): one ``shipmentConfirmation`` package per parcel with Amazon's order item
ids, once even across a crash (Amazon's "already shipped" answer counts as done), partial shipments confirm
their own items; 429 waits Amazon's rate, 5xx the backoff, validation errors are dead with Amazon's message."""

from datetime import UTC

import pytest
from django.db import transaction

from connectors import services
from connectors.amazon.adapter import _packages, carrier_fields
from connectors.models import ChannelConnection, RemoteShipment
from connectors.services import sync_retry
from fulfillment.split import shipment_split
from logistics.channel_notices import shipments_channel_notice
from logistics.models import Parcel
from logistics.tracking_numbers import make_s10
from oms import outbox
from oms.models import OutboxMessage
from orders.models import Order

from ..conftest import dispatch, make_order, ship, shipment_rows
from ..fake_amazon import CLIENT_SECRET, MARKETPLACE, REFRESH_TOKEN, amazon_item, amazon_order

pytestmark = pytest.mark.django_db

ORDER_ID = "113-1234567-7654321"
SECOND = make_s10("LC", 12345678, "CN")
QUOTA = {
    "errors": [
        {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}
    ]
}


def _amazon_order(amazon):
    return amazon.add_order(
        amazon_order(ORDER_ID, updated="2026-12-05T10:00:00Z"),
        [amazon_item("10001", "SKU-A", 2, "40.00"), amazon_item("10002", "SKU-B", 1, "24.00")],
    )


def _order(capture, world):
    return make_order(capture, world, external_id=ORDER_ID)


def test_a_shipped_order_is_confirmed_once_with_amazons_item_ids(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)

    ((request),) = amazon.calls(f"POST /orders/v0/orders/{ORDER_ID}/shipmentConfirmation")
    shipment.refresh_from_db()
    assert request.json() == {
        "marketplaceId": MARKETPLACE,
        "packageDetail": {
            "packageReferenceId": str(shipment.pk * 100 + 1),
            "carrierCode": "Other",
            "carrierName": parcel.carrier_display,
            "trackingNumber": parcel.tracking_number,
            "shipDate": shipment.shipped_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "orderItems": [{"orderItemId": "10001", "quantity": 2}, {"orderItemId": "10002", "quantity": 1}],
        },
    }
    assert amazon.orders[ORDER_ID]["OrderStatus"] == "Shipped"
    assert shipment_rows() == [("sent", 1, "")]
    remote = RemoteShipment.objects.get()
    assert (remote.remote_id, remote.tracking_numbers) == (ORDER_ID, [parcel.tracking_number])

    # The notice written again and the consumer run again: nothing new reaches Amazon.
    with transaction.atomic():
        shipments_channel_notice(shipment_ids=[shipment.pk])
    dispatch(later_seconds=3600)
    assert len(amazon.calls("shipmentConfirmation")) == 1


def test_a_worker_that_dies_after_amazon_answered_confirms_nothing_twice(
    amazon, amazon_world, django_capture_on_commit_callbacks, monkeypatch
):
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())

    class WorkerKilled(BaseException):
        pass

    def die(records):
        raise WorkerKilled

    monkeypatch.setattr("connectors.services.remember_confirmations", die)
    with pytest.raises(WorkerKilled):
        dispatch()
    assert len(amazon.packages[ORDER_ID]) == 1
    monkeypatch.undo()

    assert dispatch(later_seconds=outbox.lease().total_seconds() + 1) == {"sent": 1}
    assert len(amazon.calls("shipmentConfirmation")) == 2  # the second answered "already shipped": done
    assert len(amazon.packages[ORDER_ID]) == 1
    assert [i["QuantityShipped"] for i in amazon.items[ORDER_ID]] == [2, 1]
    assert RemoteShipment.objects.get().remote_id == ORDER_ID


def test_a_partial_shipment_confirms_only_its_items(amazon, amazon_world, django_capture_on_commit_callbacks):
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    first = order.shipments.get()
    line_a = first.lines.get(product__sku="SKU-A")
    second = shipment_split(shipment=first, quantities={line_a.pk: 1}, reason_code="other", note="two boxes")

    ship(django_capture_on_commit_callbacks, first, run_outbox=True)
    assert amazon.orders[ORDER_ID]["OrderStatus"] == "PartiallyShipped"
    ship(django_capture_on_commit_callbacks, second, run_outbox=True)

    sent = [r.json()["packageDetail"] for r in amazon.calls("shipmentConfirmation")]
    assert [(p["packageReferenceId"], p["orderItems"]) for p in sent] == [
        (str(first.pk * 100 + 1), [{"orderItemId": "10001", "quantity": 1}, {"orderItemId": "10002", "quantity": 1}]),
        (str(second.pk * 100 + 1), [{"orderItemId": "10001", "quantity": 1}]),
    ]
    assert amazon.orders[ORDER_ID]["OrderStatus"] == "Shipped"
    assert shipment_rows() == [("sent", 1, ""), ("sent", 1, "")]


def test_several_parcels_are_several_packages(amazon, amazon_world, django_capture_on_commit_callbacks):
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment)
    with transaction.atomic():
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number=SECOND)
        shipments_channel_notice(shipment_ids=[shipment.pk])
    OutboxMessage.objects.filter(kind="channel.shipment").order_by("pk").first().delete()  # only the 2-parcel notice

    assert dispatch() == {"sent": 1}
    sent = [r.json()["packageDetail"] for r in amazon.calls("shipmentConfirmation")]
    assert [(p["packageReferenceId"], p["trackingNumber"], p["orderItems"]) for p in sent] == [
        (str(shipment.pk * 100 + 1), parcel.tracking_number, [{"orderItemId": "10001", "quantity": 1}]),
        (
            str(shipment.pk * 100 + 2),
            SECOND,
            [{"orderItemId": "10001", "quantity": 1}, {"orderItemId": "10002", "quantity": 1}],
        ),
    ]
    assert RemoteShipment.objects.get().tracking_numbers == [parcel.tracking_number, SECOND]


def test_429_waits_amazons_rate_and_5xx_retries_on_the_backoff(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    amazon.fail(
        "shipmentConfirmation",
        429,
        QUOTA,
        headers={"Content-Type": "application/json", "x-amzn-RateLimit-Limit": "0.1"},
    )

    assert dispatch() == {"retry": 1}
    row = OutboxMessage.objects.get(kind="channel.shipment")
    assert (row.status, row.attempts, row.last_error) == (
        "pending",
        1,
        "RetryLater: Amazon answered 429: QuotaExceeded: You exceeded your quota for the requested resource.",
    )
    assert dispatch(later_seconds=5) == {}  # 1 / 0.1 requests a second: not due before 10 s
    assert amazon.packages == {}

    amazon.fail(
        "shipmentConfirmation", 503, {"errors": [{"code": "ServiceUnavailable", "message": "Try again", "details": ""}]}
    )
    assert dispatch(later_seconds=11) == {"retry": 1}
    assert OutboxMessage.objects.get(kind="channel.shipment").last_error == (
        "Transient: Amazon answered 503: ServiceUnavailable: Try again"
    )
    assert dispatch(later_seconds=3600) == {"sent": 1}
    assert len(amazon.packages[ORDER_ID]) == 1


def test_a_validation_error_is_dead_with_amazons_message_and_a_person_retries_it(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    amazon.fail(
        "shipmentConfirmation",
        400,
        {"errors": [{"code": "InvalidInput", "message": "Invalid shipDate", "details": "shipDate is in the future"}]},
    )

    assert dispatch() == {"dead": 1}
    assert shipment_rows() == [
        ("dead", 1, "Rejected: Amazon answered 400: InvalidInput: Invalid shipDate (shipDate is in the future)")
    ]
    assert amazon.packages == {}
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_retry(channel=amazon_world["channel"]) == 1
    assert shipment_rows()[0][0] == "sent"
    assert len(amazon.packages[ORDER_ID]) == 1


def test_a_revoked_app_is_dead_and_says_to_check_the_credentials(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    denied = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]}
    amazon.fail("orderItems", 403, denied, times=2)

    assert dispatch() == {"dead": 1}
    ((_status, _attempts, error),) = shipment_rows()
    assert error == (
        "Refused: Amazon answered 403: Unauthorized: Access to requested resource is denied. "
        "Check the refresh token and the app's roles in Seller Central."
    )
    assert len(amazon.calls("POST /auth/o2/token")) == 2  # a fresh token was tried before giving up
    assert amazon.packages == {}


def test_a_line_amazon_does_not_have_is_dead_and_nothing_is_confirmed(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    amazon.add_order(
        amazon_order(ORDER_ID, updated="2026-12-05T10:00:00Z"), [amazon_item("10001", "SKU-A", 2, "40.00")]
    )
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())

    assert dispatch() == {"dead": 1}
    assert shipment_rows() == [("dead", 1, "Rejected: Amazon's order has no item to confirm for: SKU-B ×1.")]
    assert amazon.calls("shipmentConfirmation") == []


def test_our_carriers_map_to_amazons_codes_and_others_are_named():
    assert carrier_fields({"carrier_code": "sf", "carrier": "顺丰"}) == {"carrierCode": "SF Express"}
    assert carrier_fields({"carrier_code": "x1", "carrier": "UPS"}) == {"carrierCode": "UPS"}
    assert carrier_fields({"carrier_code": "local", "carrier": "Local Courier"}) == {
        "carrierCode": "Other",
        "carrierName": "Local Courier",
    }


def test_units_are_spread_over_parcels_and_no_package_is_empty():
    assert _packages([("a", 3)], ["P1", "P2"]) == [("P1", [("a", 1)]), ("P2", [("a", 2)])]
    assert _packages([("a", 1)], ["P1", "P2"]) == [("P1", [("a", 1)])]


def test_a_pulled_order_is_shipped_and_confirmed_back_once_without_a_secret_in_the_logs(
    amazon, amazon_world, django_capture_on_commit_callbacks, caplog
):
    """Issue 16's "done" for Amazon: pulled, routed, packed, shipped; the tracking goes back once."""
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="sp_api.base.client")  # sp_api logs its requests' headers at DEBUG
    _amazon_order(amazon)
    amazon.orders[ORDER_ID]["ShippingAddress"] |= {  # the test DC ships in China
        "City": "上海",
        "StateOrRegion": "上海",
        "PostalCode": "200030",
        "CountryCode": "CN",
        "AddressLine1": "漕溪北路 18 号",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert services.connection_pull(connection_id=amazon_world["connection"].pk) == 1
    order = Order.objects.get(channel=amazon_world["channel"], external_id=ORDER_ID)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)
    dispatch(later_seconds=3600)

    ((package,),) = [amazon.packages[ORDER_ID]]
    assert package["trackingNumber"] == parcel.tracking_number
    assert shipment_rows() == [("sent", 1, "")]
    logged = caplog.text
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, "Atza|"):
        assert secret not in logged


def test_with_several_marketplaces_the_orders_own_is_confirmed_to(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    ChannelConnection.objects.update(marketplace_ids=f"A1PA6795UKMFR9,{MARKETPLACE}")
    _amazon_order(amazon)
    order = _order(django_capture_on_commit_callbacks, amazon_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)

    asked = [r.path.split("?")[0] for r in amazon.calls("GET /orders/v0/orders/")]
    assert asked.count(f"/orders/v0/orders/{ORDER_ID}") == 1  # getOrder: its MarketplaceId
    ((request),) = amazon.calls("shipmentConfirmation")
    assert request.json()["marketplaceId"] == MARKETPLACE
    assert shipment_rows() == [("sent", 1, "")]
