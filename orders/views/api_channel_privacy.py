"""JSON API of a channel's 隐私面单 (privacy waybill) setting: ``GET`` and ``PATCH /api/v1/channels/<slug>/privacy/``
(``{"mask_recipient": true}``: its labels and packing slips print the recipient's name and phone masked). The same
service as the channel page (orders/views/intake.py): ``services.channel_mask_recipient_set``, with the page's
permissions (``orders.view_channel`` to read, ``orders.change_channel`` to change)."""

from django.http import JsonResponse

from oms.api import BadInput, api_view, error, json_input, register_openapi
from oms.errors import DomainError

from .. import services
from ..models import Channel


def privacy_json(channel: Channel) -> dict:
    return {"channel": channel.slug, "mask_recipient": channel.mask_recipient}


@api_view(methods={"GET": "orders.view_channel", "PATCH": "orders.change_channel"})
def channel_privacy(request, slug):
    channel = Channel.objects.filter(slug=slug).first()
    if channel is None:
        return error(f"No channel {slug[:40]}.", 404)
    if request.method == "PATCH":
        data = json_input(request, "ChannelPrivacyIn")
        value = data.get("mask_recipient")
        if not isinstance(value, bool):
            raise BadInput(
                "mask_recipient is true or false.", [{"field": "mask_recipient", "message": "must be true or false."}]
            )
        try:
            channel = services.channel_mask_recipient_set(channel=channel, mask_recipient=value, user=request.user)
        except DomainError as exc:
            return error(str(exc), 400)
    return JsonResponse(privacy_json(channel))


_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_SLUG = [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}]
_MASK = {
    "type": "boolean",
    "description": "Labels and packing slips print the name and phone masked (王*五, 136****6000).",
}
_ANSWER = {
    "description": "The channel's setting",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChannelPrivacy"}}},
}
register_openapi(
    schemas={
        "ChannelPrivacy": {"type": "object", "properties": {"channel": {"type": "string"}, "mask_recipient": _MASK}},
        "ChannelPrivacyIn": {
            "type": "object",
            "required": ["mask_recipient"],
            "additionalProperties": False,
            "description": "A key not listed here is refused: 400 naming it, nothing changed.",
            "properties": {"mask_recipient": _MASK},
        },
    },
    paths={
        "/channels/{slug}/privacy/": {
            "get": {
                "summary": "隐私面单: a channel's privacy waybill setting",
                "parameters": _SLUG,
                "responses": {"200": _ANSWER, "401": _ERR, "403": _ERR, "404": _ERR},
            },
            "patch": {
                "summary": "隐私面单: turn a channel's privacy waybill on or off",
                "parameters": _SLUG,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChannelPrivacyIn"}}},
                },
                "responses": {"200": _ANSWER, "400": _ERR, "401": _ERR, "403": _ERR, "404": _ERR},
            },
        }
    },
)
