"""Amazon hears of cancellations (issue 16, "Talk back"): the order acknowledgement feed with StatusCode Failure and
a CancelReason per item, through the Feeds API; the row waits (pending) until Amazon has processed the feed and
is sent only when the order is cancelled there, once; Amazon's refusal in the processing report is a dead letter
with its code. A relabel after confirmation, and a partial cancellation, have no API: the row is dead with a
message telling the person what to do in Seller Central."""

from xml.etree import ElementTree as ET

import pytest
from django.db import transaction

from connectors.amazon import notices as amazon_notices
from connectors.models import ChannelConnection, RemoteNotice
from logistics.channel_notices import shipments_channel_notice
from logistics.models import Parcel
from logistics.tracking_numbers import make_s10
from oms.models import OutboxMessage
from workflows.cancel import order_cancel

from ..conftest import dispatch, make_order, ship, shipment_rows
from ..fake_amazon import SELLER_ID, amazon_item, amazon_order
from ..test_cancel_notices import notices

pytestmark = pytest.mark.django_db

ORDER_ID = "113-1234567-7654321"


@pytest.fixture
def on(amazon_world):
    ChannelConnection.objects.filter(pk=amazon_world["connection"].pk).update(cancel_notices=True)
    return amazon_world


def _amazon_order(amazon, status="Unshipped"):
    return amazon.add_order(
        amazon_order(ORDER_ID, updated="2026-12-05T10:00:00Z", status=status),
        [amazon_item("10001", "SKU-A", 2, "40.00"), amazon_item("10002", "SKU-B", 1, "24.00")],
    )


def _feeds(amazon):
    return [f for f in amazon.feeds.values() if f["feedType"] == "POST_ORDER_ACKNOWLEDGEMENT_DATA"]


def test_a_cancelled_order_is_cancelled_on_amazon_by_one_acknowledgement_feed(
    amazon, on, django_capture_on_commit_callbacks
):
    _amazon_order(amazon)
    order = make_order(django_capture_on_commit_callbacks, on, external_id=ORDER_ID)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="no stock", reason_code="out_of_stock")
    [feed] = _feeds(amazon)
    [(status, attempts, error)] = notices()
    assert (status, attempts) == ("pending", 1)
    assert error == (
        f"Pending: Amazon took the cancellation as feed {feed['feedId']}; its result is read when Amazon has "
        "processed it."
    )
    assert feed["marketplaceIds"] == ["ATVPDKIKX0DER"]
    document = amazon.documents[feed["doc"]]
    assert document["content_type"] == "text/xml; charset=UTF-8"
    root = ET.fromstring(document["content"])  # noqa: S314
    assert root.findtext("Header/MerchantIdentifier") == SELLER_ID
    assert root.findtext("MessageType") == "OrderAcknowledgement"
    assert root.findtext("Message/OrderAcknowledgement/AmazonOrderID") == ORDER_ID
    assert root.findtext("Message/OrderAcknowledgement/StatusCode") == "Failure"
    assert [(i.findtext("AmazonOrderItemCode"), i.findtext("CancelReason")) for i in root.iter("Item")] == [
        ("10001", "NoInventory"),
        ("10002", "NoInventory"),
    ]

    dispatch(later_seconds=3600)  # Amazon has not processed it yet: still waiting, no second feed
    assert [s for s, *_ in notices()] == ["pending"] and len(_feeds(amazon)) == 1
    amazon.process_feeds()
    dispatch(later_seconds=7200)
    assert notices() == [("sent", 3, "")]
    assert amazon.orders[ORDER_ID]["OrderStatus"] == "Canceled"
    assert amazon.cancelled_reasons == {ORDER_ID: ["NoInventory"]}
    assert list(RemoteNotice.objects.values_list("key", "remote_id", "state")) == [
        (f"{order.pk}:cancel", feed["feedId"], "done")
    ]
    assert len(_feeds(amazon)) == 1


def test_an_order_amazon_shows_cancelled_already_is_done_without_a_feed(amazon, on, django_capture_on_commit_callbacks):
    _amazon_order(amazon)
    order = make_order(django_capture_on_commit_callbacks, on, external_id=ORDER_ID)
    amazon.orders[ORDER_ID]["OrderStatus"] = "Canceled"  # the buyer cancelled there, or our feed's answer was lost
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="staff cancelled")
    assert notices() == [("sent", 1, "")]
    assert _feeds(amazon) == []


def test_amazon_refusing_the_feed_or_a_shipped_order_is_a_dead_letter_with_the_reason(
    amazon, on, django_capture_on_commit_callbacks, monkeypatch
):
    _amazon_order(amazon)
    order = make_order(django_capture_on_commit_callbacks, on, external_id=ORDER_ID)
    monkeypatch.setitem(amazon_notices.CANCEL_REASONS, "out_of_stock", "SoldElsewhere")  # not in Amazon's list
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="no stock", reason_code="out_of_stock")
    amazon.process_feeds()
    dispatch(later_seconds=3600)
    [feed] = _feeds(amazon)
    [(status, _attempts, error)] = notices()
    assert status == "dead"
    assert error == (
        f"Rejected: Amazon refused the cancellation (feed {feed['feedId']}): 5001: CancelReason is not valid or no "
        "Item was given."
    )
    assert amazon.orders[ORDER_ID]["OrderStatus"] == "Unshipped"
    assert RemoteNotice.objects.count() == 0  # a Retry sends it again

    amazon.orders[ORDER_ID]["OrderStatus"] = "Shipped"
    OutboxMessage.objects.filter(kind="channel.cancel").update(status="pending", attempts=0)
    dispatch(later_seconds=7200)
    status, _attempts, error = notices()[0]
    assert status == "dead" and f"Amazon shows order {ORDER_ID} Shipped" in error
    assert len(_feeds(amazon)) == 1


def test_a_relabel_after_confirmation_asks_the_person_to_edit_it_in_seller_central(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _amazon_order(amazon)
    order = make_order(django_capture_on_commit_callbacks, amazon_world, external_id=ORDER_ID)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Parcel.objects.filter(pk=parcel.pk).update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number=make_s10("LC", 7, "CN"))
        shipments_channel_notice(shipment_ids=[shipment.pk])
    assert shipment_rows() == [("sent", 1, ""), ("dead", 1, amazon_notices.NO_EDIT)]
    assert len(amazon.packages[ORDER_ID]) == 1


def test_the_messages_for_the_person_have_chinese():
    import json
    from pathlib import Path

    catalogue = json.loads((Path(__file__).parents[3] / "scripts/i18n/zh/connect-notices.json").read_text())
    for msgid in (amazon_notices.NO_EDIT, amazon_notices.NO_LINES_CANCEL):
        assert catalogue.get(msgid)


def test_a_partial_cancellation_asks_the_person_to_refund_in_seller_central(
    amazon, on, django_capture_on_commit_callbacks
):
    from workflows.cancel import order_cancel_request

    from ..test_lines_cancel_notices import lines_rows, partly_shipped

    _amazon_order(amazon)
    order = partly_shipped(django_capture_on_commit_callbacks, on, external_id=ORDER_ID)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="out_of_stock")
    assert lines_rows() == [("dead", 1, amazon_notices.NO_LINES_CANCEL)]
    assert _feeds(amazon) == [] and amazon.orders[ORDER_ID]["OrderStatus"] == "PartiallyShipped"
