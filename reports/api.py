"""JSON API of the forecast's peak calendar (reports/peaks.py): ``GET /api/v1/peak-events/?year=`` (the built-in
peaks of that year, 618, 双11, 双12 and the Spring Festival shutdown, and the shop's own events), ``POST`` (add one
of the shop's own) and ``DELETE /api/v1/peak-events/<id>/`` (remove it; a built-in one is 409). The same services
as the admin page (reports/admin.py): ``services.peak_event_save`` and ``peak_event_remove``, with its model
permissions; an admin log entry each, as the admin writes."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date

from oms.api import BadInput, api_view, error, json_input, register_openapi
from oms.errors import DomainError

from . import services
from .models import PeakEvent
from .peaks import BUILT_IN, built_in_events

YEARS = (2000, 2100)


def event_json(event: PeakEvent) -> dict:
    return {
        "id": event.pk,
        "key": f"extra:{event.pk}",
        "built_in": False,
        "name": event.name,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "uplift": str(event.uplift) if event.uplift is not None else None,
        "yearly": event.yearly,
        "active": event.active,
    }


def _calendar(year: int) -> list[dict]:
    built = [
        {
            "id": None,
            "key": e.key,
            "built_in": True,
            "name": e.name,
            "start": e.start.isoformat(),
            "end": e.end.isoformat(),
            "uplift": None,
            "default_uplift": e.default_uplift,
            "yearly": True,
            "active": True,
        }
        for e in built_in_events(year)
    ]
    return built + [event_json(e) for e in PeakEvent.objects.order_by("start", "pk")]


def _day(data: dict, name: str, errors: list[dict]) -> date | None:
    value = data.get(name)
    day = None
    if isinstance(value, str):
        try:
            day = parse_date(value)
        except ValueError:
            day = None
    if day is None:
        errors.append({"field": name, "message": "is required: a date (YYYY-MM-DD)."})
    return day


def _event_input(data: dict) -> PeakEvent:
    errors: list[dict] = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 80:
        errors.append({"field": "name", "message": "is required: text of at most 80 characters."})
    start, end = _day(data, "start", errors), _day(data, "end", errors)
    if start and end and end < start:
        errors.append({"field": "end", "message": "is before start."})
    uplift = data.get("uplift")
    if uplift is not None:
        try:
            if isinstance(uplift, bool) or not isinstance(uplift, int | float | str):
                raise InvalidOperation
            uplift = Decimal(str(uplift)).quantize(Decimal("0.01"))
            if not 0 <= uplift <= services.UPLIFT_MAX:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.append({"field": "uplift", "message": f"must be a number from 0 to {services.UPLIFT_MAX}, or null."})
    flags = {}
    for flag in ("yearly", "active"):
        flags[flag] = data.get(flag, True)
        if not isinstance(flags[flag], bool):
            errors.append({"field": flag, "message": "must be true or false."})
    if errors:
        raise BadInput("The peak event has errors; nothing was added.", errors)
    return PeakEvent(name=name, start=start, end=end, uplift=uplift, **flags)


def _log(user, event: PeakEvent, action: int) -> None:
    LogEntry.objects.log_actions(user.pk, [event], action, change_message="API", single_object=True)


@api_view(methods={"GET": "reports.view_peakevent", "POST": "reports.add_peakevent"})
def peak_events_collection(request):
    if request.method == "GET":
        raw = request.GET.get("year") or str(timezone.localdate().year)
        if not (raw.isascii() and raw.isdigit()) or not YEARS[0] <= int(raw) <= YEARS[1]:
            return error(f"year must be from {YEARS[0]} to {YEARS[1]}.", 400, [{"field": "year", "message": "a year"}])
        return JsonResponse({"year": int(raw), "events": _calendar(int(raw))})
    event = _event_input(json_input(request, "PeakEventIn"))
    try:
        event = services.peak_event_save(event=event, user=request.user)
    except DomainError as exc:
        return error(str(exc), 400)
    _log(request.user, event, ADDITION)
    return JsonResponse(event_json(event), status=201)


@api_view(methods={"DELETE": "reports.delete_peakevent"})
def peak_event_resource(request, key):
    if key in BUILT_IN:
        return error(f"{key} is built into the calendar (reports/peaks.py) and cannot be removed.", 409)
    event = PeakEvent.objects.filter(pk=int(key)).first() if key.isascii() and key.isdigit() and len(key) < 19 else None
    if event is None:
        return error(f"No peak event {key[:40]}.", 404)
    _log(request.user, event, DELETION)
    services.peak_event_remove(event=event, user=request.user)
    return HttpResponse(status=204)


_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_DAY = {"type": "string", "format": "date"}
_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer", "null"]},
        "key": {"type": "string"},
        "built_in": {"type": "boolean"},
        "name": {"type": "string"},
        "start": _DAY,
        "end": _DAY,
        "uplift": {"type": ["string", "null"]},
        "yearly": {"type": "boolean"},
        "active": {"type": "boolean"},
    },
}
register_openapi(
    schemas={
        "PeakEvent": _EVENT,
        "PeakEventIn": {
            "type": "object",
            "required": ["name", "start", "end"],
            "additionalProperties": False,
            "description": "A key not listed here is refused: 400 naming it, nothing added.",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 80},
                "start": _DAY,
                "end": _DAY,
                "uplift": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "maximum": services.UPLIFT_MAX,
                    "description": "Orders on these days ÷ a usual day; null: learned, else 1.5.",
                },
                "yearly": {"type": "boolean", "description": "On the same dates every year (default true)."},
                "active": {"type": "boolean", "description": "Default true."},
            },
        },
    },
    paths={
        "/peak-events/": {
            "get": {
                "summary": "The forecast's peak calendar: built-in peaks of a year and the shop's own events",
                "parameters": [{"name": "year", "in": "query", "schema": {"type": "integer", "minimum": 2000}}],
                "responses": {
                    "200": {
                        "description": "The calendar",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "year": {"type": "integer"},
                                        "events": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/PeakEvent"},
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                },
            },
            "post": {
                "summary": "Add a peak event (店庆, a campaign) to the forecast's calendar",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PeakEventIn"}}},
                },
                "responses": {
                    "201": {
                        "description": "Added",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PeakEvent"}}},
                    },
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                },
            },
        },
        "/peak-events/{key}/": {
            "delete": {
                "summary": "Remove a peak event of the shop's own (its id); a built-in one is 409",
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"204": {"description": "Removed"}, "401": _ERR, "403": _ERR, "404": _ERR, "409": _ERR},
            }
        },
    },
)
