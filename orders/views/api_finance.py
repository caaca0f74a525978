"""JSON API of invoices (发票): ``POST /api/v1/orders/<number>/invoice/`` and ``GET /api/v1/invoices/``.
An order's JSON carries its invoice (``invoice_json``); orders/views/api.py adds it."""

from django.http import JsonResponse

from oms.api import BadInput, api_view, error, json_body, page, register_openapi
from oms.errors import DomainError

from .. import services
from ..intake.canonical import FieldError, OrderRejected
from ..intake.invoice import INVOICE_INPUTS, parse_invoice
from ..intake.order_in import unknown_fields
from ..models import InvoiceKind, InvoiceRequest, Order
from ..status import InvoiceState


def invoice_json(request: InvoiceRequest | None) -> dict | None:
    if request is None:
        return None
    return {
        "id": request.pk,
        "order": request.order.number,
        "state": request.state,
        "kind": request.kind,
        "title_type": request.title_type,
        "title": request.title,
        "tax_id": request.tax_id,
        "email": request.email,
        "buyer_address": request.buyer_address,
        "buyer_phone": request.buyer_phone,
        "bank_name": request.bank_name,
        "bank_account": request.bank_account,
        "amount": str(request.amount),
        "source": request.source,
        "invoice_number": request.invoice_number,
        "issued_on": request.issued_on.isoformat() if request.issued_on else None,
        "reject_reason": request.reject_reason,
        "requested_at": request.created_at.isoformat(),
    }


def order_invoice(order: Order) -> dict | None:
    """The order's latest invoice request (the open one, when there is one)."""
    return invoice_json(order.invoice_requests.order_by("-pk").first())


@api_view(methods={"POST": "orders.add_invoicerequest"})
def order_invoice_resource(request, number):
    order = Order.objects.filter(number=number).first()
    if order is None:
        return error(f"No order {number}.", 404)
    try:
        data = json_body(request)
    except (ValueError, BadInput) as exc:
        return error(str(exc), 400)
    try:
        if unknown := unknown_fields(data, "InvoiceIn"):
            raise OrderRejected(unknown)
        invoice = parse_invoice(data)
        if invoice is None:
            raise OrderRejected([FieldError("invoice", "is empty: give at least the title (抬头).")])
        created = services.invoice_request(order=order, invoice=invoice, source="api", user=request.user)
    except OrderRejected as exc:
        return error("The invoice request was rejected.", 400, [e.as_dict() for e in exc.errors])
    except DomainError as exc:
        return error(str(exc), 409)
    return JsonResponse(invoice_json(created), status=201)


@api_view(methods={"GET": "orders.view_invoicerequest"})
def invoices_collection(request):
    queryset = InvoiceRequest.objects.select_related("order").order_by("-id")
    for param, field, values in (
        ("state", "state", InvoiceState.values),
        ("kind", "kind", InvoiceKind.values),
        ("channel", "order__channel__slug", None),
        ("order", "order__number", None),
    ):
        value = request.GET.get(param)
        if value:
            if values is not None and value not in values:
                return error(f"'{value[:40]}' is not a {param} ({', '.join(values)}).", 400)
            queryset = queryset.filter(**{field: value})
    return JsonResponse(page(request, queryset, invoice_json))


_TEXT = {"type": "string"}
_INVOICE_OUT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "order": _TEXT,
        "state": {"type": "string", "enum": InvoiceState.values},
        **{k: _TEXT for k in (*INVOICE_INPUTS, "source", "invoice_number", "reject_reason", "requested_at")},
        "issued_on": {"type": ["string", "null"], "format": "date"},
    },
}
_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ref(name):
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


register_openapi(
    schemas={"Invoice": _INVOICE_OUT},
    paths={
        "/orders/{number}/invoice/": {
            "post": {
                "summary": "Request an invoice (发票) on an order",
                "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, **_ref("InvoiceIn")},
                "responses": {
                    "201": {"description": "Requested", **_ref("Invoice")},
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "404": _ERR,
                    "409": {"description": "The order already has one requested or issued, or is cancelled", **_ERR},
                },
            }
        },
        "/invoices/": {
            "get": {
                "summary": "List invoice requests (the finance queue)",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": InvoiceState.values}},
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": InvoiceKind.values}},
                    {"name": "channel", "in": "query", "schema": {"type": "string"}},
                    {"name": "order", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                ],
                "responses": {
                    "200": {
                        "description": "A page of invoice requests",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Invoice"}},
                                        "next": {"type": ["string", "null"]},
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                },
            }
        },
    },
)
