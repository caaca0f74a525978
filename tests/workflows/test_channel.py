"""A channel's update of an order we already have is applied by the workflow task: the intake parses the
stored webhook and hands it to ``workflows.apply_channel_update`` (by name, after commit); until that task ran
the message has no outcome ("received", so the sweep would send it again), then it is processed and the order
is cancelled fully (shipments and stock released)."""

import pytest
from django.test import TestCase

from inventory.models import Stock
from orders.intake import pipeline
from orders.intake.signing import sign
from orders.models import InboundMessage, Order
from orders.status import EventKind, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory
from tests.factories import stock as receive
from tests.orders.test_intake_webhooks import SECRET, shopify_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    sha = LocationFactory(code="sha", latitude=31.23, longitude=121.47)
    for sku in ("SKU-A", "SKU-B"):
        receive(sha, ProductFactory(sku=sku), 50)
    ServiceLevelFactory(code="std")
    return ChannelFactory(slug="shop", name="Shopify store", platform="shopify", webhook_secret=SECRET)


def _post(client, body, topic):
    return client.post(
        "/webhooks/orders/shop/",
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, SECRET),
    )


def test_a_channel_cancel_is_handed_to_the_workflow_task_and_cancels_fully(client, shop):
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert _post(client, shopify_body(), "orders/create").status_code == 200
    order = Order.objects.get()
    assert order.status == OrderStatus.ALLOCATED and order.shipments.get().status == "reserved"
    reserved = sum(Stock.objects.values_list("reserved", flat=True))
    assert reserved > 0

    body = shopify_body(cancelled_at="2026-11-22T12:00:00+08:00", cancel_reason="customer")
    with TestCase.captureOnCommitCallbacks(execute=False) as stored:  # the intake task, not run yet
        assert _post(client, body, "orders/cancelled").status_code == 200
    message = InboundMessage.objects.order_by("-pk").first()
    with TestCase.captureOnCommitCallbacks(execute=False) as handed:
        pipeline.inbound_process(message.pk)  # what orders.process_inbound runs
    message.refresh_from_db()
    assert message.status == "received"  # no outcome yet: the workflow task records it
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED
    assert len(stored) == 1 and len(handed) == 1

    handed[0]()  # workflows.apply_channel_update(message id), eager
    message.refresh_from_db()
    order.refresh_from_db()
    assert message.status == "processed"
    assert message.result["changed"] == ["cancelled"] and message.result["order"] == order.number
    assert order.status == OrderStatus.CANCELLED
    assert order.events.filter(kind=EventKind.CANCELLED).count() == 1
    assert order.shipments.get().status == "cancelled"
    assert sum(Stock.objects.values_list("reserved", flat=True)) == 0
