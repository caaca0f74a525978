"""Orders pulled from Shopify's Admin GraphQL API (the ``orders`` query) to canonical orders.

A pulled order is stored raw in the order inbox as source ``pull:shopify`` (one message per order node, as
Shopify sent it) and applied like an ``orders/updated`` webhook: created when new, else the channel's update
of the order (a replay changes nothing). Nothing is signed (we fetched it ourselves with our token), so
``verify_signature`` accepts everything.

The node's fields (Admin GraphQL ``Order``): ``legacyResourceId`` (the numeric id the webhooks carry, our
external id, so a pulled order and its webhook are one order), ``name``, ``email``, ``phone``,
``createdAt``, ``updatedAt``, ``cancelledAt``, ``displayFinancialStatus`` (PENDING, AUTHORIZED, PAID,
PARTIALLY_PAID, PARTIALLY_REFUNDED, REFUNDED, VOIDED, EXPIRED), ``note``, ``currencyCode``,
``totalPriceSet``/``totalTaxSet``/``totalDiscountsSet`` ``{shopMoney {amount}}``, ``lineItems {nodes {sku
quantity title originalUnitPriceSet}}``, ``shippingAddress`` (``firstName``, ``lastName``, ``name``,
``company``, ``address1``, ``address2``, ``city``, ``province``, ``provinceCode``, ``zip``, ``country``,
``countryCodeV2``, ``phone``), ``customer {firstName lastName email phone}`` and ``shippingLines {nodes {title
code originalPriceSet}}``. They are mapped onto the webhook's (REST) field names and read by the webhook's
parser (``shopify_json.parse_order``), so both doors check and map an order the same way.

Source: Shopify Dev Docs, GraphQL Admin API "Order" object and "orders" query (shopify.dev/docs/api/admin-graphql).
"""

from .bodies import json_body
from .bodies import pulled_signature as verify_signature  # noqa: F401 (the adapter's interface)
from .bodies import pulled_topic as topic  # noqa: F401
from .canonical import CanonicalOrder, FieldError, OrderRejected
from .shopify_json import parse_order


def _money(value) -> object:
    if isinstance(value, dict):
        money = value.get("shopMoney") if isinstance(value.get("shopMoney"), dict) else value
        return money.get("amount")
    return value


def _nodes(value) -> list:
    if isinstance(value, dict):
        if isinstance(value.get("nodes"), list):
            return value["nodes"]
        if isinstance(value.get("edges"), list):
            return [e.get("node") for e in value["edges"] if isinstance(e, dict)]
    return value if isinstance(value, list) else []


def _address(value) -> dict:
    if not isinstance(value, dict):
        return {}
    return {
        "first_name": value.get("firstName"),
        "last_name": value.get("lastName"),
        "name": value.get("name"),
        "company": value.get("company"),
        "address1": value.get("address1"),
        "address2": value.get("address2"),
        "city": value.get("city"),
        "province": value.get("province"),
        "province_code": value.get("provinceCode"),
        "zip": value.get("zip"),
        "country": value.get("country"),
        "country_code": value.get("countryCodeV2") or value.get("countryCode"),
        "phone": value.get("phone"),
    }


def to_rest(node: dict) -> dict:
    """A GraphQL Order node in the webhook's (REST) field names."""
    customer = node.get("customer") if isinstance(node.get("customer"), dict) else {}
    legacy = node.get("legacyResourceId")
    if legacy in (None, "") and isinstance(node.get("id"), str):
        legacy = node["id"].rpartition("/")[2]
    return {
        "id": legacy,
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "financial_status": str(node.get("displayFinancialStatus") or "").lower(),
        "note": node.get("note"),
        "note_attributes": [a for a in node.get("customAttributes") or [] if isinstance(a, dict)],
        "currency": node.get("currencyCode"),
        "total_price": _money(node.get("totalPriceSet")),
        "total_tax": _money(node.get("totalTaxSet")),
        "total_discounts": _money(node.get("totalDiscountsSet")),
        "line_items": [
            {
                "sku": item.get("sku"),
                "quantity": item.get("quantity"),
                "title": item.get("title") or item.get("name"),
                "price": _money(item.get("originalUnitPriceSet")),
            }
            for item in _nodes(node.get("lineItems"))
            if isinstance(item, dict)
        ],
        "shipping_address": _address(node.get("shippingAddress")),
        "customer": {
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "email": customer.get("email"),
            "phone": customer.get("phone"),
        },
        "shipping_lines": [
            {"title": line.get("title"), "code": line.get("code"), "price": _money(line.get("originalPriceSet"))}
            for line in _nodes(node.get("shippingLines"))
            if isinstance(line, dict)
        ],
    }


def parse(body: bytes) -> CanonicalOrder:
    node = json_body(body)
    if not isinstance(node, dict):
        raise OrderRejected([FieldError("order", "must be a JSON object.")])
    return parse_order(to_rest(node))
