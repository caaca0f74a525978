"""Pull orders from WooCommerce (modified since the cursor, page by page, into the order inbox as the webhook's
orders) and push stock (``products/batch`` and ``variations/batch``, SKU -> id looked up once)."""

import json

import pytest

from connectors import services
from connectors.models import ChannelConnection, RemoteItem
from connectors.woocommerce import adapter as woo_adapter
from inventory.models import Product
from inventory.services import stock_receive
from oms.errors import DomainError
from orders import atp
from orders.intake import woocommerce_json, woocommerce_pull
from orders.models import InboundMessage, Order

from ..fake_woocommerce import woo_order

pytestmark = pytest.mark.django_db


def _pull(capture, world):
    with capture(execute=True):
        return services.connection_pull(connection_id=world["connection"].pk)


def test_a_pull_over_two_pages_creates_each_order_once_and_moves_the_cursor(
    woo, woo_world, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(woo_adapter, "PAGE_SIZE", 2)
    for oid, modified in ((7001, "2026-12-05T10:00:00"), (7002, "2026-12-05T10:05:00"), (7003, "2026-12-05T10:05:00")):
        woo.store.add_order(woo_order(oid, modified=modified))

    assert _pull(django_capture_on_commit_callbacks, woo_world) == 3

    assert sorted(Order.objects.values_list("external_id", "channel_order_name", "ship_city")) == [
        ("7001", "7001", "上海"),
        ("7002", "7002", "上海"),
        ("7003", "7003", "上海"),
    ]
    asked = [q for _m, _p, q, _b in woo.store.calls("GET", "/orders$")]
    base = {"orderby": "modified", "order": "asc", "per_page": "2", "dates_are_gmt": "true"}
    assert asked == [
        base | {"page": "1"},
        base | {"page": "1", "modified_after": "2026-12-05T10:04:59"},  # from the newest second again
    ]
    connection = ChannelConnection.objects.get()
    assert (connection.pull_cursor, connection.pull_cursor_ids, connection.last_pull_count) == (
        "2026-12-05T10:05:00",
        ["7002", "7003"],
        3,
    )
    assert connection.last_pull_error == ""
    assert (
        list(InboundMessage.objects.order_by("pk").values_list("source", "status"))
        == [("pull:woocommerce", "processed")] * 3
    )

    # Nothing new: the next pull asks from the cursor and skips what it stored at that second.
    assert _pull(django_capture_on_commit_callbacks, woo_world) == 0
    assert InboundMessage.objects.count() == 3

    # An order changed later is applied as the channel's update of the known order.
    woo.store.orders[7001]["date_modified_gmt"] = "2026-12-05T11:00:00"
    assert _pull(django_capture_on_commit_callbacks, woo_world) == 1
    last = InboundMessage.objects.order_by("-pk").first()
    assert (last.status, last.result["created"]) == ("processed", False)
    assert Order.objects.count() == 3


def test_many_orders_in_one_second_page_on_instead_of_looping(
    woo, woo_world, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(woo_adapter, "PAGE_SIZE", 2)
    for oid in (7001, 7002, 7003):
        woo.store.add_order(woo_order(oid, modified="2026-12-05T10:00:00"))
    woo.store.add_order(woo_order(7004, modified="2026-12-05T09:00:00"))

    assert _pull(django_capture_on_commit_callbacks, woo_world) == 4
    assert [q["page"] for _m, _p, q, _b in woo.store.calls("GET", "/orders$")] == ["1", "1", "2"]
    assert Order.objects.count() == 4


def test_a_pulled_order_reads_as_its_webhook_would():
    body = json.dumps(woo_order(7001, modified="2026-12-05T10:00:00")).encode()
    assert woocommerce_pull.parse(body) == woocommerce_json.parse(body)
    assert woocommerce_pull.topic({}, body) == "update"


def test_a_refused_pull_keeps_the_cursor_and_says_why(woo, woo_world, django_capture_on_commit_callbacks):
    woo.store.add_order(woo_order(7001, modified="2026-12-05T10:00:00"))
    woo.store.fail_next("401")

    assert _pull(django_capture_on_commit_callbacks, woo_world) == 0
    connection = ChannelConnection.objects.get()
    assert connection.pull_cursor == ""
    assert connection.last_pull_error == (
        "WooCommerce answered 401: woocommerce_rest_cannot_view: Sorry, you cannot list resources. "
        "Check the consumer key and secret."
    )
    assert InboundMessage.objects.count() == 0


def test_a_secret_that_is_not_key_and_secret_is_refused(woo, woo_world):
    with pytest.raises(DomainError, match="consumer key and secret"):
        services.connection_save(channel=woo_world["channel"], data={}, secret="just-a-token")
    assert ChannelConnection.objects.get().credentials["access_token"].startswith("ck_")


@pytest.fixture
def pushing(woo, woo_world):
    channel = woo_world["channel"]
    channel.stock_adapter = "push"
    channel.save()
    woo.store.add_product(31, "SKU-A")
    woo.store.add_product(42, "SKU-B", parent=40)  # a variation of product 40
    return channel


def _publish(capture, channel):
    with capture(execute=True):
        publication = atp.channel_stock_publish(channel=channel)
    publication.refresh_from_db()
    return publication


def test_stock_reaches_products_and_variations_in_batches_and_skus_are_looked_up_once(
    woo, woo_world, pushing, django_capture_on_commit_callbacks
):
    assert _publish(django_capture_on_commit_callbacks, pushing).outcome == "published"

    assert [(p, b) for _m, p, _q, b in woo.store.calls("POST")] == [
        ("/wp-json/wc/v3/products/batch", {"update": [{"id": 31, "stock_quantity": 20, "manage_stock": True}]}),
        (
            "/wp-json/wc/v3/products/40/variations/batch",
            {"update": [{"id": 42, "stock_quantity": 20, "manage_stock": True}]},
        ),
    ]
    assert [q["sku"] for _m, _p, q, _b in woo.store.calls("GET", "/products$")] == ["SKU-A,SKU-B"]
    assert dict(RemoteItem.objects.values_list("sku", "remote_id")) == {"SKU-A": "31", "SKU-B": "40/42"}
    assert (woo.store.products[42]["stock_quantity"], woo.store.products[42]["manage_stock"]) == (20, True)

    stock_receive(location=woo_world["location"], product=Product.objects.get(sku="SKU-B"), quantity=5, reason="t")
    _publish(django_capture_on_commit_callbacks, pushing)
    assert woo.store.calls("POST")[-1][3] == {"update": [{"id": 42, "stock_quantity": 25, "manage_stock": True}]}
    assert len(woo.store.calls("GET", "/products$")) == 1  # cached
    assert ChannelConnection.objects.get().last_push_error == ""


def test_batches_hold_at_most_the_batch_size(woo, woo_world, pushing, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(woo_adapter, "BATCH", 1)
    woo.store.products[42].update(parent_id=0, type="simple")
    _publish(django_capture_on_commit_callbacks, pushing)
    assert [len(b["update"]) for _m, _p, _q, b in woo.store.calls("POST", "products/batch")] == [1, 1]


def test_a_product_deleted_on_woocommerce_is_named_and_looked_up_again(
    woo, woo_world, pushing, django_capture_on_commit_callbacks
):
    _publish(django_capture_on_commit_callbacks, pushing)
    del woo.store.products[31]
    stock_receive(location=woo_world["location"], product=Product.objects.get(sku="SKU-A"), quantity=1, reason="t")

    assert _publish(django_capture_on_commit_callbacks, pushing).outcome == "published"
    assert ChannelConnection.objects.get().last_push_error == "refused: SKU-A: Invalid ID."
    assert not RemoteItem.objects.filter(sku="SKU-A").exists()


def test_a_refused_push_is_dead_and_nothing_counts_as_published(
    woo, woo_world, pushing, django_capture_on_commit_callbacks
):
    woo.store.fail_next("401")
    publication = _publish(django_capture_on_commit_callbacks, pushing)
    assert publication.outcome == "failed"
    assert publication.error.startswith("PushRefused: WooCommerce answered 401: woocommerce_rest_cannot_view")
    assert woo.store.products[31]["stock_quantity"] is None
