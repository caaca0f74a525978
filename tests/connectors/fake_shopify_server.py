"""The fake Shopify's HTTP server (tests/connectors/fake_shopify.py has the shop's state and operations):
``with FakeShopify() as fake:`` answers ``POST /admin/api/<version>/graphql.json`` on loopback as Shopify does,
the wrong token, the scripted failures (``shop.fail_next``) and the API version's arguments (``orderCancel``)
included.

The document is parsed with graphql-core: the operation is known by its name, and a mutation made of several
(aliased) ``fulfillmentCreate`` fields, each reading its input from its own variable, is run field by field,
each alias answered with its own ``userErrors`` (as Shopify runs a multi-mutation document). Every answer carries
``extensions.cost``: the requested cost by Shopify's documented rules (fake_shopify_cost.py); a document over
1,000 points is answered ``MAX_COST_EXCEEDED`` and not run (``shop.costs`` records each request's cost). With
``shop.bucket`` set (``shop.set_bucket``) a request costing more than the bucket holds is answered
THROTTLED with the bucket's ``throttleStatus``, as Shopify's leaky bucket does."""

from __future__ import annotations

import copy
import json
import re
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler

from graphql import FieldNode, OperationDefinitionNode, VariableNode, parse

from . import fake_shopify_cancel as cancel
from . import fake_shopify_refunds as refunds
from .fake_http import LoopbackServer
from .fake_shopify import OPERATIONS, TOKEN, Shop
from .fake_shopify_cost import MAX_COST, max_cost_exceeded, requested_cost

COST = {
    "requestedQueryCost": 752,
    "actualQueryCost": None,
    "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 652, "restoreRate": 50.0},
}


@lru_cache(maxsize=256)
def _operation(query: str) -> OperationDefinitionNode | None:
    try:
        document = parse(query)
    except Exception:  # noqa: BLE001 (a syntax error is answered as Shopify does, below)
        return None
    return next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None)


def fulfillment_creates(operation: OperationDefinitionNode, variables: dict) -> list[tuple[str, dict]] | None:
    """(alias, its FulfillmentInput) of a mutation made of ``fulfillmentCreate`` fields only; None otherwise."""
    fields = [f for f in operation.selection_set.selections if isinstance(f, FieldNode)]
    if (
        operation.operation.value != "mutation"
        or not fields
        or any(f.name.value != "fulfillmentCreate" for f in fields)
    ):
        return None
    creates = []
    for f in fields:
        argument = next(a for a in f.arguments if a.name.value == "fulfillment")
        value = argument.value
        creates.append(
            ((f.alias or f.name).value, variables[value.name.value] if isinstance(value, VariableNode) else {})
        )
    return creates


class Handler(BaseHTTPRequestHandler):
    shop: Shop
    protocol_version = "HTTP/1.1"  # keep-alive, as Shopify does
    wbufsize = 65536  # the status line, headers and body leave in one write (no delayed-ACK stalls)
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status: int, body: dict | None, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def do_POST(self):  # noqa: N802 (the stdlib's name)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not re.fullmatch(r"/admin/api/[0-9a-z-]+/graphql\.json", self.path):
            return self._answer(404, {"errors": "Not Found"})
        query, variables = body.get("query", ""), body.get("variables") or {}
        operation = _operation(query)
        if operation is None:
            return self._answer(200, {"errors": [{"message": "syntax error", "extensions": {"code": "PARSE"}}]})
        name = operation.name.value if operation.name else ""
        shop = self.shop
        requested = requested_cost(operation, variables)
        with shop.lock:
            shop.requests.append((name, copy.deepcopy(variables)))
            shop.costs.append((name, requested))
            if requested > MAX_COST:  # refused before it runs: nothing done, nothing taken from the bucket
                return self._answer(200, max_cost_exceeded(requested))
            failure = shop.take_failure(name)
            cost = shop.spend(requested)
        if self.headers.get("X-Shopify-Access-Token") != TOKEN:
            return self._answer(
                401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
            )
        if failure is None and cost.get("actualQueryCost") is None:  # the bucket holds less than it costs
            failure = {"kind": "throttled", "cost": cost}
        refuse = None  # a user_error of one alias of a multi-fulfillmentCreate document
        if failure and failure["kind"] == "user_error" and failure.get("alias"):
            refuse, failure = failure, None
        if failure:
            kind = failure["kind"]
            if kind == "429":
                return self._answer(
                    429,
                    {
                        "errors": "Exceeded 2 calls per second for api client. "
                        "Reduce request rates to resume uninterrupted service."
                    },
                    {"Retry-After": str(failure.get("retry_after", "2.0"))},
                )
            if kind == "throttled":
                return self._answer(
                    200,
                    {
                        "errors": [
                            {
                                "message": "Throttled",
                                "extensions": {
                                    "code": "THROTTLED",
                                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                                },
                            }
                        ],
                        "extensions": {"cost": failure.get("cost") or COST},
                    },
                )
            if kind == "500":
                return self._answer(500, {"errors": "Internal Server Error"})
            if kind == "401":
                return self._answer(
                    401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
                )
            if kind == "timeout":
                time.sleep(failure.get("seconds", 1.0))
            if kind == "user_error":
                field = {"FulfillmentCreate": "fulfillmentCreate", "InventorySet": "inventorySetQuantities"}.get(
                    name, name
                )
                return self._answer(
                    200,
                    {
                        "data": {
                            field: {
                                "fulfillment": None,
                                "userErrors": [
                                    {"field": ["fulfillment"], "message": failure.get("message", "Invalid.")}
                                ],
                            }
                        }
                    },
                )
        headers = {}
        if name == "OrderCancel":  # what the URL's API version defines (fake_shopify_cancel.py)
            version = cancel.version_of(self.path)
            if errors := cancel.argument_errors(version, query, variables):
                return self._answer(200, {"errors": errors})
            if cancel.uses_deprecated_refund(version, query):
                with shop.lock:
                    shop.deprecated.append((name, "refund"))
                headers["X-Shopify-API-Deprecated-Reason"] = cancel.DEPRECATED_REASON
        creates = fulfillment_creates(operation, variables)
        run = OPERATIONS.get(name)
        if run is None and creates is None:
            return self._answer(
                200, {"errors": [{"message": f"Unknown operation {name!r}", "extensions": {"code": "undefinedField"}}]}
            )
        with shop.lock:
            try:
                data = run(shop, variables) if creates is None else self._creates(creates, refuse)
            except refunds.InvalidVariable as exc:  # GraphQL's own check of the input's fields and types
                return self._answer(
                    200, {"errors": [{"message": str(exc), "extensions": {"code": "INVALID_VARIABLE"}}]}
                )
        if failure and failure["kind"] == "drop":  # done, and the answer lost on the way back
            self.close_connection = True
            return None
        if failure and failure["kind"] == "late":  # done at once, answered ``seconds`` later
            time.sleep(failure.get("seconds", 1.0))
        self._answer(200, {"data": data, "extensions": {"cost": cost}}, headers)

    def _creates(self, creates: list[tuple[str, dict]], refuse: dict | None) -> dict:
        """Each alias's ``fulfillmentCreate`` in turn, with its own userErrors (a scripted ``user_error`` with
        ``alias`` refuses that one only)."""
        data = {}
        for alias, fulfillment in creates:
            if refuse and refuse.get("alias") == alias:
                message = refuse.get("message", "Invalid.")
                data[alias] = {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": message}]}
                continue
            data[alias] = self.shop.fulfillment_create({"fulfillment": fulfillment})["fulfillmentCreate"]
        return data


class FakeShopify(LoopbackServer):
    """``with FakeShopify() as fake:`` serves on 127.0.0.1 at ``fake.base_url``; ``fake.shop`` is its state."""

    def __init__(self):
        self.shop = Shop()
        super().__init__(Handler, shop=self.shop)
