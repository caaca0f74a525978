"""抖店 hears of what changes after 发货 and of cancellations (issue 16, "Talk back"): a relabel is
``order.logisticsEdit`` (an order shipped whole) or ``order.logisticsEditByPack`` (a package of several), once
even across a lost answer; a void, and a cancellation the open platform has no seller API for, end as a dead
letter telling the person what to do in the 抖店 back office (translated on the sync page); an order 抖店 shows
cancelled already counts as told."""

from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import reverse

from connectors.base import PersonMustAct
from connectors.doudian import adapter as dd_adapter
from connectors.models import ChannelConnection, RemoteShipment
from connectors.selectors import channel_sync_state
from logistics.channel_notices import shipments_channel_notice
from logistics.models import Parcel
from workflows.cancel import order_cancel

from ..conftest import dispatch, make_order, ship, shipment_rows
from ..fake_doudian import error as dd_error
from ..fake_doudian import shop_order
from ..test_cancel_notices import notices
from .conftest import ORDER_ID

pytestmark = pytest.mark.django_db

NOTICE = {
    "shipment": 7,
    "order_external_id": ORDER_ID,
    "carrier_code": "zto",
    "tracking_numbers": ["ZT1"],
    "lines": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
}


def test_a_relabel_of_an_order_shipped_whole_is_one_logistics_edit_sent_once(dd, dd_world):
    order = dd.add_order(shop_order(ORDER_ID, updated=1765000000))
    adapter = dd_adapter.DoudianAdapter()
    connection = dd_world["connection"]
    assert adapter.confirm_shipment(connection, notice=NOTICE, remote=None).action == "created"
    sent = SimpleNamespace(tracking_numbers=["ZT1"], remote_id=ORDER_ID, cancelled=False)

    relabel = NOTICE | {"tracking_numbers": ["ZT2"]}
    assert adapter.confirm_shipment(connection, notice=relabel, remote=sent).action == "updated"
    assert dd.api_calls("order.logisticsEdit") == [
        {"order_id": ORDER_ID, "company_code": "zhongtong", "logistics_code": "ZT2"}
    ]
    assert [t["tracking_no"] for t in order["logistics_info"]] == ["ZT2"]
    # The answer was lost and the notice is sent again: 抖店 has ZT2 already, nothing more is sent.
    assert adapter.confirm_shipment(connection, notice=relabel, remote=sent).action == "unchanged"
    assert len(dd.api_calls("order.logisticsEdit")) == 1
    assert dd.api_calls("order.logisticsEditByPack") == []


def test_a_relabel_of_one_package_of_several_is_logistics_edit_by_pack(dd, dd_world):
    order = dd.add_order(shop_order(ORDER_ID, updated=1765000000))
    adapter = dd_adapter.DoudianAdapter()
    connection = dd_world["connection"]
    two = NOTICE | {"tracking_numbers": ["ZT1", "ZT2"]}
    assert adapter.confirm_shipment(connection, notice=two, remote=None).action == "created"
    sent = SimpleNamespace(tracking_numbers=["ZT1", "ZT2"], remote_id=ORDER_ID, cancelled=False)

    assert adapter.confirm_shipment(connection, notice=two | {"tracking_numbers": ["ZT1", "ZT9"]}, remote=sent)
    assert dd.api_calls("order.logisticsEditByPack") == [
        {"order_id": ORDER_ID, "pack_id": "pk2", "company_code": "zhongtong", "logistics_code": "ZT9"}
    ]
    assert [t["tracking_no"] for t in order["logistics_info"]] == ["ZT1", "ZT9"]
    assert dd.api_calls("order.logisticsEdit") == []


def test_a_void_or_a_changed_number_of_packages_asks_the_person_and_sends_nothing(dd, dd_world):
    order = dd.add_order(shop_order(ORDER_ID, updated=1765000000))
    adapter = dd_adapter.DoudianAdapter()
    connection = dd_world["connection"]
    adapter.confirm_shipment(connection, notice=NOTICE, remote=None)
    sent = SimpleNamespace(tracking_numbers=["ZT1"], remote_id=ORDER_ID, cancelled=False)
    with pytest.raises(PersonMustAct) as caught:
        adapter.confirm_shipment(connection, notice=NOTICE | {"tracking_numbers": []}, remote=sent)
    assert str(caught.value) == dd_adapter.NO_VOID
    with pytest.raises(PersonMustAct) as caught:
        adapter.confirm_shipment(connection, notice=NOTICE | {"tracking_numbers": ["ZT2", "ZT3"]}, remote=sent)
    assert str(caught.value) == dd_adapter.NO_PARCEL_CHANGE
    assert [t["tracking_no"] for t in order["logistics_info"]] == ["ZT1"]
    assert dd.api_calls("order.logisticsEdit") == dd.api_calls("order.logisticsEditByPack") == []


def test_a_relabel_through_the_outbox_and_the_platform_refusing_it(dd, dd_world, django_capture_on_commit_callbacks):
    dd.add_order(shop_order(ORDER_ID, updated=1765000000))
    order = make_order(django_capture_on_commit_callbacks, dd_world, external_id=ORDER_ID)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)
    dd.limit("order.logisticsEdit")  # 60000 触发限流: tried again
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Parcel.objects.filter(pk=parcel.pk).update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number="ZT77000001")
        shipments_channel_notice(shipment_ids=[shipment.pk])
    assert [s for s, _a, _e in shipment_rows()] == ["sent", "pending"]
    dispatch(later_seconds=3600)
    assert [s for s, _a, _e in shipment_rows()] == ["sent", "sent"]
    assert [t["tracking_no"] for t in dd.orders[ORDER_ID]["logistics_info"]] == ["ZT77000001"]
    assert RemoteShipment.objects.get().tracking_numbers == ["ZT77000001"]

    # 抖店 refuses a second relabel (its error table's 60017, a waybill that does not match the company).
    dd.fail(
        "logisticsEdit",
        200,
        dd_error(50002, "业务处理失败", "isv.business-failed:60017", "物流单号错误。原因：发货信息填写有误"),
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Parcel.objects.filter(tracking_number="ZT77000001").update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number="ZT77000002")
        shipments_channel_notice(shipment_ids=[shipment.pk])
    status, _attempts, error = shipment_rows()[-1]
    assert status == "dead"
    assert error == (
        "Rejected: 抖店 answered 50002 业务处理失败 (isv.business-failed:60017: 物流单号错误。原因：发货信息填写有误)"
    )
    assert [t["tracking_no"] for t in dd.orders[ORDER_ID]["logistics_info"]] == ["ZT77000001"]


def test_a_cancelled_order_is_told_when_the_platform_shows_it_cancelled_else_the_person_is_asked(
    dd, dd_world, django_capture_on_commit_callbacks, admin_client
):
    ChannelConnection.objects.filter(pk=dd_world["connection"].pk).update(cancel_notices=True)
    dd.add_order(shop_order(ORDER_ID, updated=1765000000))
    order = make_order(django_capture_on_commit_callbacks, dd_world, external_id=ORDER_ID)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="out of stock", reason_code="out_of_stock")
    assert notices() == [("dead", 1, dd_adapter.NO_CANCEL)]
    assert [r["shop_order_id"] for r in dd.api_calls("order.orderDetail")] == [ORDER_ID]

    # The sync page shows it (translated through the catalogue: scripts/i18n/zh/connect-notices.json).
    state = channel_sync_state(dd_world["channel"])
    assert [r.error_text for r in state.problems] == [dd_adapter.NO_CANCEL]
    page = admin_client.get(reverse("connectors:channel_sync", args=[dd_world["channel"].slug]))
    assert page.status_code == 200 and "cancel it in the 抖店 back office" in page.content.decode()

    # The person cancels it there and presses Retry: 抖店 shows 已取消, the row is done.
    dd.orders[ORDER_ID]["order_status"] = 4
    from connectors.services import sync_retry

    with django_capture_on_commit_callbacks(execute=True):
        assert sync_retry(channel=dd_world["channel"]) == 1
    dispatch(later_seconds=3600)
    assert notices() == [("sent", 1, "")]  # Retry starts the row's tries afresh


def test_a_cancelled_order_unknown_to_the_platform_is_a_dead_letter_with_its_message(
    dd, dd_world, django_capture_on_commit_callbacks
):
    ChannelConnection.objects.filter(pk=dd_world["connection"].pk).update(cancel_notices=True)
    order = make_order(django_capture_on_commit_callbacks, dd_world, external_id=ORDER_ID)  # not on the platform
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="staff cancelled")
    [(status, attempts, error)] = notices()
    assert (status, attempts) == ("dead", 1) and "订单不存在" in error


def test_the_messages_for_the_person_have_chinese():
    import json
    from pathlib import Path

    catalogue = json.loads((Path(__file__).parents[3] / "scripts/i18n/zh/connect-notices.json").read_text())
    for msgid in (dd_adapter.NO_CANCEL, dd_adapter.NO_LINES_CANCEL, dd_adapter.NO_VOID, dd_adapter.NO_PARCEL_CHANGE):
        assert catalogue.get(msgid)


def test_a_partial_cancellation_asks_the_person_to_refund_in_the_doudian_back_office(
    dd, dd_world, django_capture_on_commit_callbacks
):
    from workflows.cancel import order_cancel_request

    from ..test_lines_cancel_notices import lines_rows, partly_shipped

    ChannelConnection.objects.filter(pk=dd_world["connection"].pk).update(cancel_notices=True)
    dd.add_order(shop_order(ORDER_ID, updated=1765000000))
    order = partly_shipped(django_capture_on_commit_callbacks, dd_world, external_id=ORDER_ID)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="out_of_stock")
    assert lines_rows() == [("dead", 1, dd_adapter.NO_LINES_CANCEL)]
    assert dd.orders[ORDER_ID]["order_status"] == 101  # 部分发货: nothing else changed there
