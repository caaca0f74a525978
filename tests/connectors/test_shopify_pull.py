"""Pull orders (issue 16, "Channels"): orders updated on Shopify since the cursor, page by page, into the order
inbox (stored raw, applied in batches like webhooks); a replay changes nothing; a failure keeps the cursor."""

import json
from decimal import Decimal

import pytest

from connectors import services
from connectors.models import ChannelConnection
from connectors.shopify import adapter as shopify_adapter
from connectors.shopify import reads
from connectors.tasks import pull_all
from orders.intake import shopify_graphql, shopify_json
from orders.models import InboundMessage, Order

from .fake_shopify import order_node

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(shopify_adapter, "PAGE_SIZE", 2)


def _pull(capture, world):
    with capture(execute=True):
        return services.connection_pull(connection_id=world["connection"].pk)


def _orders():
    return sorted(Order.objects.values_list("external_id", "channel_order_name", "ship_city"))


def test_a_pull_over_two_pages_creates_each_order_once_and_moves_the_cursor(
    fake, world, small_pages, django_capture_on_commit_callbacks
):
    fake.shop.orders = [
        order_node(7001, updated_at="2026-12-05T10:00:00Z"),
        order_node(7002, updated_at="2026-12-05T10:05:00Z", lines=(("SKU-B", 1),)),
        order_node(7003, updated_at="2026-12-05T10:05:00Z"),
    ]
    assert _pull(django_capture_on_commit_callbacks, world) == 3

    assert _orders() == [("7001", "#7001", "上海"), ("7002", "#7002", "上海"), ("7003", "#7003", "上海")]
    assert [v for _n, v in fake.shop.operations("PullOrders")] == [
        {"first": 2, "after": None, "query": None, "lines": reads.PULL_LINES},
        {"first": 2, "after": "2", "query": None, "lines": reads.PULL_LINES},
    ]
    connection = ChannelConnection.objects.get()
    assert (connection.pull_cursor, connection.pull_cursor_ids, connection.last_pull_count) == (
        "2026-12-05T10:05:00Z",
        ["gid://shopify/Order/7002", "gid://shopify/Order/7003"],
        3,
    )
    assert connection.last_pull_error == ""
    assert connection.last_pull_ok_at is not None
    messages = list(InboundMessage.objects.order_by("pk").values_list("source", "status", "result"))
    assert messages == [
        ("pull:shopify", "processed", {"order": Order.objects.get(external_id=eid).number, "created": True})
        for eid in ("7001", "7002", "7003")
    ]
    line = Order.objects.get(external_id="7002").lines.get()
    assert (line.sku, line.quantity) == ("SKU-B", 1)

    # Nothing new on Shopify: the next pull asks from the cursor, skips what it stored at that time.
    assert _pull(django_capture_on_commit_callbacks, world) == 0
    assert fake.shop.operations("PullOrders")[-1][1]["query"] == "updated_at:>='2026-12-05T10:05:00Z'"
    assert InboundMessage.objects.count() == 3
    assert Order.objects.count() == 3


def test_a_pulled_update_of_a_known_order_is_applied_as_the_channels_update_and_creates_nothing(
    fake, world, django_capture_on_commit_callbacks
):
    fake.shop.orders = [order_node(7001, updated_at="2026-12-05T10:00:00Z")]
    _pull(django_capture_on_commit_callbacks, world)
    before = _orders()
    fake.shop.orders = [order_node(7001, updated_at="2026-12-05T11:00:00Z", note="gift wrap")]

    assert _pull(django_capture_on_commit_callbacks, world) == 1

    assert _orders() == before
    last = InboundMessage.objects.order_by("-pk").first()
    assert (last.source, last.status, last.result["created"]) == ("pull:shopify", "processed", False)


def test_a_pulled_order_reads_as_its_webhook_would():
    """The pull maps Shopify's GraphQL order onto the webhook's fields: the same external id, the same order."""
    node = order_node(7001, updated_at="2026-12-05T10:00:00Z")
    pulled = shopify_graphql.parse(json.dumps(node).encode())
    hooked = shopify_json.parse_order(shopify_graphql.to_rest(node))
    assert pulled == hooked
    assert (pulled.external_id, pulled.channel_order_name, pulled.ship_to.country, pulled.total) == (
        "7001",
        "#7001",
        "CN",
        Decimal("176.00"),
    )


def test_a_refused_pull_keeps_the_cursor_stores_nothing_and_says_why(
    fake, world, small_pages, django_capture_on_commit_callbacks
):
    fake.shop.orders = [order_node(7001, updated_at="2026-12-05T10:00:00Z")]
    fake.shop.fail_next("401")

    assert _pull(django_capture_on_commit_callbacks, world) == 0

    connection = ChannelConnection.objects.get()
    assert connection.pull_cursor == ""
    assert connection.last_pull_error.startswith("Shopify answered 401: [API] Invalid API key or access token")
    assert connection.last_pull_ok_at is None
    assert InboundMessage.objects.count() == 0

    assert _pull(django_capture_on_commit_callbacks, world) == 1  # fixed (here: the next answer is fine)
    connection.refresh_from_db()
    assert (connection.last_pull_error, connection.pull_cursor) == ("", "2026-12-05T10:00:00Z")


def test_a_failure_on_the_second_page_keeps_the_first_pages_orders_and_cursor(
    fake, world, small_pages, django_capture_on_commit_callbacks
):
    fake.shop.orders = [order_node(7000 + n, updated_at=f"2026-12-05T10:0{n}:00Z") for n in range(1, 4)]
    fake.shop.failures = [{"kind": "none"}, {"kind": "500"}]  # the first page goes through, the second fails

    assert _pull(django_capture_on_commit_callbacks, world) == 2

    connection = ChannelConnection.objects.get()
    assert connection.pull_cursor == "2026-12-05T10:02:00Z"
    assert connection.last_pull_error == "Shopify answered 500: Internal Server Error"
    assert _pull(django_capture_on_commit_callbacks, world) == 1  # the rest, from the cursor
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["7001", "7002", "7003"]


def test_pull_all_asks_each_connection_that_pulls(fake, world, django_capture_on_commit_callbacks):
    fake.shop.orders = [order_node(7001, updated_at="2026-12-05T10:00:00Z")]
    with django_capture_on_commit_callbacks(execute=True):
        assert pull_all.apply().get() == 1
    assert Order.objects.filter(external_id="7001").count() == 1

    ChannelConnection.objects.update(pull_orders=False)
    assert services.pull_due_connections() == []
