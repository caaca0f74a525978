"""Signed webhooks are verified, parsed and retried on the exact bytes received (InboundMessage.raw); the
text column shows them to people. Before, the body was stored decoded with errors="replace", so the
task and every retry verified other bytes than the sender signed: a non-UTF-8 body was always
"Signature invalid"."""

import json

from django.test import TestCase

from logistics.providers import aftership
from orders.intake import pipeline
from orders.intake.signing import sign
from orders.models import InboundMessage, Order

from .conftest import NOTHING, SHOPIFY_SECRET, shopify_data, written


def shopify_post(client, body: bytes):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/webhooks/orders/shop/",
            data=body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC="orders/create",
            HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, SHOPIFY_SECRET),
        )


def latin1_body() -> bytes:
    text = json.dumps(shopify_data(), ensure_ascii=False)
    return text.encode("utf-8").replace("李雷".encode(), "Zoë".encode("latin-1"))


def test_a_signed_latin1_body_is_verified_on_its_bytes_and_rejected_for_its_encoding(client):
    body = latin1_body()

    response = shopify_post(client, body)

    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert bytes(message.raw) == body
    assert "Zo\ufffd" in message.body  # shown to people as text
    assert message.status == "rejected"
    assert message.error.startswith("body: not UTF-8 text")  # never "Signature invalid"
    assert written() == NOTHING


def test_a_retry_verifies_the_same_bytes_again(client):
    shopify_post(client, latin1_body())
    message = InboundMessage.objects.get()

    retried = pipeline.inbound_process(message.pk, retry=True)

    assert retried.status == "rejected" and retried.error.startswith("body: not UTF-8 text")
    assert retried.attempts == 2


def test_a_signed_utf8_body_is_kept_byte_for_byte_and_a_retry_changes_nothing(client):
    body = json.dumps(shopify_data(), ensure_ascii=False, indent=3).encode("utf-8")

    assert shopify_post(client, body).status_code == 200

    message = InboundMessage.objects.get()
    assert bytes(message.raw) == body and message.body == body.decode("utf-8")
    order = Order.objects.get()
    assert order.ship_name == "李雷"
    again = pipeline.inbound_process(message.pk, retry=True)
    assert again.status == "processed" and again.result == {"order": order.number, "created": False}
    assert Order.objects.count() == 1


def test_a_message_stored_before_raw_existed_still_verifies_from_its_text(client):
    body = json.dumps(shopify_data(), ensure_ascii=False).encode("utf-8")
    shopify_post(client, body)
    message = InboundMessage.objects.get()
    Order.objects.all().delete()
    InboundMessage.objects.filter(pk=message.pk).update(raw=None, status="failed")

    again = pipeline.inbound_process(message.pk, retry=True)

    assert again.status == "processed" and again.result["created"] is True


def test_a_tracking_push_that_is_not_utf8_is_verified_on_its_bytes(client, settings):
    settings.AFTERSHIP_WEBHOOK_SECRET = "as-raw-secret"
    body = b'{"event": "tracking_update", "event_id": "e1", "msg": {"tracking_number": "1Z\xff", "checkpoints": []}}'

    response = client.post(
        "/webhooks/tracking/aftership/",
        body,
        content_type="application/json",
        HTTP_AFTERSHIP_HMAC_SHA256=aftership.compute_signature(body, "as-raw-secret"),
    )

    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert bytes(message.raw) == body
    assert message.status == "failed" and "Signature" not in message.error
