"""Cancellation notices (issue 16, "cancel / refund notice"): an order cancelled here is cancelled on its platform
once, through the outbox, when the connection's cancellation notices are on; a cancellation that came from the
platform is not sent back; Shopify's refusals become a dead letter with its message."""

import pytest

from connectors.models import ChannelConnection
from oms.models import OutboxMessage
from tests.factories import canonical
from workflows.cancel import order_cancel, order_cancel_request
from workflows.channel import order_apply_channel_update

from .conftest import dispatch, make_order

pytestmark = pytest.mark.django_db


def notices():
    rows = OutboxMessage.objects.filter(kind="channel.cancel").order_by("pk")
    return list(rows.values_list("status", "attempts", "last_error"))


@pytest.fixture
def on(world):
    ChannelConnection.objects.filter(pk=world["connection"].pk).update(cancel_notices=True)
    return world


def test_an_order_cancelled_here_is_cancelled_on_shopify_once(fake, on, django_capture_on_commit_callbacks):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, on)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=order, reason_code="customer_request", note="changed mind")
    order.refresh_from_db()
    assert order.status == "cancelled"
    [(name, variables)] = fake.shop.operations("OrderCancel")
    assert variables["orderId"] == gid
    assert (variables["reason"], variables["refund"], variables["restock"], variables["notifyCustomer"]) == (
        "CUSTOMER",
        True,
        False,
        False,
    )
    assert order.number in variables["staffNote"] and "changed mind" in variables["staffNote"]
    assert notices() == [("sent", 1, "")]
    dispatch(later_seconds=3600)  # the consumer again: nothing more reaches Shopify
    assert len(fake.shop.operations("OrderCancel")) == 1


def test_a_lost_answer_is_retried_and_shopify_already_cancelled_counts_as_done(
    fake, on, django_capture_on_commit_callbacks
):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, on)
    fake.shop.cancelled[gid] = {"reason": "OTHER"}  # cancelled there already (our first try's answer was lost)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="staff cancelled")
    assert [name for name, _v in fake.shop.requests if name.startswith("OrderCancel")] == [
        "OrderCancel",
        "OrderCancelled",
    ]
    assert notices() == [("sent", 1, "")]


def test_a_server_error_is_retried_and_an_unknown_order_is_a_dead_letter(fake, on, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, on)
    fake.shop.fail_next("500")
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="staff cancelled")
    [(status, attempts, error)] = notices()
    assert (status, attempts) == ("pending", 1) and "500" in error
    dispatch(later_seconds=3600)
    assert notices() == [("sent", 2, "")]

    other = make_order(django_capture_on_commit_callbacks, on, external_id="5999")  # Shopify has no such order
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=other, reason="staff cancelled")
    status, attempts, error = notices()[1]
    assert status == "dead" and "NOT_FOUND Order does not exist" in error


def test_nothing_goes_back_when_notices_are_off_or_the_channel_itself_cancelled(
    fake, world, django_capture_on_commit_callbacks
):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)  # notices off (the default)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, reason="staff cancelled")
    assert [s for s, *_ in notices()] == ["skipped"]
    assert fake.shop.operations("OrderCancel") == []

    ChannelConnection.objects.filter(pk=world["connection"].pk).update(cancel_notices=True)
    second = make_order(django_capture_on_commit_callbacks, world, external_id="5002")
    update = canonical("5002", lines=(("SKU-A", 2), ("SKU-B", 1)))
    update.cancelled_reason = "cancelled"
    with django_capture_on_commit_callbacks(execute=True):
        result = order_apply_channel_update(order=second, data=update, source="webhook")
    second.refresh_from_db()
    assert result["changed"] == ["cancelled"] and second.status == "cancelled"
    assert len(notices()) == 1 and fake.shop.operations("OrderCancel") == []
