"""JSON API of the finance review (财审): ``POST /api/v1/orders/<number>/finance/approve/`` (the finance holds
released, the order goes on) and ``POST /api/v1/orders/<number>/finance/reject/`` (the order cancelled). The same
services as the queue page (orders/views/finance.py): ``services.finance_approve`` and the workflow action
``workflows.cancel.order_finance_reject``, given to the reject view by its URL (workflows/urls/api.py)."""

from django.http import JsonResponse

from oms.api import BadInput, api_view, error, json_input, register_openapi
from oms.errors import DomainError

from .. import services
from ..models import Order

MAX_TEXT = 200


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{name} is required.", [{"field": name, "message": "is required: non-empty text."}])
    if len(value) > MAX_TEXT:
        message = f"is {len(value)} characters long; at most {MAX_TEXT}."
        raise BadInput(f"{name} is too long.", [{"field": name, "message": message}])
    return value.strip()


def _answer(order: Order) -> JsonResponse:
    order.refresh_from_db()
    holds = order.holds.filter(released_at__isnull=True).order_by("pk").values_list("reason", flat=True)
    return JsonResponse({"order": order.number, "status": order.status, "on_hold": order.on_hold, "holds": [*holds]})


@api_view(methods={"POST": "orders.finance_review"})
def finance_approve(request, number):
    order = Order.objects.filter(number=number).first()
    if order is None:
        return error(f"No order {number}.", 404)
    note = _text(json_input(request, "FinanceApproveIn"), "note")
    try:
        services.finance_approve(order=order, note=note, user=request.user)
    except DomainError as exc:
        return error(str(exc), 409)
    return _answer(order)


@api_view(methods={"POST": "orders.finance_review"})
def finance_reject(request, number, *, reject):
    """``reject`` is workflows.cancel.order_finance_reject, given by the URL; like the page, it also needs the
    role's right to cancel."""
    if not request.user.has_perm("orders.cancel_order"):
        return error("Your role may not do this.", 403)
    order = Order.objects.filter(number=number).first()
    if order is None:
        return error(f"No order {number}.", 404)
    reason = _text(json_input(request, "FinanceRejectIn"), "reason")
    try:
        reject(order=order, reason=reason, user=request.user)
    except DomainError as exc:
        return error(str(exc), 409)
    return _answer(order)


_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_NUMBER = [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}]


def _path(summary: str, schema: str, done: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "parameters": _NUMBER,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
            },
            "responses": {
                "200": {
                    "description": done,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FinanceReviewed"}}},
                },
                "400": _ERR,
                "401": _ERR,
                "403": _ERR,
                "404": _ERR,
                "409": {"description": "The order is not held for finance review", **_ERR},
            },
        }
    }


def _closed(name: str, why: str) -> dict:
    return {
        "type": "object",
        "required": [name],
        "additionalProperties": False,
        "description": "A key not listed here is refused: 400 naming it, nothing changed.",
        "properties": {name: {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "description": why}},
    }


register_openapi(
    schemas={
        "FinanceApproveIn": _closed("note", "Why the price is right (written on the RELEASED event)."),
        "FinanceRejectIn": _closed("reason", "Why it is rejected (the order is cancelled with it)."),
        "FinanceReviewed": {
            "type": "object",
            "properties": {
                "order": {"type": "string"},
                "status": {"type": "string"},
                "on_hold": {"type": "boolean"},
                "holds": {"type": "array", "items": {"type": "string"}, "description": "Holds still open."},
            },
        },
    },
    paths={
        "/orders/{number}/finance/approve/": _path(
            "财审: approve an order held for finance review", "FinanceApproveIn", "Approved: finance holds released"
        ),
        "/orders/{number}/finance/reject/": _path(
            "财审: reject an order held for finance review (it is cancelled)", "FinanceRejectIn", "Rejected: cancelled"
        ),
    },
)
