"""Pull orders from Amazon (Orders API v0: LastUpdatedAfter cursor, NextToken pages, orderItems) into the order
inbox and through the canonical intake; the LWA token is fetched once, refreshed when Amazon refuses it."""

import json
from decimal import Decimal

import pytest

from connectors import services
from connectors.amazon import adapter as amazon_adapter
from connectors.models import ChannelConnection
from oms.errors import DomainError
from orders.intake import amazon_pull
from orders.models import InboundMessage, Order

from ..fake_amazon import MARKETPLACE, amazon_item, amazon_order

pytestmark = pytest.mark.django_db


def _pull(capture, world):
    with capture(execute=True):
        return services.connection_pull(connection_id=world["connection"].pk)


def _add(amazon, order_id, updated, **kwargs):
    items = kwargs.pop("items", None) or [
        amazon_item(f"{order_id}-1", "SKU-A", 2, "40.00"),
        amazon_item(f"{order_id}-2", "SKU-B", 1, "24.00"),
    ]
    return amazon.add_order(amazon_order(order_id, updated=updated, **kwargs), items)


def test_a_pull_over_two_pages_creates_each_order_once_and_moves_the_cursor(
    amazon, amazon_world, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(amazon_adapter, "PAGE_SIZE", 2)
    _add(amazon, "111-0000001-0000001", "2026-12-05T10:00:00Z")
    _add(amazon, "111-0000001-0000002", "2026-12-05T10:05:00Z")
    _add(amazon, "111-0000001-0000003", "2026-12-05T10:05:00Z")

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 3

    assert sorted(Order.objects.values_list("external_id", "channel_order_name", "ship_city", "status")) == [
        ("111-0000001-0000001", "111-0000001-0000001", "Seattle", "confirmed"),
        ("111-0000001-0000002", "111-0000001-0000002", "Seattle", "confirmed"),
        ("111-0000001-0000003", "111-0000001-0000003", "Seattle", "confirmed"),
    ]
    order = Order.objects.get(external_id="111-0000001-0000001")
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines.order_by("line_no")] == [
        ("SKU-A", 2, Decimal("20.00")),  # ItemPrice is the line's total: 40.00 for two
        ("SKU-B", 1, Decimal("24.00")),
    ]
    assert (order.total, order.currency) == (Decimal("64.00"), "USD")
    listed = amazon.calls("GET /orders/v0/orders?")
    assert len(listed) == 2
    first = listed[0].path
    assert "LastUpdatedAfter=" in first and f"MarketplaceIds={MARKETPLACE}" in first and "MaxResultsPerPage=2" in first
    assert "NextToken=" in listed[1].path
    assert len(amazon.calls("/orderItems")) == 3
    assert len(amazon.calls("POST /auth/o2/token")) == 1  # one token for the whole pull
    connection = ChannelConnection.objects.get()
    assert (
        connection.pull_cursor,
        connection.pull_cursor_ids,
        connection.last_pull_count,
        connection.last_pull_error,
    ) == (
        "2026-12-05T10:05:00Z",
        ["111-0000001-0000002", "111-0000001-0000003"],
        3,
        "",
    )
    assert set(InboundMessage.objects.values_list("source", "status")) == {("pull:amazon", "processed")}

    # Nothing new: the next pull asks from the cursor (inclusive) and skips what it stored at that time.
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 0
    assert "LastUpdatedAfter=2026-12-05T10%3A05%3A00Z" in amazon.calls("GET /orders/v0/orders?")[-1].path
    assert len(amazon.calls("/orderItems")) == 3  # the orders stored at the cursor's time are not read again
    assert InboundMessage.objects.count() == 3

    # Cancelled on Amazon later: applied as the channel's update of the known order.
    amazon.orders["111-0000001-0000001"].update(OrderStatus="Canceled", LastUpdateDate="2026-12-05T11:00:00Z")
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert Order.objects.get(external_id="111-0000001-0000001").status == "cancelled"
    assert Order.objects.count() == 3


def test_an_order_without_an_address_is_held_for_it_not_dropped(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _add(amazon, "111-0000002-0000001", "2026-12-05T10:00:00Z", address=False, BuyerInfo={})

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    order = Order.objects.get()
    assert order.status == "received"
    assert list(order.holds.filter(released_at=None).values_list("reason", flat=True)) == ["address_invalid"]
    assert "Amazon sent no shipping address" in order.note


def test_pending_and_amazon_fulfilled_orders_are_not_stored(amazon, amazon_world, django_capture_on_commit_callbacks):
    _add(amazon, "111-0000003-0000001", "2026-12-05T10:00:00Z", status="Pending")
    _add(amazon, "111-0000003-0000002", "2026-12-05T10:01:00Z", FulfillmentChannel="AFN", status="Shipped")
    _add(amazon, "111-0000003-0000003", "2026-12-05T10:02:00Z")

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert list(Order.objects.values_list("external_id", flat=True)) == ["111-0000003-0000003"]
    assert [r.path.split("/")[4] for r in amazon.calls("/orderItems")] == ["111-0000003-0000003"]

    # Paid later: Amazon moves it to Unshipped with a new LastUpdateDate, and it is pulled then.
    amazon.orders["111-0000003-0000001"].update(OrderStatus="Unshipped", LastUpdateDate="2026-12-05T12:00:00Z")
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert Order.objects.filter(external_id="111-0000003-0000001").exists()


def test_a_cancelled_order_new_here_is_kept_as_cancelled(amazon, amazon_world, django_capture_on_commit_callbacks):
    _add(
        amazon,
        "111-0000004-0000001",
        "2026-12-05T10:00:00Z",
        status="Canceled",
        OrderTotal=None,
        items=[amazon_item("i1", "SKU-A", 0, "0.00")],
    )
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    order = Order.objects.get()
    assert order.status == "cancelled"
    assert order.events.filter(message__contains="cancelled on Amazon").exists()


def test_an_expired_token_is_refreshed_once_and_the_call_made_again(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _add(amazon, "111-0000005-0000001", "2026-12-05T10:00:00Z")
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    amazon.expire_tokens()
    amazon.orders["111-0000005-0000001"]["LastUpdateDate"] = "2026-12-05T11:00:00Z"

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert len(amazon.calls("POST /auth/o2/token")) == 2
    assert [r.headers.get("x-amz-access-token") for r in amazon.calls("GET /orders/v0/orders?")] == [
        "Atza|IwEBIAccessToken1",
        "Atza|IwEBIAccessToken1",  # refused: expired
        "Atza|IwEBIAccessToken2",
    ]
    assert ChannelConnection.objects.get().last_pull_error == ""


def test_a_refused_refresh_token_keeps_the_cursor_and_says_why_without_the_secret(
    amazon, amazon_world, django_capture_on_commit_callbacks
):
    _add(amazon, "111-0000006-0000001", "2026-12-05T10:00:00Z")
    amazon.fail(
        "POST /auth/o2/token", 400, {"error": "invalid_grant", "error_description": "The refresh token is revoked"}
    )

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 0
    connection = ChannelConnection.objects.get()
    assert connection.pull_cursor == ""
    assert connection.last_pull_error == (
        "Amazon's token service refused the credentials (invalid_grant: The refresh token is revoked). "
        "Check the LWA client id, client secret and refresh token."
    )
    assert InboundMessage.objects.count() == 0


def test_throttled_order_items_keep_what_was_read_and_stop(amazon, amazon_world, django_capture_on_commit_callbacks):
    _add(amazon, "111-0000007-0000001", "2026-12-05T10:00:00Z")
    _add(amazon, "111-0000007-0000002", "2026-12-05T10:01:00Z")
    amazon.fail(
        "/111-0000007-0000002/orderItems",
        429,
        {
            "errors": [
                {
                    "code": "QuotaExceeded",
                    "message": "You exceeded your quota for the requested resource.",
                    "details": "",
                }
            ]
        },
        headers={"Content-Type": "application/json", "x-amzn-RateLimit-Limit": "0.5"},
    )

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert ChannelConnection.objects.get().pull_cursor == "2026-12-05T10:00:00Z"
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert Order.objects.count() == 2


def test_a_throttled_order_list_is_noted_on_the_connection(amazon, amazon_world, django_capture_on_commit_callbacks):
    _add(amazon, "111-0000008-0000001", "2026-12-05T10:00:00Z")
    amazon.fail(
        "GET /orders/v0/orders?",
        429,
        {
            "errors": [
                {
                    "code": "QuotaExceeded",
                    "message": "You exceeded your quota for the requested resource.",
                    "details": "",
                }
            ]
        },
        headers={"Content-Type": "application/json", "x-amzn-RateLimit-Limit": "0.0167"},
    )

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 0
    assert ChannelConnection.objects.get().last_pull_error == (
        "Amazon answered 429: QuotaExceeded: You exceeded your quota for the requested resource."
    )


def test_item_pages_are_followed(amazon, amazon_world, django_capture_on_commit_callbacks):
    amazon.items_page = 1
    _add(amazon, "111-0000009-0000001", "2026-12-05T10:00:00Z")
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert Order.objects.get().lines.count() == 2
    assert len(amazon.calls("/orderItems")) == 2


def test_a_pulled_order_parses_amazons_fields():
    order = amazon_order("111-0000010-0000001", updated="2026-12-05T10:00:00Z", ShipmentServiceLevelCategory="NextDay")
    order["OrderItems"] = [amazon_item("i1", "SKU-A", 3, "10.00", ItemTax={"CurrencyCode": "USD", "Amount": "0.90"})]
    order["OrderTotal"] = {"CurrencyCode": "USD", "Amount": "10.90"}
    data = amazon_pull.parse(json.dumps(order).encode())
    assert (data.external_id, data.channel_order_name, data.currency, data.total, data.tax) == (
        "111-0000010-0000001",
        "111-0000010-0000001",
        "USD",
        Decimal("10.90"),
        Decimal("0.90"),
    )
    assert [(line.sku, line.quantity, line.unit_price) for line in data.lines] == [("SKU-A", 3, Decimal("3.33"))]
    assert (data.ship_to.name, data.ship_to.postcode, data.customer_email, data.requested_service) == (
        "Jane Doe",
        "98109",
        "abc123@marketplace.amazon.com",
        "express",
    )
    assert amazon_pull.topic({}, b"") == "update"


def test_a_secret_that_is_not_three_parts_is_refused(amazon, amazon_world):
    with pytest.raises(DomainError, match="client id, client secret and refresh token"):
        services.connection_save(channel=amazon_world["channel"], data={}, secret="just-a-token")
    assert ChannelConnection.objects.get().credentials["access_token"].startswith("amzn1.application-oa2-client")


def test_a_token_is_kept_only_as_long_as_amazon_says(amazon, amazon_world, django_capture_on_commit_callbacks):
    amazon.token_lifetime = 30  # less than the minute kept in hand: every call asks for a new one
    _add(amazon, "111-0000011-0000001", "2026-12-05T10:00:00Z")
    _pull(django_capture_on_commit_callbacks, amazon_world)
    _pull(django_capture_on_commit_callbacks, amazon_world)
    assert len(amazon.calls("GET /orders/v0/orders")) == 3  # the list and the items, then the list only
    assert len(amazon.calls("POST /auth/o2/token")) == 3

    amazon.token_lifetime = 3600  # an hour: one token for the next two pulls
    _pull(django_capture_on_commit_callbacks, amazon_world)
    _pull(django_capture_on_commit_callbacks, amazon_world)
    assert len(amazon.calls("POST /auth/o2/token")) == 4


def test_a_5xx_keeps_the_cursor_and_the_next_pull_goes_on(amazon, amazon_world, django_capture_on_commit_callbacks):
    _add(amazon, "111-0000012-0000001", "2026-12-05T10:00:00Z")
    amazon.fail(
        "GET /orders/v0/orders?", 503, b"<html>Service Unavailable</html>", headers={"Content-Type": "text/html"}
    )

    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 0
    connection = ChannelConnection.objects.get()
    assert (connection.pull_cursor, connection.last_pull_error) == (
        "",
        "Amazon answered 503: <html>Service Unavailable</html>",
    )
    assert _pull(django_capture_on_commit_callbacks, amazon_world) == 1
    assert ChannelConnection.objects.get().last_pull_error == ""
