"""The order as the JSON API shows it (GET /api/v1/orders/, /api/v1/orders/<number>/, the POST answer):
``order_json`` assembles it from the feature parts (api_memo_tags, api_finance, merge, the extensions), and
ORDER_SCHEMA / MERGE_GROUP_SCHEMA describe it for the OpenAPI document (registered by orders/views/api.py)."""

from ..extensions import order_api_extras
from ..models import Order
from .api_finance import order_invoice
from .api_memo_tags import memo_tags_json
from .merge import merge_group_json


def presale_json(order: Order) -> dict | None:
    """预售: the day the order is promised and routed from, and whether it still waits for it."""
    if order.presale_until is None:
        return None
    released = order.presale_released_at
    return {
        "until": order.presale_until.isoformat(),
        "waiting": released is None,
        "released_at": released.isoformat() if released else None,
    }


def order_json(order: Order, *, detail: bool = False) -> dict:
    data = {
        "number": order.number,
        "channel": order.channel.slug,
        "external_id": order.external_id,
        "status": order.status,
        "on_hold": order.on_hold,
        "priority": order.priority,
        "currency": order.currency,
        "total": str(order.total),
        "created_at": order.created_at.isoformat(),
        **memo_tags_json(order),
        "promise_date": order.promise_date.isoformat() if order.promise_date else None,
        "presale": presale_json(order),
    }
    if detail:
        data["hold_reasons"] = [
            {"reason": h.reason, "note": h.note} for h in order.holds.all() if h.released_at is None
        ]
        data["ship_to"] = {
            "name": order.ship_name,
            "phone": order.ship_phone,
            "email": order.ship_email,
            "country": order.ship_country,
            "province": order.ship_province,
            "city": order.ship_city,
            "district": order.ship_district,
            "address1": order.ship_address1,
            "address2": order.ship_address2,
            "postcode": order.ship_postcode,
        }
        data["lines"] = [
            {
                "line_no": ln.line_no,
                "sku": ln.sku,
                "name": ln.name,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price),
                "known_product": ln.product_id is not None,
                "is_gift": ln.is_gift,
                "gift_rule": ln.gift_rule_id,
            }
            for ln in order.lines.all()
        ]
        data["merge_group"] = merge_group_json(order)
        data["invoice"] = order_invoice(order)
        data.update(order_api_extras(order))
    return data


ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "number": {"type": "string"},
        "channel": {"type": "string"},
        "external_id": {"type": "string"},
        "status": {"type": "string"},
        "on_hold": {"type": "boolean"},
        "promise_date": {"type": ["string", "null"], "format": "date"},
        "presale": {
            "type": ["object", "null"],
            "description": "预售: null when the order is not presale.",
            "properties": {
                "until": {"type": "string", "format": "date"},
                "waiting": {"type": "boolean", "description": "Not yet released to routing."},
                "released_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "hold_reasons": {"type": "array", "items": {"type": "object"}},
        "buyer_message": {"type": "string"},
        "seller_memo": {"type": "string"},
        "seller_flag": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Rule-made and manual tags."},
        "manual_tags": {"type": "array", "items": {"type": "string"}},
        "removed_tags": {"type": "array", "items": {"type": "string"}, "description": "Rule tags a person removed."},
        "lines": {"type": "array", "items": {"type": "object"}},
        "invoice": {"oneOf": [{"$ref": "#/components/schemas/Invoice"}, {"type": "null"}]},
        "shipments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    k: {"type": ["string", "null"]}
                    for k in (
                        "number",
                        "status",
                        "location",
                        "carrier",
                        "service",
                        "tracking_number",
                        "tracking_status",
                        "expected_delivery",
                    )
                },
            },
        },
        "created": {"type": "boolean", "description": "POST only: false when the order already existed."},
        "merge_group": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/MergeGroup"}]},
    },
}
MERGE_GROUP_SCHEMA = {
    "type": "object",
    "description": "自动合单: the order's merge group (the live one, else the last undone one). Each order keeps "
    "its number, lines and totals; the group's orders ship as one parcel.",
    "properties": {
        "number": {"type": "string"},
        "active": {"type": "boolean"},
        "orders": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "undone_at": {"type": ["string", "null"], "format": "date-time"},
        "undo_note": {"type": "string"},
    },
}
