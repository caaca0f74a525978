"""JSON API of 买家留言 / 卖家备注 and manual tags: ``POST /api/v1/orders/<number>/tags/`` (add, remove),
``PATCH /api/v1/orders/<number>/memo/`` (seller memo and flag), ``GET /api/v1/tags/`` (tags with counts).
The order's JSON (orders/views/api_order_json.py ``order_json``) shows the fields; ``GET /api/v1/orders/?tag=``
filters."""

from django.http import JsonResponse

from oms.api import BadInput, api_view, error, json_input, register_openapi

from .. import selectors, services
from ..models import Order, SellerFlag


def memo_tags_json(order: Order) -> dict:
    """The fields of this feature in the order's JSON."""
    return {
        "buyer_message": order.buyer_message,
        "seller_memo": order.seller_memo,
        "seller_flag": order.seller_flag,
        "tags": order.tag_list,
        "manual_tags": order.manual_tag_list,
        "removed_tags": order.removed_tag_list,
    }


def tag_filter(request) -> list[str]:
    """``?tag=`` values, or BadInput for one no tag can be (a NUL, too long)."""
    tags = selectors.tag_query_values(request.GET.getlist("tag"))
    for tag in tags:
        if "\x00" in tag or len(tag) > 32:
            raise BadInput("'tag' is no tag.", [{"field": "tag", "message": "a tag has 1 to 32 characters, no NUL."}])
    return tags


def _order(number: str) -> Order | None:
    return Order.objects.select_related("channel").filter(number=number).first()


def _answer(order: Order) -> JsonResponse:
    order.refresh_from_db()
    return JsonResponse({"number": order.number, **memo_tags_json(order)})


@api_view(methods={"POST": "orders.change_order"})
def order_tags(request, number):
    """``{"add": ["vip"], "remove": ["fragile"]}``: one event when anything changed."""
    order = _order(number)
    if order is None:
        return error(f"No order {number}.", 404)
    data = json_input(request, "OrderTagsIn")
    add, remove = data.get("add", []), data.get("remove", [])
    if not add and not remove:
        raise BadInput("Name tags to add or remove.", [{"field": "add", "message": "add or remove at least one tag."}])
    try:
        services.order_tags_change(
            order=order, add=_list(add, "add"), remove=_list(remove, "remove"), user=request.user
        )
    except services.TagError as exc:
        raise BadInput(str(exc), exc.errors)
    return _answer(order)


def _list(value, field: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"'{field}' must be a list of texts.", [{"field": field, "message": "must be a list of texts."}])
    return value


@api_view(methods={"PATCH": "orders.change_order"})
def order_memo(request, number):
    """``{"seller_memo": "加急", "seller_flag": "red"}``: either or both; one event when anything changed."""
    order = _order(number)
    if order is None:
        return error(f"No order {number}.", 404)
    data = json_input(request, "OrderMemoIn")
    if not data:
        raise BadInput("Send seller_memo and/or seller_flag.", [{"field": "seller_memo", "message": "is missing."}])
    memo = data.get("seller_memo", order.seller_memo)
    flag = data.get("seller_flag")
    if memo is None:
        memo = ""
    if isinstance(flag, bool) or (flag is not None and not isinstance(flag, str | int)):
        raise BadInput("'seller_flag' must be text.", [{"field": "seller_flag", "message": "must be text."}])
    if "seller_flag" in data and flag is None:
        flag = ""
    try:
        services.order_seller_memo_set(order=order, memo=memo, flag=flag, user=request.user)
    except services.TagError as exc:
        raise BadInput(str(exc), exc.errors)
    return _answer(order)


@api_view(methods={"GET": "orders.view_order"})
def tag_list(request):
    return JsonResponse({"results": selectors.tag_counts()})


_MEMO_TAGS = {
    "type": "object",
    "properties": {
        "number": {"type": "string"},
        "buyer_message": {"type": "string"},
        "seller_memo": {"type": "string"},
        "seller_flag": {"type": "string", "enum": ["", *SellerFlag.values]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "manual_tags": {"type": "array", "items": {"type": "string"}},
        "removed_tags": {"type": "array", "items": {"type": "string"}},
    },
}
_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}
_TAG_LIST = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 32}}
_CLOSED = "A key not listed here is refused: 400 naming it, nothing changed."
_TAGS_IN = {
    "type": "object",
    "additionalProperties": False,
    "description": _CLOSED,
    "properties": {"add": _TAG_LIST, "remove": _TAG_LIST},
}
_MEMO_IN = {
    "type": "object",
    "additionalProperties": False,
    "description": _CLOSED,
    "properties": {
        "seller_memo": {"type": "string", "maxLength": 2000},
        "seller_flag": {
            "type": "string",
            "description": "red, yellow, green, blue, purple; Taobao's 1-5; empty or 0: none",
        },
    },
}


def _json(schema) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


register_openapi(
    schemas={"OrderMemoTags": _MEMO_TAGS, "OrderTagsIn": _TAGS_IN, "OrderMemoIn": _MEMO_IN},
    paths={
        "/orders/{number}/tags/": {
            "post": {
                "summary": "Add and remove manual tags (kept apart from the rules' tags)",
                "parameters": [_NUMBER],
                "requestBody": {
                    "required": True,
                    **_json({"$ref": "#/components/schemas/OrderTagsIn"}),
                },
                "responses": {
                    "200": {
                        "description": "The order's tags now",
                        **_json({"$ref": "#/components/schemas/OrderMemoTags"}),
                    },
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "404": _ERR,
                },
            }
        },
        "/orders/{number}/memo/": {
            "patch": {
                "summary": "Set the seller memo (卖家备注) and flag (旗帜)",
                "parameters": [_NUMBER],
                "requestBody": {
                    "required": True,
                    **_json({"$ref": "#/components/schemas/OrderMemoIn"}),
                },
                "responses": {
                    "200": {
                        "description": "The order's memo now",
                        **_json({"$ref": "#/components/schemas/OrderMemoTags"}),
                    },
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "404": _ERR,
                },
            }
        },
        "/tags/": {
            "get": {
                "summary": "Every order tag in use, with counts",
                "responses": {
                    "200": {
                        "description": "Tags, most used first",
                        **_json(
                            {
                                "type": "object",
                                "properties": {
                                    "results": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "tag": {"type": "string"},
                                                "orders": {"type": "integer"},
                                                "open": {"type": "integer"},
                                                "manual": {"type": "integer"},
                                            },
                                        },
                                    }
                                },
                            }
                        ),
                    },
                    "401": _ERR,
                },
            }
        },
    },
)
