"""JSON API of 预售: GET /api/v1/presale/ (orders waiting by release day, products and listings marked presale)
and POST /api/v1/presale/ (mark or unmark a product, or one channel's listing). The order's own presale state
and promise date are in the order JSON (orders/views/api_order_json.py)."""

from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date

from inventory.models import Product
from inventory.services import product_presale_set
from oms.api import BadInput, api_view, error, json_input, register_openapi
from oms.errors import DomainError

from .. import selectors, services
from ..models import Channel

MAX_BATCH = 1_000_000


def presale_state() -> dict:
    return {
        "days": [
            {"day": d["day"].isoformat(), "orders": d["orders"], "units": d["units"]} for d in selectors.presale_days()
        ],
        "products": [
            {
                "sku": p.sku,
                "ship_from": p.presale_ship_from.isoformat(),
                "batch_quantity": p.presale_batch_qty,
                "waiting_units": p.waiting,
            }
            for p in selectors.presale_products()
        ],
        "listings": [
            {
                "channel": m.channel.slug,
                "external_sku": m.external_sku,
                "sku": m.product.sku,
                "ship_from": m.presale_ship_from.isoformat(),
            }
            for m in selectors.presale_listings()
        ],
    }


def _text(data: dict, name: str, errors: list[dict], *, required: bool = False) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.append({"field": name, "message": "is required."})
        return ""
    if not isinstance(value, str):
        errors.append({"field": name, "message": "must be text."})
        return ""
    if len(value) > 64:
        errors.append({"field": name, "message": f"is {len(value)} characters long; at most 64."})
        return ""
    return value.strip()


def _mark_input(data: dict) -> tuple[str, str, object, int | None]:
    errors: list[dict] = []
    sku = _text(data, "sku", errors, required=True)
    channel = _text(data, "channel", errors)
    ship_from = None
    raw_day = data.get("ship_from")
    if raw_day not in (None, ""):
        try:
            ship_from = parse_date(raw_day) if isinstance(raw_day, str) else None
        except ValueError:
            ship_from = None
        if ship_from is None:
            errors.append({"field": "ship_from", "message": "is not a date (use YYYY-MM-DD), or null to unmark."})
        elif ship_from <= timezone.localdate():
            errors.append({"field": "ship_from", "message": "must be after today."})
    batch = data.get("batch_quantity")
    if batch is not None:
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            errors.append({"field": "batch_quantity", "message": f"must be a whole number from 1 to {MAX_BATCH}."})
        elif channel:
            errors.append({"field": "batch_quantity", "message": "is for products only (leave channel out)."})
        elif raw_day in (None, ""):
            errors.append({"field": "batch_quantity", "message": "needs a ship_from date."})
    if errors:
        raise BadInput("The presale marking has errors; nothing was changed.", errors)
    return sku, channel, ship_from, batch


@api_view(methods={"GET": "orders.view_order", "POST": "orders.change_channel"})
def presale_resource(request):
    if request.method == "GET":
        return JsonResponse(presale_state())
    data = json_input(request, "PresaleMark")
    sku, slug, ship_from, batch = _mark_input(data)
    try:
        if slug:
            channel = Channel.objects.filter(slug=slug).first()
            if channel is None:
                raise BadInput("Unknown channel.", [{"field": "channel", "message": f"no channel '{slug}'."}])
            listing = services.listing_presale_set(
                channel=channel, external_sku=sku, ship_from=ship_from, user=request.user
            )
            day = listing.presale_ship_from
            body = {"channel": slug, "external_sku": sku, "sku": listing.product.sku}
            body["ship_from"] = day.isoformat() if day else None
            return JsonResponse(body)
        if not request.user.has_perm("inventory.change_product"):
            return error("Your role may not do this.", 403)
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise BadInput("Unknown SKU.", [{"field": "sku", "message": f"no product '{sku}'."}])
        product = product_presale_set(product=product, ship_from=ship_from, batch_qty=batch, user=request.user)
    except DomainError as exc:
        return error(str(exc), 400)
    day = product.presale_ship_from
    return JsonResponse(
        {"sku": product.sku, "ship_from": day.isoformat() if day else None, "batch_quantity": product.presale_batch_qty}
    )


_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_DAY = {"type": "string", "format": "date"}
register_openapi(
    schemas={
        "Presale": {
            "type": "object",
            "properties": {
                "days": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"day": _DAY, "orders": {"type": "integer"}, "units": {"type": "integer"}},
                    },
                },
                "products": {"type": "array", "items": {"type": "object"}},
                "listings": {"type": "array", "items": {"type": "object"}},
            },
        },
        "PresaleMark": {
            "type": "object",
            "required": ["sku"],
            "additionalProperties": False,
            "description": "A key not listed here is refused: 400 naming it, nothing changed.",
            "properties": {
                "sku": {"type": "string", "maxLength": 64, "description": "Our SKU, or the channel's with channel."},
                "channel": {"type": "string", "description": "A channel's slug: mark that channel's listing."},
                "ship_from": {"type": ["string", "null"], "format": "date", "description": "null: not presale."},
                "batch_quantity": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_BATCH},
            },
        },
    },
    paths={
        "/presale/": {
            "get": {
                "summary": "预售: orders waiting by release day; products and listings marked presale",
                "responses": {
                    "200": {
                        "description": "The presale queue",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Presale"}}},
                    },
                    "401": _ERR,
                },
            },
            "post": {
                "summary": "预售: mark or unmark a product (or a channel's listing)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PresaleMark"}}},
                },
                "responses": {
                    "200": {"description": "Marked (ship_from) or unmarked (null)"},
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                },
            },
        }
    },
)
