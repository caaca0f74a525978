"""The fake Shopify's HTTP server (tests/connectors/fake_shopify.py has the shop's state and operations):
``with FakeShopify() as fake:`` answers ``POST /admin/api/<version>/graphql.json`` on loopback as Shopify does,
the wrong token, the scripted failures (``shop.fail_next``) and the API version's arguments (``orderCancel``)
included."""

from __future__ import annotations

import copy
import json
import re
import time
from http.server import BaseHTTPRequestHandler

from . import fake_shopify_cancel as cancel
from . import fake_shopify_refunds as refunds
from .fake_http import LoopbackServer
from .fake_shopify import OPERATIONS, TOKEN, Shop

COST = {
    "requestedQueryCost": 752,
    "actualQueryCost": None,
    "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 652, "restoreRate": 50.0},
}


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
        match = re.search(r"(?:query|mutation)\s+(\w+)", query)
        name = match.group(1) if match else ""
        shop = self.shop
        with shop.lock:
            shop.requests.append((name, copy.deepcopy(variables)))
            failure = shop.failures.pop(0) if shop.failures else None
        if self.headers.get("X-Shopify-Access-Token") != TOKEN:
            return self._answer(
                401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
            )
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
                        "extensions": {"cost": COST},
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
        operation = OPERATIONS.get(name)
        if operation is None:
            return self._answer(
                200, {"errors": [{"message": f"Unknown operation {name!r}", "extensions": {"code": "undefinedField"}}]}
            )
        with shop.lock:
            try:
                data = operation(shop, variables)
            except refunds.InvalidVariable as exc:  # GraphQL's own check of the input's fields and types
                return self._answer(
                    200, {"errors": [{"message": str(exc), "extensions": {"code": "INVALID_VARIABLE"}}]}
                )
        self._answer(
            200,
            {
                "data": data,
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 10,
                        "actualQueryCost": 10,
                        "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 990, "restoreRate": 50.0},
                    }
                },
            },
            headers,
        )


class FakeShopify(LoopbackServer):
    """``with FakeShopify() as fake:`` serves on 127.0.0.1 at ``fake.base_url``; ``fake.shop`` is its state."""

    def __init__(self):
        self.shop = Shop()
        super().__init__(Handler, shop=self.shop)
