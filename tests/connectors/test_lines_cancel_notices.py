"""Partial cancellation told to the platform (issue 16, "cancel / refund notice"): a partly shipped order whose
open part is cancelled writes one ``channel.lines_cancel`` row in the cancelling transaction, with the lines and
quantities that will not ship; Shopify hears it as ``refundCreate`` with ``refundLineItems``, once even when the
first answer was lost; refusals are dead letters with Shopify's message; platforms without such an API ask the
person."""

import pytest
from django.db import transaction

from connectors.models import ChannelConnection
from fulfillment.split import shipment_split
from oms.models import OutboxMessage
from workflows.cancel import order_cancel_request

from .conftest import dispatch, make_order, ship

pytestmark = pytest.mark.django_db


def lines_rows():
    rows = OutboxMessage.objects.filter(kind="channel.lines_cancel").order_by("pk")
    return list(rows.values_list("status", "attempts", "last_error"))


def partly_shipped(capture, world, external_id="5001"):
    """SKU-A ×2 and SKU-B ×1, split in two: SKU-A ×1 + SKU-B ×1 shipped, SKU-A ×1 still open."""
    order = make_order(capture, world, external_id=external_id)
    first = order.shipments.get()
    line_a = first.lines.get(product__sku="SKU-A")
    shipment_split(shipment=first, quantities={line_a.pk: 1}, reason_code="other", note="two parcels")
    ship(capture, first, run_outbox=True)
    order.refresh_from_db()
    return order


@pytest.fixture
def on(world):
    ChannelConnection.objects.filter(pk=world["connection"].pk).update(cancel_notices=True)
    return world


def test_the_cancelled_rest_of_a_partly_shipped_order_is_refunded_on_shopify_once(
    fake, on, django_capture_on_commit_callbacks
):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = partly_shipped(django_capture_on_commit_callbacks, on)
    with django_capture_on_commit_callbacks(execute=True):
        result = order_cancel_request(order=order, reason_code="customer_request", note="too late")
    assert result.outcome == "partial"
    row = OutboxMessage.objects.get(kind="channel.lines_cancel")
    assert row.payload["lines"] == [{"line_no": 1, "sku": "SKU-A", "quantity": 1}]
    assert lines_rows() == [("sent", 1, "")]
    [(_name, variables)] = fake.shop.operations("RefundCreate")
    line_a = fake.shop.line_items[gid][0]
    assert variables["input"]["orderId"] == gid
    assert variables["input"]["refundLineItems"] == [
        {"lineItemId": line_a["id"], "quantity": 1, "restockType": "NO_RESTOCK"}
    ]
    assert variables["input"]["notify"] is False
    assert "transactions" not in variables["input"]  # refund payments off: no money moves
    assert "shipping" not in variables["input"] and "refund_shipping" not in row.payload  # part of it shipped
    assert fake.shop.sales[gid]["refunded"] == 0
    assert variables["input"]["note"].startswith(f"[OMS {row.key}] Cancelled in the OMS ({order.number})")
    assert line_a["refundableQuantity"] == 1

    dispatch(later_seconds=3600)  # the consumer again: nothing more reaches Shopify
    assert len(fake.shop.operations("RefundCreate")) == 1


def test_a_refund_whose_answer_was_lost_is_not_made_twice(fake, on, django_capture_on_commit_callbacks):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = partly_shipped(django_capture_on_commit_callbacks, on)
    key_start = f"{order.pk}:lines:"
    with transaction.atomic():  # the row is written, the consumer not run yet
        order_cancel_request(order=order, reason_code="customer_request")
    row = OutboxMessage.objects.get(kind="channel.lines_cancel")
    assert row.key.startswith(key_start)
    # Our first try reached Shopify and its answer was lost: the refund is there with our note.
    fake.shop.refunds[gid] = [{"id": "gid://shopify/Refund/1", "note": f"[OMS {row.key}] Cancelled in the OMS"}]
    dispatch()
    assert lines_rows() == [("sent", 1, "")]
    assert fake.shop.operations("RefundCreate") == []


def test_shopify_refusing_the_refund_is_a_dead_letter_and_nothing_is_written_when_nothing_was_cancelled(
    fake, on, django_capture_on_commit_callbacks
):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = partly_shipped(django_capture_on_commit_callbacks, on)
    fake.shop.line_items[gid][0]["refundableQuantity"] = 0  # refunded in Shopify's admin meanwhile
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="customer_request")
    [(status, attempts, error)] = lines_rows()
    assert (status, attempts) == ("dead", 1)
    assert error == "Rejected: Shopify has no refundable quantity for: SKU-A ×1."
    assert fake.shop.operations("RefundCreate") == []


def test_no_row_when_notices_are_off_it_is_skipped(fake, world, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = partly_shipped(django_capture_on_commit_callbacks, world)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="customer_request")
    assert lines_rows() == [("skipped", 1, "Cancellation notices are off for this channel.")]
    assert fake.shop.operations("RefundCreate") == []


def test_with_refund_payments_the_money_goes_back_by_shopifys_suggested_transaction(
    fake, on, django_capture_on_commit_callbacks
):
    ChannelConnection.objects.filter(pk=on["connection"].pk).update(refund_payments=True)
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = partly_shipped(django_capture_on_commit_callbacks, on)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="out_of_stock")
    assert lines_rows() == [("sent", 1, "")]
    [(_name, suggested)] = fake.shop.operations("SuggestedRefund")
    line_a = fake.shop.line_items[gid][0]
    assert suggested["items"] == [{"lineItemId": line_a["id"], "quantity": 1, "restockType": "NO_RESTOCK"}]
    assert suggested["shipping"] is False  # part of the order shipped: its shipping is not owed back
    [(_name, variables)] = fake.shop.operations("RefundCreate")
    sale = fake.shop.sales[gid]
    assert variables["input"]["transactions"] == [
        {"orderId": gid, "gateway": "shopify_payments", "kind": "REFUND", "parentId": sale["id"], "amount": "10.00"}
    ]
    assert sale["refunded"] == 10.0
    assert "shipping" not in variables["input"] and fake.shop.shipping[gid]["refunded"] == 0


def test_a_partly_shipped_order_the_channel_itself_cancelled_is_not_told_back(
    fake, on, django_capture_on_commit_callbacks
):
    from tests.factories import canonical
    from workflows.channel import order_apply_channel_update

    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = partly_shipped(django_capture_on_commit_callbacks, on)
    update = canonical("5001", lines=(("SKU-A", 2), ("SKU-B", 1)))
    update.cancelled_reason = "cancelled"
    with django_capture_on_commit_callbacks(execute=True):
        result = order_apply_channel_update(order=order, data=update, source="webhook")
    assert result["changed"] == ["partial"]
    assert lines_rows() == [] and fake.shop.operations("RefundCreate") == []


def whole_order_row(capture, world):
    """The lines row of an order none of which shipped: every line cancelled, its shipping owed back."""
    from orders.channel_notices import order_lines_cancel_notice

    order = make_order(capture, world)
    with transaction.atomic():
        written = order_lines_cancel_notice(
            order=order,
            lines=[{"line_no": 1, "sku": "SKU-A", "quantity": 2}, {"line_no": 2, "sku": "SKU-B", "quantity": 1}],
            reason="cancelled before shipping",
            reason_code="customer_request",
            refund_shipping=True,
        )
    assert written is True
    row = OutboxMessage.objects.get(kind="channel.lines_cancel")
    assert row.payload["refund_shipping"] is True
    return order, row


def test_a_whole_order_cancelled_before_shipping_refunds_its_shipping_with_refund_payments(
    fake, on, django_capture_on_commit_callbacks
):
    ChannelConnection.objects.filter(pk=on["connection"].pk).update(refund_payments=True)
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    _order, row = whole_order_row(django_capture_on_commit_callbacks, on)
    dispatch()
    assert lines_rows() == [("sent", 1, "")]
    line_a, line_b = fake.shop.line_items[gid]
    items = [
        {"lineItemId": line_a["id"], "quantity": 2, "restockType": "NO_RESTOCK"},
        {"lineItemId": line_b["id"], "quantity": 1, "restockType": "NO_RESTOCK"},
    ]
    [(_name, suggested)] = fake.shop.operations("SuggestedRefund")
    assert suggested == {"id": gid, "items": items, "shipping": True}
    [(_name, variables)] = fake.shop.operations("RefundCreate")
    sale = fake.shop.sales[gid]
    assert variables["input"] == {
        "orderId": gid,
        "note": f"[OMS {row.key}] Cancelled in the OMS ({row.payload['order']}): cancelled before shipping",
        "notify": False,
        "refundLineItems": items,
        "shipping": {"fullRefund": True},
        "transactions": [
            {"orderId": gid, "gateway": "shopify_payments", "kind": "REFUND", "parentId": sale["id"], "amount": "36.00"}
        ],
    }
    assert (sale["refunded"], fake.shop.shipping[gid]["refunded"]) == (36.0, 6.0)  # 3 units at 10.00 + 6.00

    dispatch(later_seconds=3600)  # once: nothing more reaches Shopify
    assert len(fake.shop.operations("RefundCreate")) == 1 and sale["refunded"] == 36.0


def test_without_refund_payments_the_shipping_is_not_refunded(fake, on, django_capture_on_commit_callbacks):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    whole_order_row(django_capture_on_commit_callbacks, on)
    dispatch()
    assert lines_rows() == [("sent", 1, "")]
    assert fake.shop.operations("SuggestedRefund") == []
    [(_name, variables)] = fake.shop.operations("RefundCreate")
    assert "shipping" not in variables["input"] and "transactions" not in variables["input"]
    assert (fake.shop.sales[gid]["refunded"], fake.shop.shipping[gid]["refunded"]) == (0, 0)


def test_the_fake_shopify_takes_only_the_documented_shipping_refund(fake, on):
    from connectors.base import Rejected
    from connectors.shopify.adapter import REFUND_CREATE, client_for

    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 1)])
    item = fake.shop.line_items[gid][0]["id"]
    client = client_for(on["connection"])

    def refund(shipping):
        items = [{"lineItemId": item, "quantity": 1, "restockType": "NO_RESTOCK"}]
        data = {"orderId": gid, "note": "x", "notify": False, "refundLineItems": items, "shipping": shipping}
        return client.execute(REFUND_CREATE, {"input": data})

    for wrong, message in (
        ({"full_refund": True}, "shipping.full_refund (Field is not defined on ShippingRefundInput)"),
        ({"fullRefund": "yes"}, "invalid value for shipping.fullRefund"),
        ({"amount": "six"}, "invalid value for shipping.amount"),
    ):
        with pytest.raises(Rejected) as caught:
            refund(wrong)
        assert message in str(caught.value)
    too_much = refund({"amount": "6.01"})["refundCreate"]
    assert too_much["userErrors"] == [
        {
            "field": ["shipping", "amount"],
            "message": "Shipping refund amount must be less than or equal to the refundable amount",
        }
    ]
    assert fake.shop.refunds == {} and fake.shop.shipping[gid]["refunded"] == 0  # nothing refunded
    assert refund({"amount": "2.50"})["refundCreate"]["userErrors"] == []
    assert fake.shop.shipping[gid]["refunded"] == 2.5
