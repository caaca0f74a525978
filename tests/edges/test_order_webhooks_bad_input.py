"""Order webhooks (Shopify, WooCommerce) with bad input: a bad signature is 401, a body past the limit
413; a signed body that cannot become an order is acknowledged (a channel would retry and then switch
the webhook off) and stored *rejected* with the field named; never a 500, never an order."""

import json

import pytest
from django.test import TestCase

from orders.intake.signing import sign

from .conftest import (
    MAX_BODY,
    NOTHING,
    SHOPIFY_SECRET,
    WOO_SECRET,
    nested,
    only_message,
    set_path,
    shopify_data,
    woo_data,
    written,
)


def shopify_post(client, body: bytes, *, signature=None, topic="orders/create"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/webhooks/orders/shop/",
            data=body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC=topic,
            HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, SHOPIFY_SECRET) if signature is None else signature,
        )


def woo_post(client, body: bytes, *, signature=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/webhooks/orders/woo/",
            data=body,
            content_type="application/json",
            HTTP_X_WC_WEBHOOK_TOPIC="order.created",
            HTTP_X_WC_WEBHOOK_SIGNATURE=sign(body, WOO_SECRET) if signature is None else signature,
        )


def encode(data) -> bytes:
    return json.dumps(data).encode("ascii")


SHOPIFY_CASES = [
    ("line_items[0].price", "1e30", "line_items[1].price"),
    ("line_items[0].price", "NaN", "line_items[1].price"),
    ("line_items[0].price", "sNaN", "line_items[1].price"),
    ("line_items[0].price", "Infinity", "line_items[1].price"),
    ("line_items[0].price", "-5.00", "line_items[1].price"),
    ("line_items[0].price", "12345678901.00", "line_items[1].price"),
    ("line_items[0].price", "88.005", "line_items[1].price"),
    ("line_items[0].quantity", 0, "line_items[1].quantity"),
    ("line_items[0].quantity", 100001, "line_items[1].quantity"),
    ("line_items[0].quantity", "1e30", "line_items[1].quantity"),
    ("line_items[0].quantity", "sNaN", "line_items[1].quantity"),
    ("line_items[0].quantity", 2.5, "line_items[1].quantity"),
    ("line_items[0].sku", "S" * 65, "lines[1].sku"),
    ("line_items[0].title", "T" * 201, "lines[1].name"),
    ("line_items[0].title", "Coffee\x00", "lines[1].name"),
    ("total_price", "1e30", "total_price"),
    ("total_price", "NaN", "total_price"),
    ("shipping_address.name", "N" * 121, "ship_to.name"),
    ("shipping_address.name", "Li\x00Lei", "ship_to.name"),
    ("shipping_address.city", "C" * 65, "ship_to.city"),
    ("shipping_address.city", "上海\x00", "ship_to.city"),
    ("shipping_address.address1", "A" * 256, "ship_to.address1"),
    ("shipping_address.zip", "2" * 17, "ship_to.postcode"),
    ("shipping_address.phone", "1" * 33, "ship_to.phone"),
    ("shipping_address.province", "\ud800", "ship_to.province"),
    ("email", "e" * 250 + "@x.com", "ship_to.email"),
    ("note", "door\x00", "buyer_message"),  # the buyer message (买家留言) since issue 17
    ("id", "9" * 65, "external_id"),
    ("created_at", "0001-01-01T00:00:00Z", "created_at"),
    ("created_at", "9999-12-31T23:59:59-12:00", "created_at"),
    ("created_at", "yesterday", "created_at"),
    ("currency", "XXX", "currency"),
]


@pytest.mark.parametrize(("path", "value", "field"), SHOPIFY_CASES, ids=[f"{c[0]}={c[1]!r:.24}" for c in SHOPIFY_CASES])
def test_shopify_bad_field_is_stored_rejected_naming_it(client, path, value, field):
    response = shopify_post(client, encode(set_path(shopify_data(), path, value)))

    assert response.status_code == 200, response.content[:300]
    message = only_message()
    assert message.source == "webhook:shopify" and message.status == "rejected"
    assert field in message.error and not message.error.startswith("Signature")
    assert field in [e["field"] for e in message.result["errors"]]
    assert written() == NOTHING


WOO_CASES = [
    ("line_items[0].price", "NaN", "line_items[1].price"),
    ("line_items[0].price", 1e30, "line_items[1].price"),
    ("line_items[0].quantity", 0, "line_items[1].quantity"),
    ("line_items[0].quantity", "Infinity", "line_items[1].quantity"),
    ("total", "sNaN", "total"),
    ("total", "99999999999.99", "total"),
    ("billing.email", "e" * 250 + "@x.com", "customer.email"),
    ("shipping.city", "C" * 65, "ship_to.city"),
    ("shipping.first_name", "Jo\x00hn", "ship_to.name"),
    ("shipping.postcode", "9" * 17, "ship_to.postcode"),
    ("billing.phone", "5" * 40, "customer.phone"),
    ("customer_note", "\x00", "buyer_message"),
    ("id", "1" * 65, "external_id"),
    ("date_created_gmt", "0001-01-01T00:00:00", "date_created_gmt"),
    ("date_created_gmt", "not a date", "date_created_gmt"),
]


@pytest.mark.parametrize(("path", "value", "field"), WOO_CASES, ids=[f"{c[0]}={c[1]!r:.24}" for c in WOO_CASES])
def test_woocommerce_bad_field_is_stored_rejected_naming_it(client, path, value, field):
    response = woo_post(client, encode(set_path(woo_data(), path, value)))

    assert response.status_code == 200, response.content[:300]
    message = only_message()
    assert message.source == "webhook:woocommerce" and message.status == "rejected"
    assert field in [e["field"] for e in message.result["errors"]], message.error
    assert written() == NOTHING


BODY_CASES = [
    ("not json", b"not json at all", "not JSON"),
    ("nested 50000 deep", nested(50000).encode(), "nested too deeply"),
    ("nested object 40000 deep", b'{"a":' * 40000 + b"1" + b"}" * 40000, "nested too deeply"),
    ("a list", b"[1, 2, 3]", "must be a JSON object"),
    ("raw NUL", b'{"id": 1\x00}', "not JSON"),
    ("a 5000-digit number", b'{"id": ' + b"7" * 5000 + b"}", "digits"),
    (
        "not UTF-8",
        json.dumps(shopify_data(), ensure_ascii=False).encode().replace("李雷".encode(), b"L\xe9i"),
        "not UTF-8",
    ),
]


@pytest.mark.parametrize("post", [shopify_post, woo_post], ids=["shopify", "woocommerce"])
@pytest.mark.parametrize(("body", "reason"), [c[1:] for c in BODY_CASES], ids=[c[0] for c in BODY_CASES])
def test_a_signed_body_that_is_no_order_is_stored_rejected_with_the_reason(client, post, body, reason):
    response = post(client, body)

    assert response.status_code == 200
    message = only_message()
    assert message.status == "rejected" and reason in message.error, message.error
    assert bytes(message.raw) == body  # verified on, and kept as, the exact bytes received
    assert "\x00" not in message.body
    assert written() == NOTHING


SIGNATURES = [
    ("non-ASCII", "sig\u00e9\u4e2d"),
    ("latin-1 bytes", "\u00ff\u00fe\u00fd"),
    ("empty", ""),
    ("wrong", sign(b"another body", SHOPIFY_SECRET)),
    ("base64 of nothing", "AAAA"),
]


@pytest.mark.parametrize("post", [shopify_post, woo_post], ids=["shopify", "woocommerce"])
@pytest.mark.parametrize("signature", [c[1] for c in SIGNATURES], ids=[c[0] for c in SIGNATURES])
def test_a_bad_signature_header_is_401_and_stored_rejected(client, post, signature):
    response = post(client, encode(shopify_data()), signature=signature)

    assert response.status_code == 401
    message = only_message()
    assert message.status == "rejected" and message.error.startswith("Signature invalid")
    assert written() == NOTHING


@pytest.mark.parametrize("post", [shopify_post, woo_post], ids=["shopify", "woocommerce"])
def test_a_body_past_the_limit_is_413_and_the_refusal_stored(client, post):
    body = encode(set_path(shopify_data(), "note", "n" * MAX_BODY))

    response = post(client, body)

    assert response.status_code == 413
    message = only_message()
    assert message.status == "rejected" and "too large" in message.error
    assert message.channel is not None and bytes(message.raw) == b""
    assert written() == NOTHING
