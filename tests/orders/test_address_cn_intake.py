"""Intake of orders to China whose address came as one line (orders/intake/address_check.py
``fill_cn_address``): the empty parts filled with an event, an explicit value never replaced, an
address that does not resolve held with suggestions; the batch path parses each address once."""

import pytest

from orders import services
from orders.intake import address_cn
from orders.intake.bulk import create_batch
from orders.models import Order
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, ProductFactory, canonical

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    ProductFactory(sku="SKU-A")
    address_cn.cache_clear()
    return ChannelFactory(slug="tmall", name="Tmall")


def one_line(external_id: str, line: str, **parts) -> object:
    ship_to = {"province": "", "city": "", "district": "", "address1": line, "postcode": ""}
    ship_to.update(parts)
    return canonical(external_id, ship_to=ship_to)


def address_of(order: Order) -> tuple:
    return (order.ship_province, order.ship_city, order.ship_district, order.ship_address1)


def test_a_one_line_address_gets_its_province_city_and_district_with_an_event(channel):
    result = services.order_create(channel=channel, data=one_line("T1", "湖南长沙岳麓区麓山南路932号"), source="api")
    order = result.order
    assert address_of(order) == ("湖南省", "长沙市", "岳麓区", "湖南长沙岳麓区麓山南路932号")
    assert (order.status, order.on_hold) == (OrderStatus.CONFIRMED, False)
    event = order.events.get(kind=EventKind.ADDRESS_PARSED)
    assert event.data == {"filled": {"province": "湖南省", "city": "长沙市", "district": "岳麓区"}}
    assert event.message == (
        "Address completed from the division list (it was empty): province 湖南省, city 长沙市, district 岳麓区."
    )


def test_an_explicit_value_of_the_channel_is_never_overwritten(channel):
    # The channel wrote 湖南 (not 湖南省) and nothing else: only the empty city and district are filled.
    data = one_line("T2", "长沙市岳麓区麓山南路932号", province="湖南")
    order = services.order_create(channel=channel, data=data, source="api").order
    assert address_of(order) == ("湖南", "长沙市", "岳麓区", "长沙市岳麓区麓山南路932号")
    assert order.events.get(kind=EventKind.ADDRESS_PARSED).data == {"filled": {"city": "长沙市", "district": "岳麓区"}}


def test_a_contradiction_holds_the_order_with_suggestions_and_changes_nothing(channel):
    data = one_line("T3", "中山路1号", province="浙江省", city="杭州市", district="鼓楼区")
    order = services.order_create(channel=channel, data=data, source="api").order
    assert address_of(order) == ("浙江省", "杭州市", "鼓楼区", "中山路1号")
    assert (order.status, order.on_hold) == (OrderStatus.RECEIVED, True)
    hold = order.holds.get()
    assert hold.reason == HoldReason.ADDRESS_INVALID
    assert hold.note == (
        "Address not in China's division list: '鼓楼区' is not a district of 杭州市 (it is in 江苏省 南京市 鼓楼区)."
        " Did you mean: 江苏省 南京市 鼓楼区 / 江苏省 徐州市 鼓楼区 / 福建省 福州市 鼓楼区?"
    )
    assert not order.events.filter(kind=EventKind.ADDRESS_PARSED).exists()


def test_a_province_that_contradicts_the_line_is_held_not_moved(channel):
    data = one_line("T4", "长沙市岳麓区麓山南路932号", province="江苏省")
    order = services.order_create(channel=channel, data=data, source="api").order
    assert address_of(order) == ("江苏省", "", "", "长沙市岳麓区麓山南路932号")
    assert list(order.holds.values_list("reason", "note")) == [
        (
            HoldReason.ADDRESS_INVALID,
            "city missing; Address not in China's division list: '长沙市' is not a city of 江苏省 "
            "(it is in 湖南省 长沙市). Did you mean: 湖南省 长沙市?",
        )
    ]


def test_an_address_that_does_not_resolve_is_held_with_the_closest_divisions(channel):
    data = one_line("T5", "江苏省苏洲市姑苏区人民路100号")
    order = services.order_create(channel=channel, data=data, source="api").order
    assert order.on_hold
    assert order.holds.get().note == (
        "city missing; Address not in China's division list: '苏洲市' is not a city of 江苏省."
        " Did you mean: 江苏省 苏州市 / 江苏省 苏州市 姑苏区?"
    )
    assert address_of(order) == ("", "", "", "江苏省苏洲市姑苏区人民路100号")


def test_an_order_outside_china_is_not_parsed(channel):
    data = one_line("T6", "湖南长沙岳麓区麓山南路932号", country="HK", city="Hong Kong")
    order = services.order_create(channel=channel, data=data, source="api").order
    assert address_of(order) == ("", "Hong Kong", "", "湖南长沙岳麓区麓山南路932号")
    assert not order.events.filter(kind=EventKind.ADDRESS_PARSED).exists()


def test_a_city_in_latin_letters_with_a_chinese_street_is_neither_held_nor_changed(channel):
    """Marketplaces and web shops often send the city in pinyin and the street in Chinese: the street line
    alone names no division, and a Latin name is not checked, so there is nothing to hold or fill."""
    data = one_line("T7", "世纪大道88号", province="Shanghai", city="Shanghai")
    order = services.order_create(channel=channel, data=data, source="api").order
    assert address_of(order) == ("Shanghai", "Shanghai", "", "世纪大道88号")
    assert not order.holds.filter(reason=HoldReason.ADDRESS_INVALID).exists()
    assert not order.events.filter(kind=EventKind.ADDRESS_PARSED).exists()


def test_a_chinese_district_in_the_line_still_fills_an_empty_district_beside_latin_names(channel):
    data = one_line("T8", "浦东新区世纪大道88号", province="Shanghai", city="Shanghai")
    order = services.order_create(channel=channel, data=data, source="api").order
    assert address_of(order) == ("Shanghai", "Shanghai", "浦东新区", "浦东新区世纪大道88号")
    assert not order.holds.filter(reason=HoldReason.ADDRESS_INVALID).exists()


def test_the_batch_path_fills_holds_and_parses_each_distinct_address_once(channel, monkeypatch):
    calls = []
    real = address_cn._parse
    monkeypatch.setattr(address_cn, "_parse", lambda text, **kw: calls.append(text) or real(text, **kw))
    lines = ["湖南长沙岳麓区麓山南路932号", "上海市浦东新区世纪大道100号", "浙江省杭州市鼓楼区中山路1号"]
    items = [(n, one_line(f"B{n}", lines[n % 3])) for n in range(30)]
    outcomes = create_batch(channel=channel, items=items, source="file:test")
    assert [o.status for o in outcomes] == ["created"] * 30
    # Each line's shape (its digits made 0) once; the one that does not resolve once more as written.
    shapes = [address_cn.normalize(line).translate(address_cn.DIGITS_MASKED) for line in lines]
    assert sorted(calls) == sorted([*shapes, address_cn.normalize(lines[2])])
    orders = {o.external_id: o for o in Order.objects.filter(channel=channel)}
    assert address_of(orders["B0"]) == ("湖南省", "长沙市", "岳麓区", lines[0])
    assert address_of(orders["B1"]) == ("上海市", "上海市", "浦东新区", lines[1])
    assert address_of(orders["B2"]) == ("", "", "", lines[2])
    assert orders["B2"].on_hold and orders["B2"].holds.get().reason == HoldReason.ADDRESS_INVALID
    assert orders["B0"].events.get(kind=EventKind.ADDRESS_PARSED).data == {
        "filled": {"province": "湖南省", "city": "长沙市", "district": "岳麓区"}
    }
    assert sum(o.on_hold for o in orders.values()) == 10
