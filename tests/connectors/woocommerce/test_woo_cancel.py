"""Cancellation notices to WooCommerce (issue 16): an order cancelled here is set ``cancelled`` there, once."""

import pytest

from connectors.models import ChannelConnection
from workflows.cancel import order_cancel

from ..conftest import dispatch, make_order
from ..fake_woocommerce import woo_order
from ..test_cancel_notices import notices

pytestmark = pytest.mark.django_db


def test_woocommerce_orders_cancelled_here_are_set_cancelled_there(woo, woo_world, django_capture_on_commit_callbacks):
    ChannelConnection.objects.filter(pk=woo_world["connection"].pk).update(cancel_notices=True)
    woo.store.add_order(woo_order(5001, modified="2026-12-05T10:00:00", lines=(("SKU-A", 2), ("SKU-B", 1))))
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    woo.store.fail_next("429")  # WooCommerce behind a rate limiter: tried again after Retry-After
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="out of stock", reason_code="out_of_stock")
    [(status, attempts, error)] = notices()
    assert (status, attempts) == ("pending", 1) and "Too many requests" in error
    dispatch(later_seconds=3600)
    assert notices() == [("sent", 2, "")]
    assert woo.store.orders[5001]["status"] == "cancelled"
    assert woo.store.calls("PUT")[-1] == ("PUT", "/wp-json/wc/v3/orders/5001", {}, {"status": "cancelled"})

    other = make_order(django_capture_on_commit_callbacks, woo_world, external_id="5404")  # not in the store
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=other, reason="staff cancelled")
    status, _attempts, error = notices()[1]
    assert status == "dead" and "Invalid ID" in error


def test_the_cancelled_rest_of_a_partly_shipped_order_is_one_refund_of_its_lines(
    woo, woo_world, django_capture_on_commit_callbacks
):
    from oms.models import OutboxMessage
    from workflows.cancel import order_cancel_request

    from ..test_lines_cancel_notices import lines_rows, partly_shipped

    ChannelConnection.objects.filter(pk=woo_world["connection"].pk).update(cancel_notices=True)
    woo.store.add_order(woo_order(5001, modified="2026-12-05T10:00:00", lines=(("SKU-A", 2), ("SKU-B", 1))))
    order = partly_shipped(django_capture_on_commit_callbacks, woo_world)
    woo.store.fail_next("500")  # WooCommerce down once: the backoff
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="out_of_stock")
    [(status, attempts, error)] = lines_rows()
    assert (status, attempts) == ("pending", 1) and "500" in error
    dispatch(later_seconds=3600)
    assert lines_rows() == [("sent", 2, "")]
    key = OutboxMessage.objects.get(kind="channel.lines_cancel").key
    [(_m, _path, _q, body)] = woo.store.calls("POST", "/refunds")
    assert body == {
        "amount": "88.00",
        "reason": body["reason"],
        "line_items": [{"id": 100, "quantity": 1, "refund_total": "88.00"}],
        "api_refund": False,
        "api_restock": False,
    }
    assert body["reason"].startswith(f"[OMS {key}] Cancelled in the OMS ({order.number})")
    [refund] = woo.store.refunds[5001]
    assert (refund["amount"], refund["refunded_payment"]) == ("88.00", False)

    # Sent again (a lost answer, a person's Retry): the refund with our key is there, nothing more is refunded.
    OutboxMessage.objects.filter(kind="channel.lines_cancel").update(status="pending", attempts=0)
    dispatch(later_seconds=7200)
    assert len(woo.store.calls("POST", "/refunds")) == 1 and len(woo.store.refunds[5001]) == 1


def test_a_refund_of_more_than_is_left_is_a_dead_letter_with_woocommerces_message(
    woo, woo_world, django_capture_on_commit_callbacks
):
    from workflows.cancel import order_cancel_request

    from ..test_lines_cancel_notices import lines_rows, partly_shipped

    ChannelConnection.objects.filter(pk=woo_world["connection"].pk).update(cancel_notices=True, refund_payments=True)
    woo.store.add_order(woo_order(5001, modified="2026-12-05T10:00:00", lines=(("SKU-A", 2), ("SKU-B", 1))))
    woo.store.refunds[5001] = [
        {"id": 9, "amount": "176.00", "reason": "refunded by hand", "line_items": [{"id": 100, "quantity": -2}]}
    ]
    order = partly_shipped(django_capture_on_commit_callbacks, woo_world)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="out_of_stock")
    [(status, attempts, error)] = lines_rows()
    assert (status, attempts) == ("dead", 1)
    assert (
        error
        == "Rejected: WooCommerce answered 400: woocommerce_rest_cannot_create_order_refund: Invalid refund amount."
    )
    [(_m, _p, _q, body)] = woo.store.calls("POST", "/refunds")
    assert body["api_refund"] is True
