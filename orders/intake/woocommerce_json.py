"""WooCommerce's order webhooks (``order.created``, ``order.updated``) to canonical orders.

The body is the REST API (v3) order object: ``id`` (our external id), ``number``, ``status``
(pending, processing, on-hold, completed, cancelled, refunded, failed, trash), ``currency``,
``total`` (a string), ``date_created_gmt`` (ISO 8601 *without* an offset, in UTC),
``customer_note`` (the buyer message), ``billing`` (``first_name``, ``last_name``, ``company``, ``address_1``,
``address_2``, ``city``, ``state``, ``postcode``, ``country``, ``email``, ``phone``), ``shipping``
(the same without ``email``; ``phone`` since WooCommerce 5.6), ``line_items[]`` (``name``,
``sku``, ``quantity``, ``price`` — a number, the unit price — ``total``) and
``shipping_lines[]`` (``method_title``, ``method_id``).

Headers: ``X-WC-Webhook-Topic`` (``order.created``), ``X-WC-Webhook-Resource``,
``X-WC-Webhook-Event``, ``X-WC-Webhook-Signature`` (base64 of HMAC-SHA256 of the raw body with
the webhook's secret), ``X-WC-Webhook-ID``, ``X-WC-Webhook-Delivery-ID``, ``X-WC-Webhook-Source``.
When a webhook is saved WooCommerce sends a ping whose body is ``webhook_id=<id>`` (form-encoded).

Sources: WooCommerce REST API docs, "Orders › Order properties" and "Webhooks"
(woocommerce.github.io/woocommerce-rest-api-docs/#order-properties, #webhooks), and
WC_Webhook::generate_signature in woocommerce/includes/class-wc-webhook.php
(``base64_encode(hash_hmac('sha256', $payload, $secret, true))``).
"""

import json

from ..models.memo_tags import clean_message
from .bodies import json_body
from .canonical import (
    CanonicalAddress,
    CanonicalOrder,
    FieldError,
    OrderRejected,
    clean_text,
    parse_line_items,
    parse_money,
    parse_when,
)
from .files import FileUnusable
from .shopify_csv import requested_service
from .signing import header, verify_base64_hmac

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
CANCELLED_STATUSES = {
    "cancelled": "cancelled",
    "refunded": "refunded",
    "failed": "failed (payment)",
    "trash": "deleted",
}
PAYMENT_HOLD_STATUSES = {"pending": "pending payment", "on-hold": "on hold, awaiting payment"}


def verify_signature(body: bytes, headers: dict, secret: str) -> None:
    verify_base64_hmac(body, headers, secret, SIGNATURE_HEADER)


def topic(headers: dict, body: bytes) -> str:
    if body.strip().startswith(b"webhook_id="):
        return "ping"
    value = header(headers, TOPIC_HEADER).strip().lower()
    if value in ("order.created", ""):
        return "create"
    if value in ("order.updated", "order.restored", "order.deleted"):
        return "update"
    return ""


def parse(body: bytes) -> CanonicalOrder:
    data = json_body(body)
    return parse_order(data)


def read_orders(handle):
    """A file with one order object or a list of them (the REST API's GET /orders)."""
    try:
        data = json.load(handle)
    except ValueError as exc:
        raise FileUnusable(f"not JSON: {exc}") from exc
    for number, item in enumerate(data if isinstance(data, list) else [data], start=1):
        try:
            yield number, parse_order(item)
        except OrderRejected as exc:
            yield number, exc


def _s(value, max_length: int | None = None) -> str:
    return clean_text(value, max_length=max_length)


def _name(part: dict) -> str:
    return " ".join(p for p in (_s(part.get("first_name")), _s(part.get("last_name"))) if p)


def parse_order(data) -> CanonicalOrder:
    if not isinstance(data, dict):
        raise OrderRejected([FieldError("order", "must be a JSON object.")])
    lines, errors = parse_line_items(
        data.get("line_items"), platform="WooCommerce", name_keys=("name",), exact_prices=False
    )
    placed_at = total = None
    try:
        gmt = _s(data.get("date_created_gmt"))
        if gmt:
            placed_at = parse_when(gmt if gmt.endswith("Z") or "+" in gmt[10:] else gmt + "+00:00", "date_created_gmt")
        else:
            placed_at = parse_when(data.get("date_created"), "date_created")
    except OrderRejected as exc:
        errors.extend(exc.errors)
    amounts = {}
    for key in ("total", "shipping_total", "total_tax", "discount_total"):
        try:
            amounts[key] = parse_money(data.get(key), key, blank=None)
        except OrderRejected as exc:
            errors.extend(exc.errors)
    total = amounts.get("total")
    if data.get("id") in (None, ""):
        errors.append(FieldError("id", "is required."))
    if errors:
        raise OrderRejected(errors)
    billing = data.get("billing") if isinstance(data.get("billing"), dict) else {}
    ship = data.get("shipping") if isinstance(data.get("shipping"), dict) else {}
    status = _s(data.get("status")).lower()
    shipping_lines = data.get("shipping_lines") if isinstance(data.get("shipping_lines"), list) else []
    method = _s(shipping_lines[0].get("method_title")) if shipping_lines and isinstance(shipping_lines[0], dict) else ""
    number = _s(data.get("number"))
    order = CanonicalOrder(
        external_id=_s(data.get("id")),
        ship_to=CanonicalAddress(
            name=_name(ship),
            phone=_s(ship.get("phone")) or _s(billing.get("phone")),
            email=_s(billing.get("email")),
            country=_s(ship.get("country")),
            province=_s(ship.get("state")),
            city=_s(ship.get("city")),
            address1=_s(ship.get("address_1")),
            address2=", ".join(p for p in (_s(ship.get("address_2")), _s(ship.get("company"))) if p),
            postcode=_s(ship.get("postcode")),
        ),
        lines=lines,
        customer_name=_name(billing) or _name(ship),
        customer_email=_s(billing.get("email")),
        customer_phone=_s(billing.get("phone")),
        currency=_s(data.get("currency")) or "CNY",
        total=total,
        shipping=amounts.get("shipping_total"),
        tax=amounts.get("total_tax"),
        discount=amounts.get("discount_total"),
        channel_order_name=number,
        placed_at=placed_at,
        requested_service=requested_service(method),
        note=f"WooCommerce #{number}" if number else "",
        buyer_message=clean_message(data.get("customer_note")),  # 买家留言
        cancelled_reason=CANCELLED_STATUSES.get(status, ""),
    )
    if status in PAYMENT_HOLD_STATUSES:
        order.holds.append(("payment", f"WooCommerce status: {PAYMENT_HOLD_STATUSES[status]}"))
    return order
