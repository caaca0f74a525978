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


def taxed_order(order_id: int = 5001) -> dict:
    """SKU-A ×2 (88.00 each, 10% tax at rate 7: 17.60) and SKU-B ×1 (88.00, 8.80 tax): 290.40 paid."""
    order = woo_order(order_id, modified="2026-12-05T10:00:00", lines=(("SKU-A", 2), ("SKU-B", 1)))
    order["line_items"][0]["taxes"] = [{"id": 7, "total": "17.60", "subtotal": "17.60"}]
    order["line_items"][1]["taxes"] = [{"id": 7, "total": "8.80", "subtotal": "8.80"}]
    order.update(total="290.40", total_tax="26.40")
    return order


def test_the_tax_of_a_cancelled_line_is_refunded_with_it(woo, woo_world, django_capture_on_commit_callbacks):
    from workflows.cancel import order_cancel_request

    from ..test_lines_cancel_notices import lines_rows, partly_shipped

    ChannelConnection.objects.filter(pk=woo_world["connection"].pk).update(cancel_notices=True, refund_payments=True)
    woo.store.add_order(taxed_order())
    order = partly_shipped(django_capture_on_commit_callbacks, woo_world)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="out_of_stock")
    assert lines_rows() == [("sent", 1, "")]
    [(_m, _path, _q, body)] = woo.store.calls("POST", "/refunds")
    assert body["line_items"] == [
        {"id": 100, "quantity": 1, "refund_total": "88.00", "refund_tax": [{"id": 7, "refund_total": "8.80"}]}
    ]
    assert (body["amount"], body["api_refund"]) == ("96.80", True)
    [refund] = woo.store.refunds[5001]
    assert refund["amount"] == "96.80"
    assert [(li["id"], li["total"], li["total_tax"], li["taxes"]) for li in refund["line_items"]] == [
        (100, "-88.00", "-8.80", [{"id": 7, "total": "-8.80"}])
    ]


def test_a_line_whose_tax_was_refunded_by_hand_is_a_dead_letter_and_nothing_more_is_refunded(
    woo, woo_world, django_capture_on_commit_callbacks
):
    from workflows.cancel import order_cancel_request

    from ..test_lines_cancel_notices import lines_rows, partly_shipped

    ChannelConnection.objects.filter(pk=woo_world["connection"].pk).update(cancel_notices=True)
    woo.store.add_order(taxed_order())
    # A person refunded SKU-A's whole tax (no units) in WooCommerce's admin.
    woo.store.refunds[5001] = [
        {
            "id": 9,
            "amount": "17.60",
            "reason": "tax refunded by hand",
            "line_items": [{"id": 100, "quantity": 0, "taxes": [{"id": 7, "total": "-17.60"}]}],
        }
    ]
    order = partly_shipped(django_capture_on_commit_callbacks, woo_world)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="out_of_stock")
    [(status, attempts, error)] = lines_rows()
    assert (status, attempts) == ("dead", 1)
    assert error.endswith("woocommerce_rest_cannot_create_order_refund: Invalid refund amount.")
    assert len(woo.store.refunds[5001]) == 1


def test_the_fake_woocommerce_takes_only_the_documented_refund_tax(woo, woo_world):
    from connectors.base import Rejected
    from connectors.woocommerce.adapter import client_for

    woo.store.add_order(taxed_order())
    client = client_for(woo_world["connection"])

    def refund(refund_tax):
        line = {"id": 100, "quantity": 1, "refund_total": "88.00", "refund_tax": refund_tax}
        return client.post("orders/5001/refunds", {"amount": "88.00", "line_items": [line], "api_refund": False})

    for wrong in ({"7": "8.80"}, [{"id": 8, "refund_total": "8.80"}], [{"rate_id": 7, "total": "8.80"}]):
        with pytest.raises(Rejected) as caught:
            refund(wrong)
        assert "rest_invalid_param" in str(caught.value)
    assert woo.store.refunds.get(5001, []) == []
    assert refund([{"id": 7, "refund_total": "8.80"}]).body["line_items"][0]["taxes"] == [{"id": 7, "total": "-8.80"}]
