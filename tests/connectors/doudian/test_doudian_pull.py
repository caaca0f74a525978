"""Pull orders from 抖店 (``order.searchList`` by update time, page by page, with an overlap) into the order
inbox, and how a shop order reads: the Chinese address, fen to yuan exactly, the buyer's message and the seller's
memo, and the statuses (only 待发货 is routed as it is)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from connectors import services
from connectors.doudian import adapter as dd_adapter
from connectors.models import ChannelConnection
from orders.intake import doudian_pull
from orders.intake.canonical import OrderRejected
from orders.models import InboundMessage, Order

from ..fake_doudian import APP_KEY, SHOP_ID, shop_order

pytestmark = pytest.mark.django_db


def _pull(capture, world):
    with capture(execute=True):
        return services.connection_pull(connection_id=world["connection"].pk)


def _now() -> int:
    return int(timezone.now().timestamp())


def _stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_pull_over_pages_creates_each_order_once_and_moves_the_cursor(
    dd, dd_world, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(dd_adapter, "PAGE_SIZE", 2)
    t = _now() - 3600
    dd.add_order(shop_order("6920000000000000001", updated=t, buyer_words="请尽快发货", seller_words="送小样"))
    dd.add_order(shop_order("6920000000000000002", updated=t + 300))
    dd.add_order(shop_order("6920000000000000003", updated=t + 300))
    dd.add_order(shop_order("6920000000000000004", updated=t + 300))

    assert _pull(django_capture_on_commit_callbacks, dd_world) == 4

    first = Order.objects.get(external_id="6920000000000000001")
    assert (first.ship_name, first.ship_province, first.ship_city, first.ship_district, first.ship_address1) == (
        "陈静",
        "上海市",
        "上海市",
        "徐汇区",
        "徐家汇街道 漕溪北路18号",
    )
    assert first.status not in ("held", "cancelled")
    assert first.total == Decimal("269.00")  # 17600 + 1000 - 500 fen
    assert first.note == "抖店 6920000000000000001 买家留言: 请尽快发货 商家备注: 送小样"
    assert Order.objects.count() == 4
    asked = dd.api_calls("order.searchList")
    assert [(q["page"], q["update_time_start"]) for q in asked] == [
        (0, _now_minus_days(asked[0])),
        (0, t + 300),  # the full page went on from its newest second
        (1, t + 300),  # that page did not move: the next page
    ]
    assert all(q["order_by"] == "update_time" and q["order_asc"] is True and q["size"] == 2 for q in asked)
    connection = ChannelConnection.objects.get()
    assert (connection.pull_cursor, connection.pull_cursor_ids, connection.last_pull_error) == (
        _stamp(t + 300),
        ["6920000000000000002", "6920000000000000003", "6920000000000000004"],
        "",
    )

    # The last good pull ran long after the cursor: the next one starts at the cursor and skips what it stored
    # at the cursor's second.
    assert _pull(django_capture_on_commit_callbacks, dd_world) == 0
    assert dd.api_calls("order.searchList")[3]["update_time_start"] == t + 300
    assert InboundMessage.objects.count() == 4

    # An order changed later is applied as the channel's update of the known order.
    dd.orders["6920000000000000001"]["update_time"] = t + 900
    assert _pull(django_capture_on_commit_callbacks, dd_world) == 1
    last = InboundMessage.objects.order_by("-pk").first()
    assert (last.source, last.status, last.result["created"]) == ("pull:doudian", "processed", False)


def _now_minus_days(query) -> int:
    """The first pull reaches back FIRST_PULL_DAYS from the time it asked up to."""
    return query["update_time_end"] - dd_adapter.FIRST_PULL_DAYS * 86400


def test_a_refused_pull_keeps_the_cursor_and_says_why(dd, dd_world, django_capture_on_commit_callbacks):
    dd.add_order(shop_order("6920000000000000001", updated=_now() - 60))
    ChannelConnection.objects.update(credentials={"access_token": f"{APP_KEY}:not-the-secret:{SHOP_ID}"})

    assert _pull(django_capture_on_commit_callbacks, dd_world) == 0
    connection = ChannelConnection.objects.get()
    assert connection.pull_cursor == ""
    assert connection.last_pull_error.startswith("抖店 answered 40003 非法的参数 (isv.signature-invalid: 签名校验失败)")
    assert "not-the-secret" not in connection.last_pull_error
    assert InboundMessage.objects.count() == 0


def _parse(**extra):
    order = shop_order("6920000000000000009", updated=1765000000)
    order.update(extra)
    return doudian_pull.parse(json.dumps(order).encode())


def test_fen_become_yuan_exactly_and_the_lines_are_the_sub_orders():
    order = _parse(order_amount=17601, post_amount=1, promotion_amount=0)
    assert (order.total, order.shipping, order.discount) == (Decimal("176.01"), Decimal("0.01"), Decimal("0"))
    assert [(line.sku, line.quantity, line.unit_price, line.name) for line in order.lines] == [
        ("SKU-A", 2, Decimal("88"), "商品 SKU-A"),
        ("SKU-B", 1, Decimal("88"), "商品 SKU-B"),
    ]
    assert (order.external_id, order.channel_order_name, order.ship_to.country) == (
        "6920000000000000009",
        "6920000000000000009",
        "CN",
    )
    assert order.holds == [] and order.cancelled_reason == ""


@pytest.mark.parametrize(
    ("extra", "cancelled", "holds"),
    [
        ({"order_status": 4, "cancel_reason": "买家不想要了"}, "已取消 买家不想要了", []),
        ({"order_status": 1, "order_status_desc": "待支付"}, "", [("payment", "抖店 status 1: 待支付")]),
        ({"order_status": 3, "order_status_desc": "已发货"}, "", [("manual", "抖店 status 3: 已发货")]),
        ({"order_status": 105, "order_status_desc": ""}, "", [("manual", "抖店 status 105: 已支付，未到发货时间")]),
    ],
)
def test_only_awaiting_shipment_is_routed_as_it_is(extra, cancelled, holds):
    order = _parse(**extra)
    assert (order.cancelled_reason, order.holds) == (cancelled, holds)


def test_a_refund_pending_holds_and_all_refunded_is_cancelled():
    order = shop_order("6920000000000000009", updated=1765000000)
    order["sku_order_list"][1]["after_sale_info"]["refund_status"] = 1
    parsed = doudian_pull.parse(json.dumps(order).encode())
    assert parsed.holds == [("manual", "抖店 退款中 (refund pending): SKU-B")]
    for sub in order["sku_order_list"]:
        sub["after_sale_info"]["refund_status"] = 3
    parsed = doudian_pull.parse(json.dumps(order).encode())
    assert (parsed.cancelled_reason, parsed.holds) == ("已退款", [])


def test_a_masked_receiver_is_used_when_the_plain_one_is_not_given():
    order = _parse(
        post_receiver="",
        post_tel="",
        post_addr=None,
        mask_post_receiver="陈*",
        mask_post_tel="139****5678",
        mask_post_addr={
            "province": {"name": "浙江省"},
            "city": {"name": "杭州市"},
            "town": {"name": "西湖区"},
            "detail": "文三路**号",
        },
    )
    a = order.ship_to
    assert (a.name, a.phone, a.province, a.city, a.district, a.address1) == (
        "陈*",
        "139****5678",
        "浙江省",
        "杭州市",
        "西湖区",
        "文三路**号",
    )
    assert order.note.endswith("收件人信息已加密（面单取号时解密）")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"order_amount": "176.00"}, "order_amount"),
        ({"order_amount": -1}, "order_amount"),
        ({"sku_order_list": []}, "sku_order_list"),
        ({"order_id": ""}, "order_id"),
        ({"create_time": "yesterday"}, "create_time"),
    ],
)
def test_a_malformed_order_is_rejected_naming_the_field(extra, field):
    with pytest.raises(OrderRejected) as caught:
        _parse(**extra)
    assert field in {e.field for e in caught.value.errors}


def test_a_pull_soon_after_the_cursor_starts_an_overlap_before_it(dd, dd_world, django_capture_on_commit_callbacks):
    recent = _now() - 5
    dd.add_order(shop_order("6920000000000000001", updated=recent - 30))
    dd.add_order(shop_order("6920000000000000002", updated=recent))
    assert _pull(django_capture_on_commit_callbacks, dd_world) == 2

    # An order 抖店 indexed late (updated before the cursor, seen only now) is still pulled.
    dd.add_order(shop_order("6920000000000000003", updated=recent - 10))
    assert _pull(django_capture_on_commit_callbacks, dd_world) == 2  # the late one, and one inside the overlap again
    assert dd.api_calls("order.searchList")[-1]["update_time_start"] == recent - dd_adapter.OVERLAP_SECONDS
    assert Order.objects.filter(external_id="6920000000000000003").exists()
    assert Order.objects.count() == 3
