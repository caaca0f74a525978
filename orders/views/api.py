"""JSON API for orders: GET/POST /api/v1/orders/, GET /api/v1/orders/<number>/."""

import json

from django.http import JsonResponse
from django.urls import reverse

from oms.api import api_view, error, json_body, page, register_openapi
from oms.request_guard import BodyTooLarge, read_body

from .. import selectors, services
from ..intake import inbox, order_in
from ..models import InboundMessage, InboundStatus, Order
from . import api_finance  # noqa: F401 (its schemas are registered before the order's, as they always were)
from .api_memo_tags import tag_filter
from .api_order_json import MERGE_GROUP_SCHEMA, ORDER_SCHEMA, order_json


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
        queryset = selectors.orders_tagged(queryset, tag_filter(request))
        return JsonResponse(page(request, queryset, order_json))
    try:
        body = read_body(request)
    except BodyTooLarge as exc:
        _store_too_large(request, exc)
        return error(str(exc), 413)
    verdict = inbox.accept_api_order(body=body, user=request.user)
    if verdict.status == "rejected":
        return _rejected_answer(verdict)
    if verdict.status == "exists":
        return _order_answer(verdict.order, created=False)
    if _wants_representation(request):
        # The old synchronous contract, on request: apply this message now, through the same batch path.
        inbox.apply_pending(ids=[verdict.message.pk], limit=1)
        verdict.message.refresh_from_db()
        answer = _applied_answer(verdict.message)
        if answer is not None:
            return answer  # else: not applied yet or failed; the status URL tells what became of it
    return _accepted_answer(verdict)


def _store_too_large(request, exc: BodyTooLarge) -> None:
    """A body too large to read is not kept, but the request is: a rejected message with its size."""
    services.inbound_store(
        source="api",
        body=b"",
        headers={"Content-Type": request.content_type, "Content-Length": str(exc.size or "")},
        status=InboundStatus.REJECTED,
        error=str(exc),
    )


def _rejected_answer(verdict) -> JsonResponse:
    """400 with the errors and the id of the stored message (``GET /api/v1/inbound/<id>/`` shows it)."""
    body = {"error": verdict.error, "message": verdict.message.pk}
    if verdict.errors:
        body["errors"] = verdict.errors
    return JsonResponse(body, status=400)


def _refused(request, body: bytes, message: str, errors: list[dict] | None = None) -> JsonResponse:
    return _rejected_answer(inbox.refuse_api_body(body=body, user=request.user, error=message, errors=errors))


def _wants_representation(request) -> bool:
    """RFC 7240 ``Prefer: return=representation``: answer with the order itself (201), not 202."""
    prefer = request.headers.get("Prefer", "")
    return any(p.strip().lower() == "return=representation" for p in prefer.split(","))


def _order_answer(order: Order, *, created: bool, status: int | None = None) -> JsonResponse:
    order = Order.objects.select_related("channel").get(pk=order.pk)
    body = order_json(order, detail=True)
    body["created"] = created
    return JsonResponse(body, status=status or (201 if created else 200))


def _applied_answer(message: InboundMessage) -> JsonResponse | None:
    if message.status == InboundStatus.PROCESSED and message.result.get("order"):
        order = Order.objects.get(number=message.result["order"])
        response = _order_answer(order, created=bool(message.result.get("created")))
        response["Preference-Applied"] = "return=representation"
        return response
    if message.status == InboundStatus.REJECTED:
        return error(
            "The order was rejected.",
            400,
            message.result.get("errors") or [{"row": None, "field": "order", "message": message.error}],
        )
    return None


def _status_url(message_id: int) -> str:
    return reverse("api_inbound", args=[message_id])


def _accepted_answer(verdict) -> JsonResponse:
    url = _status_url(verdict.message.pk)
    response = JsonResponse(
        {
            "status": "accepted",
            "message": verdict.message.pk,
            "channel": verdict.channel.slug,
            "external_id": verdict.data.external_id,
            "status_url": url,
        },
        status=202,
    )
    response["Location"] = url
    return response


@api_view(methods={"POST": "orders.add_order"})
def orders_batch(request):
    """POST /api/v1/orders/batch/: ``{"orders": [...]}``, up to 500 orders, each judged alone."""
    try:
        body = read_body(request)
    except BodyTooLarge as exc:
        _store_too_large(request, exc)
        return error(str(exc), 413)
    try:
        data = json_body(request, body)
    except ValueError as exc:
        return _refused(request, body, str(exc))
    if unknown := order_in.unknown_fields(data, BATCH_IN, deep=False):  # each order is judged alone, below
        errors = [e.as_dict() for e in unknown]
        return _refused(request, body, "; ".join(f"{e.field}: {e.message}" for e in unknown), errors)
    items = data.get("orders")
    if not isinstance(items, list) or not items:
        return _refused(
            request,
            body,
            "'orders' must be a non-empty list of orders.",
            [{"row": None, "field": "orders", "message": "a non-empty list is required."}],
        )
    if len(items) > inbox.API_BATCH_MAX:
        return _refused(
            request,
            body,
            f"At most {inbox.API_BATCH_MAX} orders per request, got {len(items)}.",
            [{"row": None, "field": "orders", "message": f"at most {inbox.API_BATCH_MAX} orders, got {len(items)}."}],
        )
    bodies = [json.dumps(item, ensure_ascii=False).encode() for item in items]
    verdicts = inbox.accept_api_orders(items=items, bodies=bodies, user=request.user)
    results = []
    for index, verdict in enumerate(verdicts):
        entry = {"index": index, "status": verdict.status, "message": verdict.message.pk}
        if verdict.status == "accepted":
            entry.update(external_id=verdict.data.external_id, status_url=_status_url(verdict.message.pk))
        elif verdict.status == "exists":
            entry.update(external_id=verdict.order.external_id, order=verdict.order.number)
        else:
            entry.update(error=verdict.error, errors=verdict.errors)
        results.append(entry)
    counts = {k: sum(1 for v in verdicts if v.status == k) for k in ("accepted", "exists", "rejected")}
    return JsonResponse({**counts, "results": results}, status=202 if counts["accepted"] else 200)


@api_view(methods={"GET": "orders.view_order"})
def inbound_resource(request, pk: int):
    """GET /api/v1/inbound/<id>/: what became of an order message sent through the API."""
    message = InboundMessage.objects.filter(pk=pk, source="api").first()
    if message is None or (
        message.user_id != request.user.pk and not request.user.has_perm("orders.view_inboundmessage")
    ):
        return error(f"No message {pk}.", 404)
    number = message.result.get("order") if isinstance(message.result, dict) else None
    body = {
        "message": message.pk,
        "status": message.status,
        "received_at": message.received_at.isoformat(),
        "processed_at": message.processed_at.isoformat() if message.processed_at else None,
        "order": number,
        "order_url": reverse("api_order", args=[number]) if number else None,
        "created": message.result.get("created") if number else None,
        "error": message.error,
        "errors": message.result.get("errors", []) if isinstance(message.result, dict) else [],
    }
    return JsonResponse(body)


@api_view(methods={"GET": "orders.view_order"})
def order_resource(request, number):
    order = Order.objects.select_related("channel").filter(number=number).first()
    if order is None:
        return error(f"No order {number}.", 404)
    return JsonResponse(order_json(order, detail=True))


BATCH_IN = {
    "type": "object",
    "required": ["orders"],
    "additionalProperties": False,
    "properties": {
        "orders": {
            "type": "array",
            "minItems": 1,
            "maxItems": inbox.API_BATCH_MAX,
            "items": {"$ref": "#/components/schemas/OrderIn"},
        }
    },
}
_ACCEPTED = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["accepted"]},
        "message": {"type": "integer"},
        "channel": {"type": "string"},
        "external_id": {"type": "string"},
        "status_url": {"type": "string"},
    },
}
_BATCH_ANSWER = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer"},
        "exists": {"type": "integer"},
        "rejected": {"type": "integer"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "status": {"type": "string", "enum": ["accepted", "exists", "rejected"]},
                    "message": {"type": "integer"},
                    "external_id": {"type": "string"},
                    "status_url": {"type": "string"},
                    "order": {"type": "string"},
                    "error": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
}
_INBOUND_OUTCOME = {
    "type": "object",
    "properties": {
        "message": {"type": "integer"},
        "status": {"type": "string", "enum": ["received", "processed", "partial", "rejected", "failed"]},
        "received_at": {"type": "string", "format": "date-time"},
        "processed_at": {"type": ["string", "null"], "format": "date-time"},
        "order": {"type": ["string", "null"]},
        "order_url": {"type": ["string", "null"]},
        "created": {"type": ["boolean", "null"]},
        "error": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ref(name):
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


register_openapi(
    schemas={
        "Order": ORDER_SCHEMA,
        "Accepted": _ACCEPTED,
        "BatchAnswer": _BATCH_ANSWER,
        "InboundOutcome": _INBOUND_OUTCOME,
        "MergeUndoIn": {
            "type": "object",
            "additionalProperties": False,
            "description": "Optional (no body: no note). A key not listed here is refused: 400 naming it, "
            "nothing undone.",
            "properties": {"note": {"type": "string", "maxLength": 200}},
        },
        "MergeGroup": MERGE_GROUP_SCHEMA,
    },
    paths={
        "/orders/": {
            "get": {
                "summary": "List orders",
                "parameters": [
                    *[
                        {"name": n, "in": "query", "schema": {"type": "string"}}
                        for n in ("channel", "status", "external_id", "number")
                    ],
                    {
                        "name": "tag",
                        "in": "query",
                        "description": "Orders with every tag given (repeat it, or comma-separated).",
                        "schema": {"type": "string"},
                    },
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
                "summary": "Send an order (idempotent per channel and external_id)",
                "description": "The order is checked at once (400 with field errors) and stored; it is applied "
                "in a batch moments later. 202 answers with a status URL that tells what became of it. "
                "With `Prefer: return=representation` the order is applied in the request and answered "
                "as before: 201 with the order (200 when it already existed).",
                "parameters": [
                    {
                        "name": "Prefer",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "enum": ["return=representation"]},
                    }
                ],
                "requestBody": {"required": True, **_ref("OrderIn")},
                "responses": {
                    "202": {"description": "Accepted; applied in a batch", **_ref("Accepted")},
                    "201": {"description": "Created (Prefer: return=representation)", **_ref("Order")},
                    "200": {"description": "Already existed; nothing changed", **_ref("Order")},
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "413": _ERR,
                },
            },
        },
        "/orders/batch/": {
            "post": {
                "summary": "Send up to 500 orders at once, each checked and stored alone",
                "requestBody": {"required": True, "content": {"application/json": {"schema": BATCH_IN}}},
                "responses": {
                    "202": {"description": "At least one order accepted", **_ref("BatchAnswer")},
                    "200": {"description": "None to apply (all existed or were rejected)", **_ref("BatchAnswer")},
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "413": _ERR,
                },
            }
        },
        "/inbound/{id}/": {
            "get": {
                "summary": "What became of an order sent through the API",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {"description": "The message's outcome", **_ref("InboundOutcome")},
                    "404": _ERR,
                    "401": _ERR,
                },
            }
        },
        "/orders/{number}/merge/undo/": {
            "post": {
                "summary": "Undo the order's automatic merge (before picking): each order ships on its own",
                "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MergeUndoIn"}}},
                },
                "responses": {
                    "200": {
                        "description": "Undone",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "order": {"type": "string"},
                                        "merge_group": {"$ref": "#/components/schemas/MergeGroup"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "404": _ERR,
                    "409": _ERR,
                },
            }
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
