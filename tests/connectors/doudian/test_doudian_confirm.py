"""Confirm shipment (发货) to 抖店: the whole order with one waybill by ``order.logisticsAdd``, a partial shipment
or several parcels by ``order.logisticsAddMultiPack`` with the 子订单 and their quantities; the company code from
our carrier; once, even across a crash; the platform's rate limit and business errors as retries and dead
letters."""

import pytest
from django.db import transaction

from connectors.base import Rejected
from connectors.doudian import adapter as dd_adapter
from connectors.models import RemoteShipment
from fulfillment.split import shipment_split
from logistics.channel_notices import shipments_channel_notice
from logistics.models import Carrier
from oms import outbox

from ..conftest import dispatch, make_order, ship, shipment_rows
from ..fake_doudian import shop_order
from .conftest import ORDER_ID

pytestmark = pytest.mark.django_db


def _order(dd, *, status=2):
    return dd.add_order(shop_order(ORDER_ID, updated=1765000000, status=status))


def _make(capture, world):
    return make_order(capture, world, external_id=ORDER_ID)


def test_a_whole_order_in_one_parcel_is_one_logistics_add_sent_once(dd, dd_world, django_capture_on_commit_callbacks):
    _order(dd)
    order = _make(django_capture_on_commit_callbacks, dd_world)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)

    assert dd.api_calls("order.logisticsAdd") == [
        {"order_id": ORDER_ID, "company_code": "zhongtong", "logistics_code": parcel.tracking_number}
    ]
    assert dd.api_calls("order.logisticsAddMultiPack") == []
    assert dd.orders[ORDER_ID]["order_status"] == 3
    assert [t["tracking_no"] for t in dd.orders[ORDER_ID]["logistics_info"]] == [parcel.tracking_number]
    assert shipment_rows() == [("sent", 1, "")]
    remote = RemoteShipment.objects.get()
    assert (remote.remote_id, remote.tracking_numbers) == (ORDER_ID, [parcel.tracking_number])

    # The notice written again and the consumer run again: nothing new reaches 抖店.
    with transaction.atomic():
        shipments_channel_notice(shipment_ids=[order.shipments.get().pk])
    dispatch(later_seconds=3600)
    assert len(dd.api_calls("order.logisticsAdd")) == 1


def test_a_worker_that_dies_after_the_platform_answered_ships_nothing_twice(
    dd, dd_world, django_capture_on_commit_callbacks, monkeypatch
):
    _order(dd)
    order = _make(django_capture_on_commit_callbacks, dd_world)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get())

    class WorkerKilled(BaseException):
        pass

    def die(records):
        raise WorkerKilled

    monkeypatch.setattr("connectors.services.remember_confirmations", die)
    with pytest.raises(WorkerKilled):
        dispatch()
    assert RemoteShipment.objects.count() == 0
    monkeypatch.undo()

    assert dispatch(later_seconds=outbox.lease().total_seconds() + 1) == {"sent": 1}
    assert len(dd.api_calls("order.logisticsAdd")) == 1  # the waybill was found on the order: adopted
    assert RemoteShipment.objects.get().tracking_numbers == [parcel.tracking_number]


def test_a_partial_shipment_names_its_sub_orders_and_quantities(dd, dd_world, django_capture_on_commit_callbacks):
    _order(dd)
    order = _make(django_capture_on_commit_callbacks, dd_world)
    first = order.shipments.get()
    line_a = first.lines.get(product__sku="SKU-A")
    second = shipment_split(shipment=first, quantities={line_a.pk: 1}, reason_code="other", note="two parcels")

    parcel_1 = ship(django_capture_on_commit_callbacks, first, run_outbox=True)
    assert dd.orders[ORDER_ID]["order_status"] == 101  # 部分发货
    parcel_2 = ship(django_capture_on_commit_callbacks, second, run_outbox=True)

    sent = dd.api_calls("order.logisticsAddMultiPack")
    assert [c["pack_list"] for c in sent] == [
        [
            {
                "shipped_order_info": [
                    {"shipped_order_id": f"{ORDER_ID}1", "shipped_num": 1},
                    {"shipped_order_id": f"{ORDER_ID}2", "shipped_num": 1},
                ],
                "logistics_code": parcel_1.tracking_number,
                "company_code": "zhongtong",
            }
        ],
        [
            {
                "shipped_order_info": [{"shipped_order_id": f"{ORDER_ID}1", "shipped_num": 1}],
                "logistics_code": parcel_2.tracking_number,
                "company_code": "zhongtong",
            }
        ],
    ]
    assert all(c["order_id"] == ORDER_ID and c["request_id"].startswith("oms-") for c in sent)
    assert dd.api_calls("order.logisticsAdd") == []
    assert dd.orders[ORDER_ID]["order_status"] == 3
    assert shipment_rows() == [("sent", 1, ""), ("sent", 1, "")]


def test_several_parcels_spread_the_units_and_each_waybill_is_a_pack(dd, dd_world):
    order = _order(dd)
    notice = {
        "shipment": 7,
        "order_external_id": ORDER_ID,
        "carrier_code": "zto",
        "tracking_numbers": ["ZT1", "ZT2"],
        "lines": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
    }
    result = dd_adapter.DoudianAdapter().confirm_shipment(dd_world["connection"], notice=notice, remote=None)

    assert (result.remote_id, result.action) == (ORDER_ID, "created")
    ((call,),) = [dd.api_calls("order.logisticsAddMultiPack")]
    assert [(p["logistics_code"], p["shipped_order_info"]) for p in call["pack_list"]] == [
        ("ZT1", [{"shipped_order_id": f"{ORDER_ID}1", "shipped_num": 2}]),
        ("ZT2", [{"shipped_order_id": f"{ORDER_ID}2", "shipped_num": 1}]),
    ]
    assert [t["tracking_no"] for t in order["logistics_info"]] == ["ZT1", "ZT2"]

    # More parcels than items cannot be told to 抖店: refused with the reason, nothing sent.
    with pytest.raises(Rejected, match="at least one item in each parcel: 4 parcels for 3 items"):
        dd_adapter.DoudianAdapter().confirm_shipment(
            dd_world["connection"],
            notice=notice | {"tracking_numbers": ["N1", "N2", "N3", "N4"]},
            remote=None,
        )
    assert len(dd.api_calls("order.logisticsAddMultiPack")) == 1


def test_an_order_already_shipped_on_the_platform_is_dead_with_its_words(
    dd, dd_world, django_capture_on_commit_callbacks
):
    order_there = _order(dd)
    order = _make(django_capture_on_commit_callbacks, dd_world)
    order_there["order_status"] = 3
    order_there["logistics_info"] = [{"tracking_no": "SF0000000001", "company": "shunfeng"}]

    ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)

    ((status, attempts, error),) = shipment_rows()
    assert (status, attempts) == ("dead", 1)
    assert error == (
        "Rejected: 抖店 answered 50002 业务处理失败 (isv.business-failed:30001: 订单状态不是待发货，不能发货)"
    )
    assert RemoteShipment.objects.count() == 0


def test_the_rate_limit_waits_and_then_sends(dd, dd_world, django_capture_on_commit_callbacks):
    _order(dd)
    order = _make(django_capture_on_commit_callbacks, dd_world)
    dd.limit("order.orderDetail")
    ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)
    ((status, _attempts, error),) = shipment_rows()
    assert status == "pending" and error.startswith("RetryLater: 抖店 answered 60000 触发限流")
    assert dispatch() == {}  # not due yet

    assert dispatch(later_seconds=2) == {"sent": 1}
    assert len(dd.api_calls("order.logisticsAdd")) == 1


def test_a_carrier_without_a_platform_code_is_dead_and_says_so(dd, dd_world, django_capture_on_commit_callbacks):
    _order(dd)
    Carrier.objects.filter(code="zto").update(shipper_code="")
    Carrier.objects.filter(code="zto").update(code="own-van")
    order = _make(django_capture_on_commit_callbacks, dd_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)

    ((status, _attempts, error),) = shipment_rows()
    assert status == "dead"
    assert "抖店 needs a logistics company code; the carrier" in error
    assert dd.api_calls("order.logisticsAdd") == []


def test_the_company_codes_of_the_main_couriers():
    assert {k: dd_adapter.COMPANY_CODES[k] for k in ("SF", "ZTO", "YTO", "STO", "YUNDA", "JTSD", "JD", "EMS")} == {
        "SF": "shunfeng",
        "ZTO": "zhongtong",
        "YTO": "yuantong",
        "STO": "shentong",
        "YUNDA": "yunda",
        "JTSD": "jtexpress",
        "JD": "jd",
        "EMS": "ems",
    }
