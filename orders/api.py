"""JSON API for orders: GET/POST /api/v1/orders/, GET /api/v1/orders/<number>/."""

from django.http import JsonResponse

from oms.api import api_view, error, json_body, page, register_openapi
from oms.request_guard import BodyTooLarge, read_body

from . import selectors, services
from .extensions import order_api_extras
from .intake import oms_json
from .intake.canonical import OrderRejected
from .models import Channel, InboundStatus, Order


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
            }
            for ln in order.lines.all()
        ]
        data.update(order_api_extras(order))
    return data


@api_view(methods={"GET": "orders.view_order", "POST": "orders.add_order"})
def orders_collection(request):
    if request.method == "GET":
        queryset = selectors.order_list().order_by("-id")
        for param, field in (
            ("channel", "channel__slug"),
            ("status", "status"),
            ("external_id", "external_id"),
            ("number", "number"),
        ):
            if request.GET.get(param):
                queryset = queryset.filter(**{field: request.GET[param]})
        return JsonResponse(page(request, queryset, order_json))
    try:
        body = read_body(request)
    except BodyTooLarge as exc:
        services.inbound_store(
            source="api",
            body=b"",
            headers={"Content-Type": request.content_type, "Content-Length": str(exc.size or "")},
            status=InboundStatus.REJECTED,
            error=str(exc),
        )
        return error(str(exc), 413)
    message = services.inbound_store(source="api", body=body, headers={"Content-Type": request.content_type})
    try:
        data = json_body(request, body)
        slug, canonical = oms_json.parse(data)
    except ValueError as exc:
        services.inbound_record_outcome(message, status=InboundStatus.REJECTED, error=str(exc))
        return error(str(exc), 400)
    except OrderRejected as exc:
        errors = [e.as_dict() for e in exc.errors]
        services.inbound_record_outcome(
            message, status=InboundStatus.REJECTED, error=str(exc), result={"errors": errors}
        )
        return error("The order was rejected.", 400, errors)
    channel = Channel.objects.filter(slug=slug, active=True).first()
    if channel is None:
        services.inbound_record_outcome(message, status=InboundStatus.REJECTED, error=f"Unknown channel '{slug}'.")
        return error("The order was rejected.", 400, [{"field": "channel", "message": f"unknown channel '{slug}'."}])
    message.channel = channel
    message.save(update_fields=["channel"])
    try:
        result = services.order_create(
            channel=channel, data=canonical, source="api", user=request.user, inbound=message
        )
    except OrderRejected as exc:
        return error("The order was rejected.", 400, [e.as_dict() for e in exc.errors])
    order = Order.objects.select_related("channel").get(pk=result.order.pk)
    body = order_json(order, detail=True)
    body["created"] = result.created
    return JsonResponse(body, status=201 if result.created else 200)


@api_view(methods={"GET": "orders.view_order"})
def order_resource(request, number):
    order = Order.objects.select_related("channel").filter(number=number).first()
    if order is None:
        return error(f"No order {number}.", 404)
    return JsonResponse(order_json(order, detail=True))


_ORDER_IN = {
    "type": "object",
    "required": ["channel", "external_id", "ship_to", "lines"],
    "properties": {
        "channel": {"type": "string", "description": "The channel's slug."},
        "external_id": {"type": "string", "maxLength": 64, "description": "Unique per channel; a replay is a no-op."},
        "customer": {"type": "object", "properties": {k: {"type": "string"} for k in ("name", "email", "phone")}},
        "ship_to": {
            "type": "object",
            "properties": {k: {"type": "string"} for k in oms_json.ADDRESS_FIELDS},
            "description": "country is an ISO 3166-1 alpha-2 code or a country name.",
        },
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sku", "quantity"],
                "properties": {
                    "sku": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unit_price": {"type": "string", "example": "19.90"},
                    "name": {"type": "string"},
                },
            },
        },
        "currency": {"type": "string", "example": "CNY"},
        "total": {"type": "string"},
        "placed_at": {"type": "string", "format": "date-time"},
        "promise_date": {"type": "string", "format": "date"},
        "requested_service": {"type": "string", "enum": ["", "express", "standard", "economy"]},
        "priority": {"type": "integer", "minimum": 1, "maximum": 9},
        "billing_country": {
            "type": "string",
            "description": "ISO 3166-1 alpha-2 code or name; differs from ship-to → risk review hold.",
        },
        "payment_method": {"type": "string", "enum": ["", "prepaid", "cod"], "description": "cod: cash on delivery."},
        "note": {"type": "string"},
    },
}
_ORDER_OUT = {
    "type": "object",
    "properties": {
        "number": {"type": "string"},
        "channel": {"type": "string"},
        "external_id": {"type": "string"},
        "status": {"type": "string"},
        "on_hold": {"type": "boolean"},
        "hold_reasons": {"type": "array", "items": {"type": "object"}},
        "lines": {"type": "array", "items": {"type": "object"}},
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
    },
}
_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ref(name):
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


register_openapi(
    schemas={"OrderIn": _ORDER_IN, "Order": _ORDER_OUT},
    paths={
        "/orders/": {
            "get": {
                "summary": "List orders",
                "parameters": [
                    *[
                        {"name": n, "in": "query", "schema": {"type": "string"}}
                        for n in ("channel", "status", "external_id", "number")
                    ],
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                ],
                "responses": {
                    "200": {
                        "description": "A page of orders",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}},
                                        "next": {"type": ["string", "null"]},
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERR,
                    "401": _ERR,
                },
            },
            "post": {
                "summary": "Create an order (idempotent per channel and external_id)",
                "requestBody": {"required": True, **_ref("OrderIn")},
                "responses": {
                    "201": {"description": "Created", **_ref("Order")},
                    "200": {"description": "Already existed; nothing changed", **_ref("Order")},
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "413": _ERR,
                },
            },
        },
        "/orders/{number}/": {
            "get": {
                "summary": "One order with lines, hold reasons and shipments",
                "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The order", **_ref("Order")}, "404": _ERR, "401": _ERR},
            }
        },
    },
)
