"""JSON API of the automatic merge rule (自动合单): ``GET /api/v1/merge-settings/`` and ``PATCH`` (the keys given
change, the others stay). The same service as Settings › Automatic merge (orders/views/merge.py):
``services.merge_settings_set``, with the page's permission (``orders.change_mergesettings``) for both."""

from django.http import JsonResponse

from oms.api import BadInput, api_view, error, json_input, register_openapi
from oms.errors import DomainError

from .. import services
from ..models import Channel, MergeSettings

MAX_WINDOW = 1440
TAGS_LENGTH = 255  # MergeSettings.exclude_tags


def merge_settings_json(settings: MergeSettings) -> dict:
    saved = MergeSettings.objects.filter(pk=settings.pk).exists()  # current(): an unsaved default until the first save
    channels = sorted(settings.disabled_channels.values_list("slug", flat=True)) if saved else []
    return {
        "enabled": settings.enabled,
        "window_minutes": settings.window_minutes,
        "wait_minutes": settings.wait_minutes,
        "exclude_tags": settings.exclude_tag_list,
        "disabled_channels": channels,
    }


def _whole(data: dict, name: str, current: int, low: int, high: int, errors: list[dict]) -> int:
    if name not in data:
        return current
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append({"field": name, "message": f"must be a whole number from {low} to {high}."})
        return current
    return value


def _changes(data: dict, settings: MergeSettings) -> dict:
    """The service's arguments: the current rule with the body's keys over it; BadInput naming every bad one."""
    errors: list[dict] = []
    enabled = data.get("enabled", settings.enabled)
    if not isinstance(enabled, bool):
        errors.append({"field": "enabled", "message": "must be true or false."})
    window = _whole(data, "window_minutes", settings.window_minutes, 1, MAX_WINDOW, errors)
    wait = _whole(data, "wait_minutes", settings.wait_minutes, 0, MAX_WINDOW, errors)
    if not errors and wait > window:
        errors.append({"field": "wait_minutes", "message": f"must be at most the merge window ({window})."})
    tags = settings.exclude_tags
    if "exclude_tags" in data:
        given = data["exclude_tags"]
        if not isinstance(given, list) or not all(isinstance(t, str) and "," not in t for t in given):
            errors.append({"field": "exclude_tags", "message": "must be a list of tags (text without commas)."})
        elif len(tags := ",".join(t.strip() for t in given if t.strip())) > TAGS_LENGTH:
            errors.append({"field": "exclude_tags", "message": f"at most {TAGS_LENGTH} characters in all."})
    channels = list(settings.disabled_channels.all()) if MergeSettings.objects.filter(pk=1).exists() else []
    if "disabled_channels" in data:
        slugs = data["disabled_channels"]
        if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
            errors.append({"field": "disabled_channels", "message": "must be a list of channel slugs."})
        else:
            channels = list(Channel.objects.filter(slug__in=slugs))
            if unknown := sorted(set(slugs) - {c.slug for c in channels}):
                shown = ", ".join(s[:40] for s in unknown[:5])
                errors.append({"field": "disabled_channels", "message": f"no channel {shown}."})
    if errors:
        raise BadInput("The merge settings have errors; nothing was changed.", errors)
    return {
        "enabled": enabled,
        "window_minutes": window,
        "wait_minutes": wait,
        "exclude_tags": tags,
        "disabled_channels": channels,
    }


@api_view(methods={"GET": "orders.change_mergesettings", "PATCH": "orders.change_mergesettings"})
def merge_settings_resource(request):
    if request.method == "PATCH":
        data = json_input(request, "MergeSettingsIn")
        try:
            services.merge_settings_set(**_changes(data, MergeSettings.current()), user=request.user)
        except DomainError as exc:
            return error(str(exc), 400)
    return JsonResponse(merge_settings_json(MergeSettings.current()))


_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_FIELDS = {
    "enabled": {"type": "boolean", "description": "false: automatic merge off."},
    "window_minutes": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW},
    "wait_minutes": {"type": "integer", "minimum": 0, "maximum": MAX_WINDOW, "description": "At most the window."},
    "exclude_tags": {"type": "array", "items": {"type": "string"}, "description": "Orders so tagged never merge."},
    "disabled_channels": {"type": "array", "items": {"type": "string"}, "description": "Channel slugs left out."},
}
_ANSWER = {
    "description": "The automatic merge rule",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MergeSettings"}}},
}
register_openapi(
    schemas={
        "MergeSettings": {"type": "object", "properties": _FIELDS},
        "MergeSettingsIn": {
            "type": "object",
            "additionalProperties": False,
            "description": "The keys to change (the others stay). A key not listed here is refused: 400 naming it, "
            "nothing changed.",
            "properties": _FIELDS,
        },
    },
    paths={
        "/merge-settings/": {
            "get": {
                "summary": "自动合单: the automatic merge rule",
                "responses": {"200": _ANSWER, "401": _ERR, "403": _ERR},
            },
            "patch": {
                "summary": "自动合单: change the automatic merge rule (turn it off, its window, …)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MergeSettingsIn"}}},
                },
                "responses": {"200": _ANSWER, "400": _ERR, "401": _ERR, "403": _ERR},
            },
        }
    },
)
