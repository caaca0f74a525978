"""JSON API for stock: GET /api/v1/stock/ (per SKU and location)."""

from django.http import JsonResponse

from oms.api import api_view, page, register_openapi

from .selectors import stock_list


def stock_json(stock) -> dict:
    return {
        "sku": stock.product.sku,
        "location": stock.location.code,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "available": stock.on_hand - stock.reserved,
        "bin": stock.bin,
        "updated_at": stock.updated_at.isoformat(),
    }


@api_view(methods={"GET": "inventory.view_stock"})
def stock_collection(request):
    queryset = stock_list().order_by("product__sku", "location__code")
    if request.GET.get("sku"):
        queryset = queryset.filter(product__sku=request.GET["sku"])
    if request.GET.get("location"):
        queryset = queryset.filter(location__code=request.GET["location"])
    return JsonResponse(page(request, queryset, stock_json, default_limit=200, max_limit=2000))


register_openapi(
    schemas={
        "Stock": {
            "type": "object",
            "properties": {
                "sku": {"type": "string"},
                "location": {"type": "string"},
                "on_hand": {"type": "integer"},
                "reserved": {"type": "integer"},
                "available": {"type": "integer"},
                "bin": {"type": "string"},
                "updated_at": {"type": "string", "format": "date-time"},
            },
        }
    },
    paths={
        "/stock/": {
            "get": {
                "summary": "Stock per SKU and location",
                "parameters": [
                    *[{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("sku", "location")],
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2000}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                ],
                "responses": {
                    "200": {
                        "description": "A page of stock rows",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Stock"}},
                                        "next": {"type": ["string", "null"]},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        }
    },
)
