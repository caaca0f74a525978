"""Stock to 抖店 (SKU -> product/sku id by ``sku.detail`` once, then ``sku.syncStockBatch`` per product), the sync
page of a 抖店 channel (never the app secret), and the reconciliation (orders 抖店 shows shipped, open here)."""

import pytest
from django.urls import reverse

from connectors import reconcile
from connectors.doudian import adapter as dd_adapter
from connectors.models import ChannelConnection, RemoteItem
from inventory.models import Product
from inventory.services import stock_receive
from oms.models import OutboxMessage
from orders import atp
from tests.factories import ProductFactory, make_user

from ..conftest import dispatch, make_order
from ..fake_doudian import APP_SECRET, TOKEN, shop_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushing(dd, dd_world):
    channel = dd_world["channel"]
    channel.stock_adapter = "push"
    channel.save()
    dd.add_sku("SKU-A", product_id=3600000000000000001, sku_id=1700000000000000011)
    dd.add_sku("SKU-B", product_id=3600000000000000001, sku_id=1700000000000000012)
    return channel


def _publish(capture, channel):
    with capture(execute=True):
        publication = atp.channel_stock_publish(channel=channel)
    publication.refresh_from_db()
    return publication


def test_stock_reaches_the_skus_in_one_batch_per_product_and_skus_are_looked_up_once(
    dd, dd_world, pushing, django_capture_on_commit_callbacks
):
    ProductFactory(sku="SKU-C")  # not on 抖店
    stock_receive(location=dd_world["location"], product=Product.objects.get(sku="SKU-C"), quantity=3, reason="t")
    assert _publish(django_capture_on_commit_callbacks, pushing).outcome == "published"

    assert dd.api_calls("sku.syncStockBatch") == [
        {
            "product_id": 3600000000000000001,
            "incremental": False,
            "sku_sync_list": [
                {"sku_id": 1700000000000000011, "sku_type": 0, "stock_num": 20},
                {"sku_id": 1700000000000000012, "sku_type": 0, "stock_num": 20},
            ],
        }
    ]
    assert sorted(c["code"] for c in dd.api_calls("sku.detail")) == ["SKU-A", "SKU-B", "SKU-C"]
    assert dict(RemoteItem.objects.values_list("sku", "remote_id")) == {
        "SKU-A": "3600000000000000001/1700000000000000011",
        "SKU-B": "3600000000000000001/1700000000000000012",
        "SKU-C": "",
    }
    assert (dd.skus["SKU-A"]["stock_num"], dd.skus["SKU-B"]["stock_num"]) == (20, 20)
    assert ChannelConnection.objects.get().last_push_error == "not on the platform: SKU-C"

    stock_receive(location=dd_world["location"], product=Product.objects.get(sku="SKU-B"), quantity=5, reason="t")
    _publish(django_capture_on_commit_callbacks, pushing)
    assert dd.api_calls("sku.syncStockBatch")[-1]["sku_sync_list"] == [
        {"sku_id": 1700000000000000012, "sku_type": 0, "stock_num": 25}
    ]
    assert len(dd.api_calls("sku.detail")) == 3  # kept


def test_batches_hold_at_most_the_batch_size(dd, dd_world, pushing, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(dd_adapter, "BATCH", 1)
    _publish(django_capture_on_commit_callbacks, pushing)
    assert [len(c["sku_sync_list"]) for c in dd.api_calls("sku.syncStockBatch")] == [1, 1]


def test_a_sku_moved_on_the_platform_is_named_and_looked_up_again(
    dd, dd_world, pushing, django_capture_on_commit_callbacks
):
    _publish(django_capture_on_commit_callbacks, pushing)
    dd.skus["SKU-A"]["product_id"] = 3600000000000000002  # the batch of product …01 is now refused as a whole
    stock_receive(location=dd_world["location"], product=Product.objects.get(sku="SKU-A"), quantity=1, reason="t")

    assert _publish(django_capture_on_commit_callbacks, pushing).outcome == "published"
    assert ChannelConnection.objects.get().last_push_error == (
        "refused: SKU-A: 抖店 answered 50002 业务处理失败 (isv.business-failed:11002: sku不属于该商品)"
    )
    assert not RemoteItem.objects.filter(sku="SKU-A").exists()


def test_a_rate_limited_push_waits_and_then_publishes(dd, dd_world, pushing, django_capture_on_commit_callbacks):
    dd.limit("sku.syncStockBatch")
    publication = _publish(django_capture_on_commit_callbacks, pushing)
    assert publication.outcome == "queued"
    assert dd.skus["SKU-A"]["stock_num"] is None
    row = OutboxMessage.objects.get(kind="stock_push")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("PushRetryAfter: 抖店 answered 60000 触发限流，请稍后重试")

    assert dispatch(later_seconds=2) == {"sent": 1}
    publication.refresh_from_db()
    assert publication.outcome == "published"
    assert dd.skus["SKU-A"]["stock_num"] == 20


def test_the_sync_page_of_a_doudian_channel_never_shows_the_secret(client, dd, dd_world):
    from connectors.doudian.adapter import client_for

    client_for(ChannelConnection.objects.get()).call("order.searchList", {"page": 0})  # a token is kept
    client.force_login(make_user("manager1", "manager"))
    html = client.get(reverse("connectors:channel_sync", args=["doudian-cn"])).content.decode()
    assert "抖店 (Douyin Shop)" in html
    assert APP_SECRET not in html and TOKEN not in html and dd.access_token not in html
    assert dd.refresh_token not in html
    assert "••••" + TOKEN[-4:] in html


def test_an_order_shipped_on_the_platform_but_open_here_is_listed(dd, dd_world, django_capture_on_commit_callbacks):
    dd.add_order(shop_order("6920000000000000001", updated=1765000000, status=3))
    dd.add_order(shop_order("6920000000000000002", updated=1765000000, status=2))
    first = make_order(django_capture_on_commit_callbacks, dd_world, external_id="6920000000000000001")
    make_order(django_capture_on_commit_callbacks, dd_world, external_id="6920000000000000002")
    first.refresh_from_db()

    result = reconcile.connection_reconcile(connection_id=dd_world["connection"].pk)

    assert (result.reverse_checked, result.error) == (True, "")
    assert result.open_here == [
        {
            "order": first.pk,
            "number": first.number,
            "external_id": "6920000000000000001",
            "status": first.status,
            "theirs": "已发货",
        }
    ]
