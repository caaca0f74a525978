"""Push stock to Amazon with one JSON_LISTINGS_FEED per publication (document, upload, createFeed; the processing
report read at the next push), the sync page of an Amazon channel (fields, secrets never shown, Amazon's errors),
and the reconciliation seeing Amazon."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors import reconcile
from connectors.models import ChannelConnection
from fulfillment.models import Shipment
from inventory.models import Product
from inventory.services import stock_receive
from orders import atp
from tests.factories import make_user

from ..conftest import dispatch, make_order, ship
from ..fake_amazon import CLIENT_SECRET, MARKETPLACE, REFRESH_TOKEN, SECRET, SELLER_ID, amazon_item, amazon_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushing(amazon, amazon_world):
    channel = amazon_world["channel"]
    channel.stock_adapter = "push"
    channel.save()
    amazon.listings = {"SKU-A": None}  # SKU-B is not listed on Amazon
    return channel


def _publish(capture, channel):
    with capture(execute=True):
        publication = atp.channel_stock_publish(channel=channel)
    publication.refresh_from_db()
    return publication


def test_stock_goes_out_as_one_listings_feed_and_the_report_is_read_at_the_next_push(
    amazon, amazon_world, pushing, django_capture_on_commit_callbacks
):
    assert _publish(django_capture_on_commit_callbacks, pushing).outcome == "published"

    ((created),) = amazon.calls("POST /feeds/2021-06-30/documents")
    assert created.json() == {"contentType": "application/json; charset=UTF-8"}
    ((upload),) = amazon.calls("PUT /upload/")
    assert "x-amz-access-token" not in {k.lower() for k in upload.headers}  # a pre-signed url: no token
    assert json.loads(upload.body) == {
        "header": {"sellerId": SELLER_ID, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": i,
                "sku": sku,
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 20}],
                    }
                ],
            }
            for i, sku in ((1, "SKU-A"), (2, "SKU-B"))
        ],
    }
    ((feed),) = amazon.calls("POST /feeds/2021-06-30/feeds")
    doc_id = created_doc = next(iter(amazon.documents))
    assert feed.json() == {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": [MARKETPLACE],
        "inputFeedDocumentId": doc_id,
    }
    connection = ChannelConnection.objects.get()
    (pending,) = connection.pending_feeds
    assert pending["skus"] == ["SKU-A", "SKU-B"] and created_doc
    assert connection.last_push_error == ""

    # Amazon processes the feed; the next push reads its report and names the SKU Amazon refused.
    amazon.process_feeds()
    assert amazon.listings == {"SKU-A": 20}
    stock_receive(location=amazon_world["location"], product=Product.objects.get(sku="SKU-A"), quantity=5, reason="t")
    assert _publish(django_capture_on_commit_callbacks, pushing).outcome == "published"
    connection.refresh_from_db()
    assert connection.last_push_error == (
        "refused: SKU-B: 4000001 The SKU 'SKU-B' was not found in the Amazon catalog."
    )
    assert [p["skus"] for p in connection.pending_feeds] == [["SKU-A"]]
    amazon.process_feeds()
    assert amazon.listings == {"SKU-A": 25}


def test_a_throttled_feed_waits_and_a_missing_seller_id_is_refused(
    amazon, amazon_world, pushing, django_capture_on_commit_callbacks
):
    quota = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota.", "details": ""}]}
    amazon.fail(
        "POST /feeds/2021-06-30/feeds",
        429,
        quota,
        headers={"Content-Type": "application/json", "x-amzn-RateLimit-Limit": "0.0083"},
    )
    publication = _publish(django_capture_on_commit_callbacks, pushing)
    assert publication.outcome == "queued"
    assert publication.error == "PushRetryAfter: Amazon answered 429: QuotaExceeded: You exceeded your quota."
    assert amazon.feeds == {}

    ChannelConnection.objects.update(location_ref="")
    assert dispatch(later_seconds=3600) == {"dead": 1}
    publication.refresh_from_db()
    assert (publication.outcome, publication.error) == (
        "failed",
        "PushRefused: Set the Amazon seller id (merchant token) in the connection's location to push stock.",
    )


def test_the_sync_page_shows_the_amazon_fields_and_never_the_secrets(client, amazon, amazon_world):
    client.force_login(make_user("manager1", "manager"))
    url = reverse("connectors:channel_sync", args=[amazon_world["channel"].slug])
    html = client.get(url).content.decode()
    for secret in (SECRET, CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in html
    assert 'name="marketplace_ids"' in html and MARKETPLACE in html
    assert 'name="auth_url"' in html

    # A new client secret changes only the credentials; an http token URL off this machine is refused.
    form = {"base_url": amazon.url, "marketplace_ids": "ATVPDKIKX0DER, A2EUQ1WTGCTBG2", "location_ref": SELLER_ID}
    form |= {"auth_url": "http://lwa.example.com/auth/o2/token", "active": "on"}
    update = reverse("connectors:connection_update", args=[amazon_world["channel"].slug])
    client.post(update, form)
    assert ChannelConnection.objects.get().auth_url == f"{amazon.url}/auth/o2/token"
    form["auth_url"] = f"{amazon.url}/auth/o2/token"
    client.post(update, form)
    connection = ChannelConnection.objects.get()
    assert connection.marketplaces == ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
    assert connection.credentials["access_token"] == SECRET


def test_the_sync_page_lists_a_dead_confirmation_with_amazons_error(
    client, amazon, amazon_world, django_capture_on_commit_callbacks
):
    amazon.add_order(
        amazon_order("113-0000001-0000001", updated="2026-12-05T10:00:00Z"),
        [amazon_item("1", "SKU-A", 2, "40.00"), amazon_item("2", "SKU-B", 1, "24.00")],
    )
    order = make_order(django_capture_on_commit_callbacks, amazon_world, external_id="113-0000001-0000001")
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    amazon.fail(
        "shipmentConfirmation",
        400,
        {"errors": [{"code": "InvalidInput", "message": "Invalid carrierName", "details": ""}]},
    )
    assert dispatch() == {"dead": 1}

    client.force_login(make_user("manager1", "manager"))
    html = client.get(reverse("connectors:channel_sync", args=[amazon_world["channel"].slug])).content.decode()
    assert "Amazon answered 400: InvalidInput: Invalid carrierName" in html
    assert ChannelConnection.objects.get().last_confirm_error.endswith(
        "Amazon answered 400: InvalidInput: Invalid carrierName"
    )


def test_the_reconciliation_sees_amazon_both_ways(amazon, amazon_world, django_capture_on_commit_callbacks):
    amazon.add_order(
        amazon_order("113-0000002-0000001", updated="2026-12-05T10:00:00Z"),
        [amazon_item("1", "SKU-A", 2, "40.00"), amazon_item("2", "SKU-B", 1, "24.00")],
    )
    amazon.add_order(
        amazon_order("113-0000002-0000002", updated="2026-12-05T10:00:00Z", status="Shipped"),
        [amazon_item("3", "SKU-A", 2, "40.00"), amazon_item("4", "SKU-B", 1, "24.00")],
    )
    shipped_here = make_order(django_capture_on_commit_callbacks, amazon_world, external_id="113-0000002-0000001")
    open_here = make_order(django_capture_on_commit_callbacks, amazon_world, external_id="113-0000002-0000002")
    ship(django_capture_on_commit_callbacks, shipped_here.shipments.get())
    amazon.fail("shipmentConfirmation", 503, {"errors": [{"code": "InternalFailure", "message": "x", "details": ""}]})
    assert dispatch() == {"retry": 1}
    Shipment.objects.filter(shipped_at__isnull=False).update(shipped_at=timezone.now() - timedelta(minutes=60))

    result = reconcile.connection_reconcile(connection_id=amazon_world["connection"].pk)

    assert [(e["order"], e["state"]) for e in result.unconfirmed] == [(shipped_here.number, "pending")]
    assert result.reverse_checked is True
    assert [(e["external_id"], e["theirs"]) for e in result.open_here] == [("113-0000002-0000002", "Shipped")]
    assert open_here.number in [e["number"] for e in result.open_here]
