"""JSON API of logistics: POST /api/v1/shipments/<number>/ship-external/ ships a packed shipment under a tracking
number from a label made elsewhere (logistics/external_labels.py)."""

from django.http import JsonResponse

from fulfillment.models import Shipment
from oms.api import api_view, error, json_input, register_openapi
from oms.errors import DomainError

from . import external_labels
from .external_labels import ExternalLabelError


def parcel_json(parcel) -> dict:
    return {
        "shipment": parcel.shipment.number,
        "shipment_status": parcel.shipment.status,
        "order": parcel.shipment.order.number,
        "carrier": parcel.service.carrier.code,
        "carrier_name": parcel.carrier_display,
        "service": parcel.service.code,
        "tracking_number": parcel.tracking_number,
        "external_label": parcel.external_label,
        "label_url": None,
        "expected_delivery": parcel.expected_delivery.isoformat() if parcel.expected_delivery else None,
    }


@api_view(methods={"POST": "fulfillment.pack_shipment"})
def shipment_ship_external(request, number):
    shipment = None
    if "\x00" not in number and len(number) <= 40:
        shipment = Shipment.objects.select_related("order").filter(number=number).first()
    if shipment is None:
        return error("No such shipment.", 404)
    data = json_input(request, "ShipExternalIn")
    errors = []
    try:
        tracking_number = external_labels.tracking_number_clean(data.get("tracking_number"))
    except ExternalLabelError as exc:
        errors.append({"field": exc.field, "message": str(exc)})
    try:
        carrier, carrier_name = external_labels.carrier_resolve(data.get("carrier"), data.get("carrier_name", ""))
    except ExternalLabelError as exc:
        errors.append({"field": exc.field, "message": str(exc)})
    if errors:
        return error("Invalid input.", 400, errors)
    try:
        parcel = external_labels.shipment_ship_external(
            shipment=shipment,
            carrier=carrier,
            carrier_name=carrier_name,
            tracking_number=tracking_number,
            user=request.user,
        )
    except ExternalLabelError as exc:
        if exc.field:
            return error("Invalid input.", 400, [{"field": exc.field, "message": str(exc)}])
        return error(str(exc), 409)
    except DomainError as exc:
        return error(str(exc), 409)
    parcel.shipment.refresh_from_db()
    return JsonResponse(parcel_json(parcel), status=201)


_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

register_openapi(
    schemas={
        "ShipExternalIn": {
            "type": "object",
            "required": ["carrier", "tracking_number"],
            "additionalProperties": False,
            "description": "A key not listed here is refused: 400 naming it, nothing changed.",
            "properties": {
                "carrier": {
                    "type": "string",
                    "description": "An active carrier's code, or 'other' (then give carrier_name).",
                },
                "carrier_name": {"type": "string", "maxLength": 100, "description": "The carrier's name with 'other'."},
                "tracking_number": {
                    "type": "string",
                    "description": "Trimmed, inner spaces dropped, upper-cased; then 6-40 of A-Z, 0-9 and '-'. "
                    "A number already on a parcel is refused.",
                },
            },
        },
        "ExternalParcel": {
            "type": "object",
            "properties": {
                "shipment": {"type": "string"},
                "shipment_status": {"type": "string"},
                "order": {"type": "string"},
                "carrier": {"type": "string"},
                "carrier_name": {"type": "string"},
                "service": {"type": "string"},
                "tracking_number": {"type": "string"},
                "external_label": {"type": "boolean"},
                "label_url": {"type": "null", "description": "No OMS label: it was made elsewhere."},
                "expected_delivery": {"type": ["string", "null"], "format": "date"},
            },
        },
    },
    paths={
        "/shipments/{number}/ship-external/": {
            "post": {
                "summary": "Ship a packed shipment under a tracking number from a label made elsewhere",
                "description": "No label is bought or drawn. Stock leaves on hand and the reservation, the order "
                "moves on, the customer is told as usual; tracking pushes for the number find the parcel.",
                "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ShipExternalIn"}}},
                },
                "responses": {
                    "201": {
                        "description": "Shipped",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExternalParcel"}}},
                    },
                    "400": {**_ERR, "description": "Bad input, with errors per field (a used number among them)"},
                    "401": _ERR,
                    "403": _ERR,
                    "404": _ERR,
                    "409": {**_ERR, "description": "The shipment is not packed, is on hold or has a parcel already"},
                },
            }
        }
    },
)
