"""The JSON API's shared parts: token auth, JSON errors, pagination, and the OpenAPI document
assembled from the paths each app's API module registers."""

import json
import time
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.utils import timezone, translation

from .encoding import storable
from .models import ApiToken

_paths: dict[str, dict] = {}
_schemas: dict[str, dict] = {}


def register_openapi(*, paths: dict, schemas: dict | None = None) -> None:
    _paths.update(paths)
    _schemas.update(schemas or {})


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OMS API",
            "version": "1.0.0",
            "description": "Orders, shipments and stock. Authenticate with `Authorization: Token <key>` "
            "(create a key with `manage.py create_api_token USERNAME`).",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization"}},
            "schemas": {"Error": ERROR_SCHEMA, **_schemas},
        },
        "security": [{"token": []}],
        "paths": dict(sorted(_paths.items())),
    }


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "message": {
            "type": "integer",
            "description": "Order intake only: the stored inbound message (GET /api/v1/inbound/<id>/).",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "row": {
                        "type": "null",
                        "description": "The order intake's entries only (an order, a batch's order or request, an "
                        "order's message, an invoice request): always there and null, the shape of an import's "
                        "errors, whose row is the file's. Other endpoints' entries have field and message.",
                    },
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def error(message: str, status: int, errors: list[dict] | None = None) -> JsonResponse:
    body = {"error": message}
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status)


TOKEN_CACHE_SECONDS = 10.0
_tokens: dict[str, tuple[float, object]] = {}


def tokens_forget(**kwargs) -> None:
    """Forget the cached token users (a token or user changed in this process)."""
    _tokens.clear()


def _user_for(request: HttpRequest):
    """The active user of the request's API token. A token's user and permissions are kept in this
    process for ``TOKEN_CACHE_SECONDS`` (a revoked token or a changed role takes at most that long to
    be seen by other processes; at once in this one)."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() not in ("token", "bearer") or not key.strip():
        return None
    key_hash = ApiToken.hash_key(key.strip())
    now = time.monotonic()
    hit = _tokens.get(key_hash)
    if hit is not None and hit[0] > now:
        return hit[1]
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    user = token.user
    user.get_all_permissions()  # fills the user's permission cache once, for every has_perm after
    if len(_tokens) > 1000:
        _tokens.clear()
    _tokens[key_hash] = (now + TOKEN_CACHE_SECONDS, user)
    return user


def api_view(*, methods: dict[str, str]) -> Callable:
    """Token-authenticated JSON view. ``methods`` maps each allowed method to the permission it needs."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            # The API speaks English to machines whatever the browser's language (error texts a service
            # words through gettext included); the staff pages follow the reader.
            with translation.override("en"):
                return _answer(view, methods, request, *args, **kwargs)

        wrapper.csrf_exempt = True
        wrapper.api_methods = methods  # read by tests/oms/test_api_write_keys.py: every write endpoint's door
        return wrapper

    return decorate


def _answer(view, methods: dict[str, str], request, *args, **kwargs):
    """One API call as the token's user: 401, 405, 403, or the view's answer (400 for ``BadInput``)."""
    user = _user_for(request)
    if user is None:
        return error("Authentication required: send 'Authorization: Token <key>'.", 401)
    if request.method not in methods:
        response = error(f"Method {request.method} not allowed.", 405)
        response["Allow"] = ", ".join(methods)
        return response
    if not user.has_perm(methods[request.method]):
        return error("Your role may not do this.", 403)
    request.user = user
    try:
        return view(request, *args, **kwargs)
    except BadInput as exc:
        return error(str(exc), 400, exc.errors)


class BadInput(ValueError):
    """Input the client must fix: answered 400 with ``errors`` ([{field, message}]) by ``api_view``."""

    def __init__(self, message: str, errors: list[dict] | None = None):
        self.errors = errors or []
        super().__init__(message)


def json_body(request, body: bytes | None = None) -> dict:
    """The request's JSON object, or ValueError with a message for the client."""
    raw = request.body if body is None else body
    try:
        data = json.loads(raw.decode("utf-8-sig") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"Body is not valid JSON: {exc}")
    except RecursionError:
        raise ValueError("Body is not usable JSON: it is nested too deeply.")
    if not isinstance(data, dict):
        raise ValueError("Body must be a JSON object.")
    return data


# The wording of an unknown key's error, as the order intake words it (orders/intake/words.py UNKNOWN_FIELD,
# translated on staff pages; the API answers in English).
UNKNOWN_FIELD = "unknown field; known: %(known)s."


def json_input(request, schema: dict | str, *, errors: list[dict] | None = None) -> dict:
    """The one door of a write endpoint's JSON body: the request's JSON object, checked against ``schema`` (the
    published request schema, or its name among the registered ones). BadInput (400, nothing done) for a body
    that is not a JSON object, or naming every key, at any depth, that an object of the schema with
    ``additionalProperties: false`` does not list (``items[1].qty: unknown field; known: …``).

    With ``errors`` (a list), the unknown keys are added to it instead, for an endpoint that answers every error
    at once (the gift rules); that endpoint refuses the body when the list is not empty."""
    try:
        data = json_body(request)
    except ValueError as exc:
        raise BadInput(str(exc), [{"field": "body", "message": str(exc)}])
    unknown = unknown_keys(data, schema)
    if errors is not None:
        errors += unknown
    elif unknown:
        names = ", ".join(e["field"] for e in unknown)
        raise BadInput(f"Unknown field(s): {names}. Nothing was changed.", unknown)
    return data


def unknown_keys(
    data, schema: dict | str, *, deep: bool = True, word: Callable[[str], str] | None = None
) -> list[dict]:
    """The one check of a body's keys against its published schema (``json_input``'s, and the order intake's
    through orders/intake/order_in.py): ``{field, message}`` for every key of ``data`` that ``schema`` refuses,
    an object's key its closed schema (``additionalProperties: false``) does not list, named by its path (``a.b``,
    ``items[1].c``, 1-based), shallowest first, each depth in the body's order. Keys it lists are looked into with
    their own schema (not with ``deep=False``: the top level only). ``word(known)`` words the message (default:
    ``UNKNOWN_FIELD`` in English). Values of the wrong type are the endpoint's to judge."""
    word = word or (lambda known: UNKNOWN_FIELD % {"known": known})
    errors: list[dict] = []
    level = [(data, schema, "")]
    while level:
        deeper = []
        for value, schema, path in level:
            schema = _resolved(schema)
            properties = schema.get("properties")
            if isinstance(value, dict) and isinstance(properties, dict):
                if schema.get("additionalProperties") is False:
                    if unknown := [key for key in value if key not in properties]:
                        message = word(", ".join(sorted(properties)))
                        errors += [{"field": f"{path}{shown_key(key)}", "message": message} for key in unknown]
                deeper += [
                    (inner, properties[key], f"{path}{key}.")
                    for key, inner in value.items()
                    if key in properties and isinstance(inner, dict | list)  # a scalar has no keys to judge
                ]
            elif isinstance(value, list) and isinstance(schema.get("items"), dict | str):
                items = schema["items"]
                deeper += [(item, items, f"{path.removesuffix('.')}[{i}].") for i, item in enumerate(value, start=1)]
        level = deeper if deep else []
    return errors


def _resolved(schema: dict | str) -> dict:
    """A schema given by name, or a ``$ref`` to a registered one, as the schema itself."""
    if isinstance(schema, str):
        return _schemas[schema]
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return _schemas[ref.removeprefix("#/components/schemas/")]
    return schema


def shown_key(key: str, width: int = 80) -> str:
    """A key as an error names it, as the order intake does (orders/intake/values.py ``shown``): storable (a NUL
    or a lone surrogate as U+FFFD), cut at ``width`` characters."""
    text = storable(key)
    return text if len(text) <= width else text[: width - 1] + "…"


# LIMIT and OFFSET are 64-bit in PostgreSQL and SQLite: offset + limit must stay below this.
BIGINT_MAX = 2**63 - 1


def _whole_number(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 20:
        raise BadInput(
            f"'{name}' must be a whole number.", [{"field": name, "message": f"must be a whole number, got {raw!r}."}]
        )
    value = int(text)
    if not low <= value <= high:
        raise BadInput(
            f"'{name}' is out of range.", [{"field": name, "message": f"must be from {low} to {high}, got {value}."}]
        )
    return value


def page(request, queryset, serialize: Callable, *, default_limit: int = 50, max_limit: int = 500) -> dict:
    """Limit/offset pagination without an exact count (one extra row tells if there is more).

    A ``limit`` outside 1..max_limit or an ``offset`` that is negative, not a whole number or past
    what the database counts in (64 bits) is BadInput (400), never clamped silently."""
    limit = _whole_number(request, "limit", default_limit, 1, max_limit)
    offset = _whole_number(request, "offset", 0, 0, BIGINT_MAX - max_limit - 1)
    rows = list(queryset[offset : offset + limit + 1])
    more = len(rows) > limit
    query = request.GET.copy()
    query["offset"] = offset + limit
    query["limit"] = limit
    return {
        "results": [serialize(row) for row in rows[:limit]],
        "next": f"{request.path}?{query.urlencode()}" if more else None,
    }


def schema_view(request):
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 2})
