"""Order webhooks: Shopify orders/create (X-Shopify-Hmac-Sha256) and WooCommerce order.created /
order.updated (X-WC-Webhook-Signature), both base64 HMAC-SHA256 of the raw body with the
channel's secret. Stored before anything else; 401 on a bad signature with nothing created;
retries and replays change nothing; updates go through the same services as a person's change."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import TestCase

from orders import services
from orders.intake.signing import sign
from orders.models import InboundMessage, Order, OrderEvent, OrderLine
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, ProductFactory, make_user
from workflows.changes import order_change_address

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "shpss_0123456789abcdef"


@pytest.fixture(autouse=True)
def world():
    ProductFactory(sku="SKU-A")
    ProductFactory(sku="SKU-B")


@pytest.fixture
def shop():
    return ChannelFactory(slug="shop", name="Shopify store", platform="shopify", webhook_secret=SECRET)


@pytest.fixture
def woo():
    return ChannelFactory(slug="woo", name="Woo store", platform="woocommerce", webhook_secret="woo-secret-123456")


def shopify_post(client, body: bytes, *, topic="orders/create", secret=SECRET, slug="shop", signature=None):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the task is enqueued after commit
        return client.post(
            f"/webhooks/orders/{slug}/",
            data=body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC=topic,
            HTTP_X_SHOPIFY_HMAC_SHA256=signature if signature is not None else sign(body, secret),
            HTTP_X_SHOPIFY_SHOP_DOMAIN="example.myshopify.com",
            HTTP_X_SHOPIFY_WEBHOOK_ID="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        )


def woo_post(client, body: bytes, *, topic="order.created", secret="woo-secret-123456"):  # noqa: S107
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/webhooks/orders/woo/",
            data=body,
            content_type="application/json",
            HTTP_X_WC_WEBHOOK_TOPIC=topic,
            HTTP_X_WC_WEBHOOK_RESOURCE="order",
            HTTP_X_WC_WEBHOOK_EVENT=topic.split(".")[1],
            HTTP_X_WC_WEBHOOK_SIGNATURE=sign(body, secret),
            HTTP_X_WC_WEBHOOK_ID="12",
            HTTP_X_WC_WEBHOOK_DELIVERY_ID="8f4b3c2a",
        )


def shopify_body(**changes) -> bytes:
    data = json.loads((FIXTURES / "shopify_orders_create.json").read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


def woo_body(**changes) -> bytes:
    data = json.loads((FIXTURES / "woocommerce_order_created.json").read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data).encode()


def test_shopify_orders_create_is_stored_then_created(client, shop):
    response = shopify_post(client, shopify_body())
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert response.json() == {"received": message.pk}
    assert message.source == "webhook:shopify" and message.status == "processed" and message.channel == shop
    assert message.headers["X-Shopify-Topic"] == "orders/create"
    order = Order.objects.get(channel=shop, external_id="820982911946154508")
    assert message.result == {"order": order.number, "created": True}
    assert order.status == OrderStatus.CONFIRMED
    assert (order.ship_name, order.ship_country, order.ship_city, order.ship_address2) == (
        "李雷",
        "CN",
        "上海",
        "2 号楼",
    )
    assert order.ship_phone == "+8613800138000" and order.total == Decimal("206.00")
    assert order.requested_service == "express" and order.note == "Shopify #1004"
    assert order.buyer_message == "门卫代收"
    assert list(order.lines.values_list("sku", "quantity", "unit_price")) == [
        ("SKU-A", 2, Decimal("88.00")),
        ("SKU-B", 1, Decimal("20.00")),
    ]


def test_shopify_retries_of_one_delivery_change_nothing(client, shop):
    body = shopify_body()
    assert shopify_post(client, body).status_code == 200
    events = OrderEvent.objects.count()  # created, confirmed, and routing's own (no stock here)
    for _ in range(2):
        assert shopify_post(client, body).status_code == 200
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2
    assert OrderEvent.objects.count() == events
    assert [m.result["created"] for m in InboundMessage.objects.order_by("pk")] == [True, False, False]


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", sign(b"other body", SECRET)])
def test_a_bad_signature_is_401_stored_and_creates_nothing(client, shop, signature):
    response = shopify_post(client, shopify_body(), signature=signature)
    assert response.status_code == 401
    message = InboundMessage.objects.get()
    assert message.status == "rejected" and message.error.startswith("Signature invalid")
    assert message.body == shopify_body().decode()
    assert Order.objects.count() == 0


def test_a_channel_without_a_secret_refuses_every_webhook(client):
    ChannelFactory(slug="shop", platform="shopify", webhook_secret="")
    assert shopify_post(client, shopify_body(), secret="anything").status_code == 401
    assert Order.objects.count() == 0 and InboundMessage.objects.get().status == "rejected"


def test_unknown_channel_is_404_and_still_stored(client):
    assert shopify_post(client, shopify_body(), slug="nope").status_code == 404
    message = InboundMessage.objects.get()
    assert message.source == "webhook:unknown" and message.status == "rejected"


def test_malformed_payload_is_stored_and_rejected_with_field_errors(client, shop):
    body = shopify_body(created_at="yesterday", line_items=[{"sku": "", "quantity": 0, "price": "1"}])
    assert shopify_post(client, body).status_code == 200
    message = InboundMessage.objects.get()
    assert message.status == "rejected"
    assert {e["field"] for e in message.result["errors"]} == {
        "line_items[1].sku",
        "line_items[1].quantity",
        "created_at",
    }
    assert Order.objects.count() == 0
    not_json = b"{not json"
    assert shopify_post(client, not_json).status_code == 200
    assert InboundMessage.objects.order_by("-pk").first().status == "rejected"


def test_shopify_cancel_update_goes_through_order_cancel(client, shop):
    shopify_post(client, shopify_body())
    order = Order.objects.get()
    body = shopify_body(cancelled_at="2026-11-22T12:00:00+08:00", cancel_reason="customer")
    assert shopify_post(client, body, topic="orders/cancelled").status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.events.filter(kind=EventKind.CANCELLED).count() == 1
    assert shopify_post(client, body, topic="orders/cancelled").status_code == 200  # replay
    assert order.events.filter(kind=EventKind.CANCELLED).count() == 1


def test_a_cancel_after_shipping_becomes_an_intercept_request_once_by_the_stage_rules(client, shop):
    shopify_post(client, shopify_body())
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)  # as fulfilment would have
    body = shopify_body(cancelled_at="2026-11-23T12:00:00+08:00")
    for _ in range(2):  # a webhook retry changes nothing more
        shopify_post(client, body, topic="orders/cancelled")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED  # a parcel cannot be un-shipped: the carrier is asked
    intercept = order.events.get(kind=EventKind.INTERCEPT)
    assert intercept.data["reason_code"] == "channel_update"
    assert order.events.filter(kind=EventKind.CHANNEL_UPDATE).count() == 1
    first, retry = InboundMessage.objects.order_by("-pk")[1], InboundMessage.objects.order_by("-pk")[0]
    assert first.status == "partial" and "intercept requested here" in first.error
    assert retry.status == "partial" and "already requested" in retry.error


def test_a_cancel_after_a_refused_stage_is_recorded_for_a_person_not_applied(client, shop):
    from orders.models import StageRule
    from orders.status import ChangeAction, ChangeKind, Stage

    StageRule.objects.create(stage=Stage.SHIPPED, change=ChangeKind.CANCEL, action=ChangeAction.REFUSED)
    shopify_post(client, shopify_body())
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    body = shopify_body(cancelled_at="2026-11-23T12:00:00+08:00")
    for _ in range(2):
        shopify_post(client, body, topic="orders/cancelled")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and not order.events.filter(kind=EventKind.INTERCEPT).exists()
    assert order.events.filter(kind=EventKind.CHANNEL_UPDATE).count() == 1
    message = InboundMessage.objects.order_by("-pk").first()
    assert message.status == "partial" and "Handle it as a return or refund" in message.error


def test_woocommerce_order_created_then_address_updated(client, woo):
    assert woo_post(client, woo_body()).status_code == 200
    order = Order.objects.get(channel=woo, external_id="727")
    assert order.status == OrderStatus.CONFIRMED
    assert (order.ship_name, order.ship_address2, order.ship_province, order.ship_postcode) == (
        "John Doe",
        "Suite 4",
        "CA",
        "94103",
    )
    assert order.placed_at.isoformat() == "2026-11-22T15:00:00+00:00"
    assert order.currency == "USD" and order.total == Decimal("76.00") and order.ship_email == "john.doe@example.com"
    assert list(order.lines.values_list("unit_price", flat=True)) == [Decimal("21.00"), Decimal("24.00")]
    moved = dict(json.loads(woo_body())["shipping"], address_1="1 Infinite Loop", city="Cupertino", postcode="95014")
    assert woo_post(client, woo_body(shipping=moved), topic="order.updated").status_code == 200
    order.refresh_from_db()
    assert (order.ship_address1, order.ship_city, order.ship_postcode) == ("1 Infinite Loop", "Cupertino", "95014")
    event = order.events.get(kind=EventKind.ADDRESS_CHANGED)
    assert event.data["changes"]["city"] == ["San Francisco", "Cupertino"]
    woo_post(client, woo_body(shipping=moved), topic="order.updated")  # replay
    assert order.events.filter(kind=EventKind.ADDRESS_CHANGED).count() == 1


def test_woocommerce_pending_payment_is_held_then_released_when_paid(client, woo):
    woo_post(client, woo_body(status="pending"))
    order = Order.objects.get()
    assert order.on_hold and order.holds.get().reason == HoldReason.PAYMENT
    woo_post(client, woo_body(status="processing"), topic="order.updated")
    order.refresh_from_db()
    payment = order.holds.get(reason=HoldReason.PAYMENT)
    assert payment.released_at is not None and payment.release_note == "paid at Woo store"
    assert order.status == OrderStatus.CONFIRMED  # released, then routed (no stock here: held stock short)
    assert list(order.holds.filter(released_at__isnull=True).values_list("reason", flat=True)) == [
        HoldReason.STOCK_SHORT
    ]


def test_woocommerce_refunded_on_arrival_and_ping(client, woo):
    woo_post(client, woo_body(status="refunded"))
    assert Order.objects.get().status == OrderStatus.CANCELLED
    ping = b"webhook_id=12"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/webhooks/orders/woo/",
            data=ping,
            content_type="application/x-www-form-urlencoded",
            HTTP_X_WC_WEBHOOK_SIGNATURE=sign(ping, "woo-secret-123456"),
        )
    assert response.status_code == 200
    assert InboundMessage.objects.order_by("-pk").first().result == {"ping": True}


def test_retry_from_the_intake_monitor_after_fixing_the_secret(client, shop):
    shopify_post(client, shopify_body(), secret="old-secret")
    message = InboundMessage.objects.get()
    assert message.status == "rejected"
    user = make_user("cs1", "customer_service")
    client.force_login(user)
    response = client.post(f"/orders/intake/{message.pk}/retry/")
    assert response.status_code == 302 and Order.objects.count() == 0  # still the wrong secret
    shop.webhook_secret = "old-secret"
    shop.save()
    client.post(f"/orders/intake/{message.pk}/retry/")
    message.refresh_from_db()
    assert message.status == "processed" and message.attempts == 3 and Order.objects.count() == 1
    events = OrderEvent.objects.count()
    client.post(f"/orders/intake/{message.pk}/retry/")  # processed: nothing to retry
    assert Order.objects.count() == 1 and OrderEvent.objects.count() == events


def test_address_change_service_rules(shop):
    from dataclasses import replace

    from tests.factories import canonical

    data = canonical(lines=[("SKU-A", 1)])
    new = replace(data.ship_to, address1="")
    order = services.order_create(channel=shop, data=data, source="test").order
    changes = order_change_address(order=order, address=new, source="back office")
    assert changes == {"address1": ["88 Century Avenue", ""]}
    order.refresh_from_db()
    assert order.on_hold and order.holds.get().reason == HoldReason.ADDRESS_INVALID
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PACKED)
    new.address1 = "1 New Road"
    from oms.errors import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed):
        order_change_address(order=order, address=new)
    order.refresh_from_db()
    assert order.ship_address1 == ""
