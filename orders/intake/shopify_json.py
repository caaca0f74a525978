"""Shopify's order webhooks (``orders/create``, ``orders/updated``, ``orders/cancelled``,
``orders/edited``, ``orders/paid``) and order JSON to canonical orders.

The body is Shopify's Order resource as JSON: ``id`` (the order id, our external id), ``name``
(``#1001``), ``email``, ``phone``, ``created_at`` (ISO 8601 with offset), ``currency``,
``total_price`` (a string), ``financial_status`` (pending, authorized, partially_paid, paid,
partially_refunded, refunded, voided), ``cancelled_at``, ``cancel_reason``, ``note`` and
``note_attributes`` (the buyer message, 买家留言), ``line_items[]`` (``sku``, ``quantity``, ``price``,
``title``, ``name``), ``shipping_address``
(``first_name``, ``last_name``, ``name``, ``company``, ``address1``, ``address2``, ``city``,
``province``, ``province_code``, ``zip``, ``country``, ``country_code``, ``phone``),
``customer`` (``first_name``, ``last_name``, ``email``, ``phone``) and ``shipping_lines[]``
(``title``, ``code``).

Headers: ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (base64 of HMAC-SHA256 of the raw body
with the app's / webhook's secret), ``X-Shopify-Shop-Domain``, ``X-Shopify-Webhook-Id`` (the
same on each retry of one delivery).

Sources: Shopify Dev Docs, "Webhooks › Verify webhooks" and "Deliver webhooks through HTTPS"
(shopify.dev/docs/apps/build/webhooks), and the REST Admin API "Order" resource
(shopify.dev/docs/api/admin-rest/latest/resources/order).
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

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
CREATE_TOPICS = {"orders/create"}
UPDATE_TOPICS = {"orders/updated", "orders/cancelled", "orders/edited", "orders/paid", "orders/fulfilled"}


def verify_signature(body: bytes, headers: dict, secret: str) -> None:
    verify_base64_hmac(body, headers, secret, SIGNATURE_HEADER)


def topic(headers: dict, body: bytes) -> str:
    """'create', 'update', or '' for a topic we do not act on."""
    value = header(headers, TOPIC_HEADER).strip().lower()
    if value in CREATE_TOPICS or not value:
        return "create"
    return "update" if value in UPDATE_TOPICS else ""


def parse(body: bytes) -> CanonicalOrder:
    data = json_body(body)
    if isinstance(data, dict) and isinstance(data.get("order"), dict):
        data = data["order"]  # the REST API's {"order": {...}} envelope
    return parse_order(data)


def read_orders(handle):
    """A file with one order object, a list of them, or the REST API's {"orders": [...]}."""
    try:
        data = json.load(handle)
    except ValueError as exc:
        raise FileUnusable(f"not JSON: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("orders") or [data.get("order", data)]
    for number, item in enumerate(data if isinstance(data, list) else [], start=1):
        try:
            yield number, parse_order(item)
        except OrderRejected as exc:
            yield number, exc


def _s(value, max_length: int | None = None) -> str:
    return clean_text(value, max_length=max_length)


def parse_order(data) -> CanonicalOrder:
    if not isinstance(data, dict):
        raise OrderRejected([FieldError("order", "must be a JSON object.")])
    lines, errors = parse_line_items(data.get("line_items"), platform="Shopify", name_keys=("title", "name"))
    placed_at = total = None
    try:
        placed_at = parse_when(data.get("created_at"), "created_at")
    except OrderRejected as exc:
        errors.extend(exc.errors)
    amounts = {}
    for key in ("total_price", "total_tax", "total_discounts"):
        try:
            amounts[key] = parse_money(data.get(key), key, blank=None)
        except OrderRejected as exc:
            errors.extend(exc.errors)
    total = amounts.get("total_price")
    if data.get("id") in (None, ""):
        errors.append(FieldError("id", "is required."))
    if errors:
        raise OrderRejected(errors)
    ship = data.get("shipping_address") if isinstance(data.get("shipping_address"), dict) else {}
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    ship_name = _s(ship.get("name")) or " ".join(
        p for p in (_s(ship.get("first_name")), _s(ship.get("last_name"))) if p
    )
    customer_name = " ".join(p for p in (_s(customer.get("first_name")), _s(customer.get("last_name"))) if p)
    financial = _s(data.get("financial_status")).lower()
    cancelled = ""
    if data.get("cancelled_at"):
        cancelled = "cancelled"
    elif financial in ("refunded", "voided"):
        cancelled = financial
    shipping_lines = data.get("shipping_lines") if isinstance(data.get("shipping_lines"), list) else []
    method = (
        _s((shipping_lines[0] or {}).get("title")) if shipping_lines and isinstance(shipping_lines[0], dict) else ""
    )
    shipping = _shipping(shipping_lines, errors)
    if errors:
        raise OrderRejected(errors)
    email = _s(data.get("email") or data.get("contact_email") or customer.get("email"))
    name = _s(data.get("name"))
    order = CanonicalOrder(
        external_id=_s(data.get("id")),
        ship_to=CanonicalAddress(
            name=ship_name,
            phone=_s(ship.get("phone")) or _s(data.get("phone")) or _s(customer.get("phone")),
            email=email,
            country=_s(ship.get("country_code")) or _s(ship.get("country")),
            province=_s(ship.get("province")) or _s(ship.get("province_code")),
            city=_s(ship.get("city")),
            address1=_s(ship.get("address1")),
            address2=", ".join(p for p in (_s(ship.get("address2")), _s(ship.get("company"))) if p),
            postcode=_s(ship.get("zip")),
        ),
        lines=lines,
        customer_name=customer_name or ship_name,
        customer_email=email,
        customer_phone=_s(data.get("phone")) or _s(customer.get("phone")),
        currency=_s(data.get("currency")) or "CNY",
        total=total,
        shipping=shipping,
        tax=amounts.get("total_tax"),
        discount=amounts.get("total_discounts"),
        channel_order_name=name,
        placed_at=placed_at,
        requested_service=requested_service(method),
        # The order's reference stays in the note; the buyer's words are the buyer message (买家留言).
        note=f"Shopify {name}" if name else "",
        buyer_message=buyer_message(data.get("note"), data.get("note_attributes")),
        cancelled_reason=cancelled,
    )
    if financial == "pending" and not cancelled:
        order.holds.append(("payment", "Shopify financial status: pending"))
    return order


def buyer_message(note, attributes) -> str:
    """Shopify's ``note`` (what the buyer wrote at checkout) and its ``note_attributes`` (``[{name, value}]``,
    the cart's extra fields such as a gift message or a delivery time), one ``name: value`` line each."""
    lines = [clean_message(note)] if clean_message(note) else []
    for item in attributes if isinstance(attributes, list) else []:
        if isinstance(item, dict):
            key, value = _s(item.get("name", item.get("key"))), _s(item.get("value"))
            if value:
                lines.append(f"{key}: {value}" if key else value)
    return "\n".join(lines)


def _shipping(shipping_lines: list, errors: list):
    """The order's shipping: the sum of its shipping lines' prices (None when none has a price)."""
    prices = []
    for i, item in enumerate(shipping_lines, start=1):
        if isinstance(item, dict) and item.get("price") not in (None, ""):
            try:
                prices.append(parse_money(item.get("price"), f"shipping_lines[{i}].price"))
            except OrderRejected as exc:
                errors.extend(exc.errors)
    return sum(prices) if prices else None
