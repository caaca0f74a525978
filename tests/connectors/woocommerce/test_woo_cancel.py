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
