"""A small WooCommerce on loopback: the REST API v3 endpoints the connector uses, with WooCommerce's documented
request and response shapes (woocommerce.github.io/woocommerce-rest-api-docs) and the ways it fails.

- ``GET /wp-json/wc/v3/orders`` (``modified_after`` strictly after, ``dates_are_gmt``, ``orderby=modified``,
  ``order``, ``page``, ``per_page``, ``include``, ``status``) with ``X-WP-Total`` and ``X-WP-TotalPages``;
- ``GET``/``PUT /orders/<id>`` (``status``), ``GET``/``POST /orders/<id>/notes`` (``GET`` takes ``type``: ``any``,
  ``customer`` or ``internal``; newest first; a note is ``{id, author ("system" or the user's name),
  date_created, date_created_gmt, note, customer_note}``; ``store.add_note`` writes one as a shop person);
- ``GET``/``POST /orders/<id>/refunds`` (``amount``, ``reason``, ``line_items`` of ``{id, quantity,
  refund_total, refund_tax: [{id (the line's tax rate), refund_total}]}``, ``api_refund``, ``api_restock``): more
  than a line has left to refund (units or a rate's tax), an unknown line item, or an amount above what is left is
  400 ``woocommerce_rest_cannot_create_order_refund`` / ``Invalid refund amount.``; a ``refund_tax`` that is not
  that list, or names a rate the line has not, is 400 ``rest_invalid_param``;
- ``GET``/``POST``/``DELETE /wp-json/wc-shipment-tracking/v3/orders/<id>/shipment-trackings[/<tracking_id>]``
  (only when ``store.tracking_extension``; else 404 ``rest_no_route`` as WordPress answers);
- ``GET /products?sku=A,B``, ``POST /products/batch`` and ``/products/<id>/variations/batch``.

HTTP Basic auth with ``KEY``/``SECRET``; a wrong one is 401 ``woocommerce_rest_cannot_view``. Failures are
scripted with ``store.fail_next(kind, times=1, **options)``: ``429`` (``retry_after``), ``500``, ``401``,
``400`` (``rest_invalid_param``). Every request is recorded in ``store.requests`` as ``(method, path, params,
body)``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .fake_http import LoopbackServer

KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"
TOKEN = f"{KEY}:{SECRET}"


def _refund_tax_problem(refund_tax, line: dict, tax_refunded: dict):
    """A refund line's ``refund_tax`` as WooCommerce reads it: a list of ``{id: the line's tax rate id,
    refund_total}``; anything else is 400 ``rest_invalid_param``, more tax than the line has left is
    ``Invalid refund amount.``; None when it is right (or absent)."""
    if refund_tax is None:
        return None
    if not isinstance(refund_tax, list):
        return _error(400, "rest_invalid_param", "Invalid parameter(s): line_items")
    rates = {int(t["id"]): float(t["total"]) for t in line.get("taxes") or []}
    for entry in refund_tax:
        if not isinstance(entry, dict) or set(entry) != {"id", "refund_total"}:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): line_items")
        try:
            rate, total = int(entry["id"]), float(entry["refund_total"])
        except (TypeError, ValueError):
            return _error(400, "rest_invalid_param", "Invalid parameter(s): line_items")
        if rate not in rates:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): line_items")
        if total < 0 or total > rates[rate] - tax_refunded.get((line["id"], rate), 0.0) + 0.001:
            return _error(400, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
    return None


def woo_order(order_id: int, *, modified: str, status: str = "processing", lines=(("SKU-A", 2),), **extra) -> dict:
    """An order as ``GET /orders`` returns it (the fields the webhook parser reads)."""
    order = {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "currency": "CNY",
        "date_created_gmt": "2026-12-01T08:00:00",
        "date_modified_gmt": modified,
        "total": "176.00",
        "shipping_total": "0.00",
        "total_tax": "0.00",
        "discount_total": "0.00",
        "customer_note": "",
        "billing": {
            "first_name": "静",
            "last_name": "陈",
            "email": "chen@example.com",
            "phone": "13912345678",
            "country": "CN",
        },
        "shipping": {
            "first_name": "静",
            "last_name": "陈",
            "company": "",
            "address_1": "漕溪北路 18 号",
            "address_2": "",
            "city": "上海",
            "state": "SH",
            "postcode": "200030",
            "country": "CN",
            "phone": "13912345678",
        },
        "line_items": [
            {"id": 100 + i, "name": f"Item {sku}", "sku": sku, "quantity": qty, "price": 88, "total": f"{88 * qty}.00"}
            for i, (sku, qty) in enumerate(lines)
        ],
        "shipping_lines": [{"method_title": "Standard", "method_id": "flat_rate"}],
    }
    order.update(extra)
    return order


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.orders: dict[int, dict] = {}
        self.notes: dict[int, list[dict]] = {}
        self.trackings: dict[int, list[dict]] = {}
        self.refunds: dict[int, list[dict]] = {}
        self.products: dict[int, dict] = {}  # id -> {id, sku, type, parent_id, stock_quantity, manage_stock}
        self.tracking_extension = True
        self.providers = {"China": {"SF Express": "https://www.sf-express.com/track?id=%1$s"}}
        self.requests: list[tuple[str, str, dict, object]] = []
        self.failures: list[dict] = []
        self._ids = 5000
        self.clock = 0

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_order(self, order: dict) -> dict:
        self.orders[order["id"]] = order
        return order

    def add_product(self, pid: int, sku: str, *, parent: int = 0) -> None:
        self.products[pid] = {
            "id": pid,
            "sku": sku,
            "type": "variation" if parent else "simple",
            "parent_id": parent,
            "stock_quantity": None,
            "manage_stock": False,
        }

    def fail_next(self, kind: str, times: int = 1, **options) -> None:
        for _ in range(times):
            self.failures.append({"kind": kind, **options})

    def calls(self, method: str | None = None, pattern: str = "") -> list[tuple[str, str, dict, object]]:
        return [r for r in self.requests if (method is None or r[0] == method) and re.search(pattern, r[1])]

    def _touch(self, order: dict) -> None:
        self.clock += 1
        order["date_modified_gmt"] = f"2026-12-06T00:00:{self.clock:02d}"

    # ---- routes ----------------------------------------------------------------------------------------

    def list_orders(self, q: dict):
        orders = list(self.orders.values())
        if q.get("modified_after"):
            orders = [o for o in orders if o["date_modified_gmt"] > q["modified_after"][:19]]
        if q.get("include"):
            ids = {int(i) for i in q["include"].split(",")}
            orders = [o for o in orders if o["id"] in ids]
        if q.get("status") and q["status"] != "any":
            orders = [o for o in orders if o["status"] in q["status"].split(",")]
        key = (lambda o: (o["date_modified_gmt"], o["id"])) if q.get("orderby") == "modified" else (lambda o: o["id"])
        orders.sort(key=key, reverse=q.get("order", "desc") == "desc")
        return self._page(orders, q)

    def _page(self, items: list, q: dict):
        per_page, page = int(q.get("per_page", 10)), int(q.get("page", 1))
        total_pages = max(1, -(-len(items) // per_page))
        return (
            200,
            copy.deepcopy(items[(page - 1) * per_page : page * per_page]),
            {
                "X-WP-Total": str(len(items)),
                "X-WP-TotalPages": str(total_pages),
            },
        )

    def order(self, oid: int):
        if oid not in self.orders:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return 200, copy.deepcopy(self.orders[oid]), {}

    def update_order(self, oid: int, body: dict):
        if oid not in self.orders:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        statuses = {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}
        if "status" in body and body["status"] not in statuses:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): status", params={"status": "invalid"})
        self.orders[oid].update(body)
        self._touch(self.orders[oid])
        return 200, copy.deepcopy(self.orders[oid]), {}

    def add_note(self, oid: int, note: str, *, customer_note: bool = False, author: str = "shop_admin", at: str = ""):
        """A note as a person in the shop's admin writes it (``author`` is their user name)."""
        self.clock += 1
        when = at or f"2026-12-05T09:00:{self.clock:02d}"
        self.notes.setdefault(oid, []).append(
            {
                "id": self.next_id(),
                "author": author,
                "date_created": when,
                "date_created_gmt": when,
                "note": note,
                "customer_note": customer_note,
            }
        )

    def notes_of(self, oid: int, body=None, q: dict | None = None):
        if oid not in self.orders:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        if body is None:
            kind = (q or {}).get("type", "any")
            if kind not in ("any", "customer", "internal"):
                return _error(400, "rest_invalid_param", "Invalid parameter(s): type", params={"type": "invalid"})
            notes = [n for n in self.notes.get(oid, []) if kind == "any" or n["customer_note"] == (kind == "customer")]
            return 200, copy.deepcopy(list(reversed(notes))), {}
        if not str(body.get("note") or "").strip():
            return _error(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
        note = {
            "id": self.next_id(),
            "author": "system",
            "date_created_gmt": "2026-12-06T00:00:00",
            "note": body["note"],
            "customer_note": bool(body.get("customer_note")),
            "added_by_user": False,
        }
        self.notes.setdefault(oid, []).append(note)
        return 201, copy.deepcopy(note), {}

    def refunds_of(self, oid: int, body=None):
        if oid not in self.orders:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        done = self.refunds.setdefault(oid, [])
        if body is None:
            return 200, copy.deepcopy(list(reversed(done))), {}
        lines = {li["id"]: li for li in self.orders[oid]["line_items"]}
        refunded: dict[int, int] = {}
        tax_refunded: dict[tuple[int, int], float] = {}  # (line, tax rate) -> refunded
        for refund in done:
            for li in refund["line_items"]:
                refunded[li["id"]] = refunded.get(li["id"], 0) - li["quantity"]  # stored negative, as WooCommerce
                for tax in li.get("taxes") or []:
                    key = (li["id"], tax["id"])
                    tax_refunded[key] = tax_refunded.get(key, 0.0) - float(tax["total"])
        for item in body.get("line_items") or []:
            line = lines.get(item.get("id"))
            if line is None or int(item.get("quantity") or 0) > line["quantity"] - refunded.get(line["id"], 0):
                return _error(400, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
            problem = _refund_tax_problem(item.get("refund_tax"), line, tax_refunded)
            if problem:
                return problem
        paid = float(self.orders[oid]["total"]) - sum(float(r["amount"]) for r in done)
        amount = float(body.get("amount") or 0)
        if amount < 0 or amount > paid + 0.001:
            return _error(400, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        refund = {
            "id": self.next_id(),
            "date_created_gmt": "2026-12-07T10:00:00",
            "amount": f"{amount:.2f}",
            "reason": str(body.get("reason") or ""),
            "refunded_by": 1,
            "refunded_payment": bool(body.get("api_refund", True)),
            "line_items": [
                {
                    "id": self.next_id(),
                    "name": lines[i["id"]]["name"],
                    "product_id": 0,
                    "quantity": -int(i["quantity"]),
                    "total": f"-{float(i.get('refund_total') or 0):.2f}",
                    "total_tax": f"-{sum(float(t['refund_total']) for t in i.get('refund_tax') or []):.2f}",
                    "taxes": [
                        {"id": int(t["id"]), "total": f"-{float(t['refund_total']):.2f}"}
                        for t in i.get("refund_tax") or []
                    ],
                    "sku": lines[i["id"]]["sku"],
                    "refunded_item_id": i["id"],
                }
                for i in body.get("line_items") or []
            ],
            "api_restock": body.get("api_restock", True),
        }
        for li in refund["line_items"]:
            li["id"] = li.pop("refunded_item_id")  # kept as the order line's id in this fake's bookkeeping
        done.append(refund)
        self._touch(self.orders[oid])
        return 201, copy.deepcopy(refund), {}

    def trackings_of(self, oid: int, body=None, delete: str = ""):
        if not self.tracking_extension:
            return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
        if oid not in self.orders:
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        items = self.trackings.setdefault(oid, [])
        if delete:
            kept = [t for t in items if t["tracking_id"] != delete]
            if len(kept) == len(items):
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid tracking ID.")
            gone = next(t for t in items if t["tracking_id"] == delete)
            self.trackings[oid] = kept
            return 200, gone, {}
        if body is None:
            return 200, copy.deepcopy(items), {}
        if not body.get("tracking_number"):
            return _error(400, "rest_missing_callback_param", "Missing parameter(s): tracking_number")
        if not (body.get("tracking_provider") or body.get("custom_tracking_provider")):
            return _error(400, "rest_invalid_param", "Invalid parameter(s): tracking_provider")
        number = body["tracking_number"]
        item = {
            "tracking_id": hashlib.md5(f"{oid}:{number}:{len(items)}".encode()).hexdigest(),  # noqa: S324
            "tracking_provider": body.get("tracking_provider") or body.get("custom_tracking_provider"),
            "tracking_link": (
                body.get("custom_tracking_link") or self._provider_link(body.get("tracking_provider"))
            ).replace("%1$s", number),
            "tracking_number": number,
            "date_shipped": body.get("date_shipped") or "2026-12-06",
        }
        items.append(item)
        return 201, copy.deepcopy(item), {}

    def _provider_link(self, name) -> str:
        for group in self.providers.values():
            if name in group:
                return group[name]
        return ""

    def products_by_sku(self, q: dict):
        skus = set((q.get("sku") or "").split(",")) - {""}
        found = [p for p in sorted(self.products.values(), key=lambda p: p["id"]) if not skus or p["sku"] in skus]
        return self._page(found, q)

    def batch(self, body: dict, parent: int = 0):
        updates = body.get("update") or []
        if len(updates) > 100:
            return _error(413, "woocommerce_rest_request_entity_too_large", "Unable to accept more than 100 items.")
        result = []
        for item in updates:
            product = self.products.get(int(item.get("id") or 0))
            if product is None or product["parent_id"] != parent:
                code = (
                    "woocommerce_rest_product_variation_invalid_id" if parent else "woocommerce_rest_product_invalid_id"
                )
                result.append(
                    {"id": item.get("id"), "error": {"code": code, "message": "Invalid ID.", "data": {"status": 400}}}
                )
                continue
            for field in ("stock_quantity", "manage_stock"):
                if field in item:
                    product[field] = item[field]
            result.append(copy.deepcopy(product))
        return 200, {"update": result}, {}


def _error(status: int, code: str, message: str, **data):
    return status, {"code": code, "message": message, "data": {"status": status, **data}}, {}


ROUTES = [
    (
        "GET",
        r"/wp-json/wc-shipment-tracking/v3/shipment-trackings/providers",
        lambda s, m, q, b: (
            (200, copy.deepcopy(s.providers), {})
            if s.tracking_extension
            else _error(404, "rest_no_route", "No route was found matching the URL and request method.")
        ),
    ),
    ("GET", r"/wp-json/wc/v3/orders", lambda s, m, q, b: s.list_orders(q)),
    ("GET", r"/wp-json/wc/v3/orders/(\d+)", lambda s, m, q, b: s.order(int(m[1]))),
    ("PUT", r"/wp-json/wc/v3/orders/(\d+)", lambda s, m, q, b: s.update_order(int(m[1]), b)),
    ("GET", r"/wp-json/wc/v3/orders/(\d+)/notes", lambda s, m, q, b: s.notes_of(int(m[1]), q=q)),
    ("POST", r"/wp-json/wc/v3/orders/(\d+)/notes", lambda s, m, q, b: s.notes_of(int(m[1]), b)),
    ("GET", r"/wp-json/wc/v3/orders/(\d+)/refunds", lambda s, m, q, b: s.refunds_of(int(m[1]))),
    ("POST", r"/wp-json/wc/v3/orders/(\d+)/refunds", lambda s, m, q, b: s.refunds_of(int(m[1]), b)),
    (
        "GET",
        r"/wp-json/wc-shipment-tracking/v3/orders/(\d+)/shipment-trackings",
        lambda s, m, q, b: s.trackings_of(int(m[1])),
    ),
    (
        "POST",
        r"/wp-json/wc-shipment-tracking/v3/orders/(\d+)/shipment-trackings",
        lambda s, m, q, b: s.trackings_of(int(m[1]), b),
    ),
    (
        "DELETE",
        r"/wp-json/wc-shipment-tracking/v3/orders/(\d+)/shipment-trackings/(\w+)",
        lambda s, m, q, b: s.trackings_of(int(m[1]), delete=m[2]),
    ),
    ("GET", r"/wp-json/wc/v3/products", lambda s, m, q, b: s.products_by_sku(q)),
    ("POST", r"/wp-json/wc/v3/products/batch", lambda s, m, q, b: s.batch(b)),
    ("POST", r"/wp-json/wc/v3/products/(\d+)/variations/batch", lambda s, m, q, b: s.batch(b, int(m[1]))),
]

AUTH = "Basic " + base64.b64encode(TOKEN.encode()).decode()


class _Handler(BaseHTTPRequestHandler):
    store: Store
    protocol_version = "HTTP/1.1"
    wbufsize = 65536
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self):
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        store = self.store
        with store.lock:
            store.requests.append((self.command, parts.path, query, copy.deepcopy(body)))
            failure = store.failures.pop(0) if store.failures else None
        if self.headers.get("Authorization") != AUTH:
            return self._answer(*_error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")[:2])
        if failure:
            kind = failure["kind"]
            if kind == "429":
                status, err, _h = _error(429, "too_many_requests", "Too many requests.")
                return self._answer(status, err, {"Retry-After": str(failure.get("retry_after", "2"))})
            if kind == "500":
                return self._answer(
                    *_error(500, "internal_server_error", "There has been a critical error on this website.")[:2]
                )
            if kind == "401":
                return self._answer(
                    *_error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")[:2]
                )
            if kind == "400":
                return self._answer(
                    *_error(400, "rest_invalid_param", failure.get("message", "Invalid parameter(s): status"))[:2]
                )
        for method, pattern, route in ROUTES:
            match = re.fullmatch(pattern, parts.path)
            if method == self.command and match:
                with store.lock:
                    status, answer, headers = route(
                        store, match, query, body or {} if method in ("POST", "PUT") else None
                    )
                return self._answer(status, answer, headers)
        return self._answer(
            *_error(404, "rest_no_route", "No route was found matching the URL and request method.")[:2]
        )

    do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815


class FakeWooCommerce(LoopbackServer):
    """``with FakeWooCommerce() as fake:`` serves on 127.0.0.1 at ``fake.base_url``; ``fake.store`` is its state."""

    def __init__(self):
        self.store = Store()
        super().__init__(_Handler, store=self.store)
