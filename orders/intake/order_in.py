"""The OMS's JSON order as the API takes it: its published request schemas (``OrderIn``, and ``InvoiceIn`` for
an order's invoice and ``POST /api/v1/orders/<number>/invoice/``), and the order intake's check of a body's keys
against them through the API's one door (oms/api.py ``unknown_keys``), so what is published and what is refused
cannot drift apart. Every path of the order intake reads an order body here: the API's single order and each of a
batch's orders (orders/intake/inbox.py), the intake monitor's retry (orders/intake/pipeline.py) and the inbox's
batch applying what the API accepted already (``strict=False``: keys not judged again)."""

from oms.api import register_openapi, unknown_keys

from ..models import InvoiceKind, InvoiceTitleType
from . import oms_json
from . import words as w
from .canonical import ADDRESS_FIELDS, CanonicalOrder, FieldError, OrderRejected
from .invoice import INVOICE_INPUTS

_TEXT = {"type": "string"}
# The request's fields that are more than a plain text.
_INVOICE_DETAIL = {
    "kind": {"type": "string", "enum": [*InvoiceKind.values, "普票", "专票", "电子发票"], "default": "plain"},
    "title_type": {"type": "string", "enum": [*InvoiceTitleType.values, "个人", "企业", "单位"]},
    "title": {"type": "string", "maxLength": 200, "description": "抬头: the buyer's or company's name."},
    "tax_id": {
        "type": "string",
        "description": "税号: 18-character unified social credit code (check character verified) or a 15/20-"
        "character old number. Required for a company title and a special invoice.",
        "example": "91350100M000100Y43",
    },
    "email": {"type": "string", "description": "Required for an e-invoice."},
    "amount": {"type": "string", "description": "Default: the order's total; never above it.", "example": "99.00"},
}
# Every field of a request, from the one tuple the form and the OMS template's columns read (INVOICE_INPUTS).
INVOICE_IN = {
    "type": "object",
    "required": ["title"],
    "additionalProperties": False,  # a key not listed is refused (400 naming it), here and in an order's invoice
    "properties": {name: _INVOICE_DETAIL.get(name, _TEXT) for name in INVOICE_INPUTS},
}
ORDER_IN = {
    "type": "object",
    "required": ["channel", "external_id", "ship_to", "lines"],
    "additionalProperties": False,
    "description": "A key not listed here (in the order, customer, ship_to, a line or invoice) is refused: 400 "
    "naming it and its path (`ship_to.address: unknown field; known: …`), nothing applied.",
    "properties": {
        "channel": {"type": "string", "description": "The channel's slug."},
        "external_id": {"type": "string", "maxLength": 64, "description": "Unique per channel; a replay is a no-op."},
        "customer": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: {"type": "string"} for k in oms_json.CUSTOMER_FIELDS},
        },
        "ship_to": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **{k: {"type": "string"} for k in ADDRESS_FIELDS},
                "full": {
                    "type": "string",
                    "description": "The address as one line (a Chinese one may hold the name and phone): "
                    "fills the fields left empty.",
                    "example": "王五 13600136000 江苏省苏州市姑苏区人民路100号",
                },
            },
            "description": "country is an ISO 3166-1 alpha-2 code or a country name. An order to China "
            "with empty province/city/district gets them from its address line (full or address1).",
        },
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "additionalProperties": False,
                "properties": {
                    "sku": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unit_price": {"type": "string", "example": "19.90"},
                    "name": {"type": "string"},
                    "gift": {
                        "type": "boolean",
                        "description": "赠品 the channel sent: zero price, left out of the price check.",
                    },
                },
            },
        },
        "currency": {"type": "string", "example": "CNY"},
        "total": {"type": "string"},
        "placed_at": {"type": "string", "format": "date-time"},
        "promise_date": {"type": "string", "format": "date"},
        "presale": {
            "type": "boolean",
            "description": "预售: the order ships from ship_from (required when true); products or listings "
            "marked presale make an order presale without it.",
        },
        "ship_from": {"type": "string", "format": "date", "description": "预售: the day the order ships from."},
        "requested_service": {"type": "string", "enum": ["", "express", "standard", "economy"]},
        "priority": {"type": "integer", "minimum": 1, "maximum": 9},
        "billing_country": {
            "type": "string",
            "description": "ISO 3166-1 alpha-2 code or name; differs from ship-to → risk review hold.",
        },
        "payment_method": {"type": "string", "enum": ["", "prepaid", "cod"], "description": "cod: cash on delivery."},
        "note": {"type": "string"},
        "buyer_message": {"type": "string", "maxLength": 2000, "description": "买家留言: what the buyer wrote."},
        "seller_memo": {"type": "string", "maxLength": 2000, "description": "卖家备注: the seller's memo."},
        "seller_flag": {
            "type": ["string", "integer"],
            "description": "旗帜: red, yellow, green, blue, purple, or Taobao's 1-5 (0 or empty: none).",
        },
        "invoice": {"$ref": "#/components/schemas/InvoiceIn"},
    },
}
register_openapi(paths={}, schemas={"InvoiceIn": INVOICE_IN, "OrderIn": ORDER_IN})


def _worded(known: str):
    return w.say(w.UNKNOWN_FIELD, known=known)  # in the reader's language on staff pages, English in the API


def unknown_fields(data, schema: dict | str = "OrderIn", *, deep: bool = True) -> list[FieldError]:
    """A FieldError for every key of ``data`` its ``schema`` (by default ``OrderIn``) does not list, at any depth
    (``deep``), named by its path (``ship_to.address: unknown field; known: address1, …``): a misspelt key
    (``address`` for ``address1``) would otherwise be dropped and the order held for an address it did send."""
    return [FieldError(e["field"], e["message"]) for e in unknown_keys(data, schema, deep=deep, word=_worded)]


def parse(data: dict, *, strict: bool = True) -> tuple[str, CanonicalOrder]:
    """``oms_json.parse`` with the body's keys judged first (``strict``): (channel slug, canonical order), or
    OrderRejected with every error found, the unknown keys first."""
    unknown = unknown_fields(data) if strict else []
    try:
        slug, order = oms_json.parse(data)
    except OrderRejected as exc:
        raise OrderRejected([*unknown, *exc.errors]) from None
    if unknown:
        raise OrderRejected(unknown)
    return slug, order
