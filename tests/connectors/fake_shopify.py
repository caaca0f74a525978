"""A small Shopify on loopback: the Admin GraphQL operations the connector uses, with Shopify's documented
request and response shapes (shopify.dev/docs/api/admin-graphql), and the ways Shopify fails.

``POST /admin/api/<version>/graphql.json`` with ``X-Shopify-Access-Token``; the operation is recognised by its
name (``query PullOrders``, ``mutation FulfillmentCreate`` ...), its variables are read as Shopify reads them.

- ``orders(first, after, query: "updated_at:>='…'", sortKey: UPDATED_AT)`` with ``pageInfo {hasNextPage
  endCursor}`` over ``shop.orders``;
- ``order(id) { fulfillments, fulfillmentOrders { lineItems { remainingQuantity } } }``, and the same of several
  orders by ``nodes(ids:)`` (``... on Order``, at most 250 ids), each connection paged by ``first``/``after``
  (``OrderFulfillmentOrders``, ``FulfillmentOrderLines``; a pulled order's ``lineItems`` by ``OrderLineItems``);
- ``fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder, trackingInfo})``: checks each quantity against
  what remains (a ``userErrors`` entry otherwise), lowers it, closes a fully fulfilled fulfillment order;
- ``fulfillmentTrackingInfoUpdate``, ``fulfillmentCancel`` (gives the quantities back);
- ``productVariants(query: "sku:'A' OR sku:'B'")`` and ``inventorySetQuantities``.
- ``orderCancel`` by the API version in the URL: ``refund`` before 2025-07, ``refundMethod`` since
  (fake_shopify_cancel.py: a wrong argument refused with GraphQL's validation errors);

The state and the operations are here (``Shop``, ``OPERATIONS``); the HTTP server that answers them is
fake_shopify_server.py (``FakeShopify``). Failures are scripted: ``shop.fail_next(kind, times=1, **options)``
with kind ``429`` (``retry_after``), ``throttled`` (a 200 with the THROTTLED error and the cost extension),
``500``, ``401``, ``user_error`` (``message``; with ``alias``: that alias of a multi-``fulfillmentCreate``
document only), ``timeout`` (answers after ``seconds``), ``late`` (does it at once, answers after ``seconds``)
or ``drop`` (does it, then closes the connection without answering: the answer lost); ``operation=`` keeps a
failure for the next request of that name. Every request is
recorded in ``shop.requests`` as ``(operation, variables)``; a wrong token is answered 401 like Shopify does.
"""

from __future__ import annotations

import copy
import re
import threading
import time

from . import fake_shopify_cancel as cancel
from . import fake_shopify_refunds as refunds

TOKEN = "shpat_test_token_0123456789abcdef"
SHIPPING = 6.0  # every order's shipping, paid with its sale


def order_node(legacy_id: int, *, updated_at: str, lines=(("SKU-A", 2),), name: str | None = None, **extra) -> dict:
    """An Order as the orders query returns it (the fields the connector asks for)."""
    node = {
        "id": f"gid://shopify/Order/{legacy_id}",
        "legacyResourceId": str(legacy_id),
        "name": name or f"#{legacy_id}",
        "email": "chen@example.com",
        "phone": "+8613912345678",
        "createdAt": "2026-12-01T08:00:00Z",
        "updatedAt": updated_at,
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "note": None,
        "currencyCode": "CNY",
        "totalPriceSet": {"shopMoney": {"amount": "176.00", "currencyCode": "CNY"}},
        "totalTaxSet": {"shopMoney": {"amount": "0.00"}},
        "totalDiscountsSet": {"shopMoney": {"amount": "0.00"}},
        "customer": {"firstName": "静", "lastName": "陈", "email": "chen@example.com", "phone": "+8613912345678"},
        "shippingAddress": {
            "firstName": "静",
            "lastName": "陈",
            "name": "陈静",
            "company": None,
            "address1": "漕溪北路 18 号",
            "address2": None,
            "city": "上海",
            "province": "上海",
            "provinceCode": "SH",
            "zip": "200030",
            "country": "China",
            "countryCodeV2": "CN",
            "phone": "13912345678",
        },
        "shippingLines": {
            "nodes": [{"title": "Standard", "code": "std", "originalPriceSet": {"shopMoney": {"amount": "0.00"}}}]
        },
        "lineItems": {
            "nodes": [
                {
                    "sku": sku,
                    "quantity": qty,
                    "title": f"Item {sku}",
                    "originalUnitPriceSet": {"shopMoney": {"amount": "88.00"}},
                }
                for sku, qty in lines
            ]
        },
    }
    node.update(extra)
    return node


class Shop:
    """The fake shop's state; every method is called under ``lock``."""

    def __init__(self):
        self.lock = threading.Lock()
        self.orders: list[dict] = []  # order nodes for the orders query
        self.fulfillment_orders: dict[str, list[dict]] = {}  # order gid -> [{id, status, lineItems: [...]}]
        self.fulfillments: dict[str, dict] = {}  # fulfillment gid -> {id, order, status, trackingInfo, lines}
        self.variants: dict[str, str] = {}  # sku -> inventoryItem gid
        self.levels: dict[tuple[str, str], int] = {}  # (item, location) -> available
        self.requests: list[tuple[str, dict]] = []
        self.costs: list[tuple[str, int]] = []  # (operation, its requested cost) of every request
        self.failures: list[dict] = []
        self.cancelled: dict[str, dict] = {}  # order gid -> the orderCancel variables that cancelled it
        self.deprecated: list[tuple[str, str]] = []  # (operation, argument) used although deprecated at that version
        self.line_items: dict[str, list[dict]] = {}  # order gid -> [{id, sku, quantity, refundableQuantity}]
        self.refunds: dict[str, list[dict]] = {}  # order gid -> [{id, note, notify, refundLineItems, transactions}]
        self.sales: dict[str, dict] = {}  # order gid -> its sale transaction {id, gateway, amount, refunded}
        self.shipping: dict[str, dict] = {}  # order gid -> its shipping {amount, refunded}
        self._ids = 1000
        self.bucket: dict | None = None  # the leaky bucket (set_bucket); None: never throttles by itself
        # Indexes, so a request costs the same with 10 orders as with 10,000 (the bench's full size).
        self.items_by_id: dict[str, tuple[str, dict, dict]] = {}  # line item gid -> (order gid, its FO, it)
        self.fulfillments_by_order: dict[str, list[str]] = {}  # order gid -> its fulfillment gids, oldest first

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_fulfillable_order(self, legacy_id: int, lines, *, fulfillment_orders: int = 1) -> str:
        """An order Shopify can fulfil: ``lines`` [(sku, qty)] spread over ``fulfillment_orders`` orders."""
        gid = f"gid://shopify/Order/{legacy_id}"
        fos = []
        for n in range(fulfillment_orders):
            items = [
                {
                    "id": f"gid://shopify/FulfillmentOrderLineItem/{self.next_id()}",
                    "sku": sku,
                    "remainingQuantity": qty,
                    "totalQuantity": qty,
                }
                for i, (sku, qty) in enumerate(lines)
                if i % fulfillment_orders == n
            ]
            fos.append({"id": f"gid://shopify/FulfillmentOrder/{self.next_id()}", "status": "OPEN", "lineItems": items})
        self.fulfillment_orders[gid] = fos
        for fo in fos:
            for item in fo["lineItems"]:
                self.items_by_id[item["id"]] = (gid, fo, item)
        self.line_items[gid] = [
            {"id": f"gid://shopify/LineItem/{self.next_id()}", "sku": sku, "quantity": qty, "refundableQuantity": qty}
            for sku, qty in lines
        ]
        self.sales[gid] = {
            "id": f"gid://shopify/OrderTransaction/{self.next_id()}",
            "gateway": "shopify_payments",
            "amount": 10.0 * sum(qty for _sku, qty in lines) + SHIPPING,  # every unit at 10.00, and the shipping
            "refunded": 0.0,
        }
        self.shipping[gid] = {"amount": SHIPPING, "refunded": 0.0}
        return gid

    def fail_next(self, kind: str, times: int = 1, **options) -> None:
        for _ in range(times):
            self.failures.append({"kind": kind, **options})

    def take_failure(self, name: str) -> dict | None:
        """The next scripted failure for a request of operation ``name`` (one kept for another operation waits)."""
        for i, failure in enumerate(self.failures):
            if failure.get("operation") in (None, name):
                return self.failures.pop(i)
        return None

    def set_bucket(self, maximum: float = 1000.0, restore_rate: float = 50.0, available: float | None = None) -> None:
        self.bucket = {
            "maximum": maximum,
            "rate": restore_rate,
            "available": maximum if available is None else available,
            "at": time.monotonic(),
        }

    def spend(self, requested: int) -> dict:
        """The cost extension of a request costing ``requested``: taken from the bucket when it holds that much
        (``actualQueryCost`` set), else nothing taken and ``actualQueryCost`` None (THROTTLED)."""
        bucket = self.bucket
        if bucket is None:
            status = {"maximumAvailable": 1000.0, "currentlyAvailable": 1000.0 - requested, "restoreRate": 50.0}
            return {"requestedQueryCost": requested, "actualQueryCost": requested, "throttleStatus": status}
        now = time.monotonic()
        bucket["available"] = min(bucket["maximum"], bucket["available"] + bucket["rate"] * (now - bucket["at"]))
        bucket["at"] = now
        actual = None
        if requested <= bucket["available"]:
            bucket["available"] -= requested
            actual = requested
        status = {
            "maximumAvailable": bucket["maximum"],
            "currentlyAvailable": bucket["available"],
            "restoreRate": bucket["rate"],
        }
        return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}

    def operations(self, name: str | None = None) -> list[tuple[str, dict]]:
        return [r for r in self.requests if name is None or r[0] == name]

    def created_inputs(self) -> list[dict]:
        """Every ``FulfillmentInput`` sent, in order: of ``FulfillmentCreate`` and of each alias of a document of
        several (``FulfillmentsCreate``)."""
        sent = []
        for name, variables in self.requests:
            if name == "FulfillmentCreate":
                sent.append(variables["fulfillment"])
            elif name == "FulfillmentsCreate":
                sent.extend(variables[alias] for alias in sorted(variables, key=lambda a: int(a[1:])))
        return sent

    def open_quantities(self, order_gid: str) -> dict[str, int]:
        result: dict[str, int] = {}
        for fo in self.fulfillment_orders.get(order_gid, []):
            for item in fo["lineItems"]:
                result[item["sku"]] = result.get(item["sku"], 0) + item["remainingQuantity"]
        return result

    # ---- operations -----------------------------------------------------------------------------------

    def pull_orders(self, v: dict) -> dict:
        match = re.search(r"updated_at:>='([^']*)'", v.get("query") or "")
        since = match.group(1) if match else ""
        nodes = sorted((o for o in self.orders if o["updatedAt"] >= since), key=lambda o: (o["updatedAt"], o["id"]))
        start = int(v["after"]) if v.get("after") else 0
        page = nodes[start : start + int(v["first"])]
        end = start + len(page)
        page = copy.deepcopy(page)
        if v.get("lines") is not None:  # lineItems(first: $lines): the rest by OrderLineItems
            for node in page:
                node["lineItems"] = connection_page(node["lineItems"]["nodes"], v["lines"], None)
        return {
            "orders": {
                "pageInfo": {"hasNextPage": end < len(nodes), "endCursor": str(end) if page else None},
                "nodes": page,
            }
        }

    def order_line_items(self, v: dict) -> dict:
        """``order(id) { lineItems(first, after) }`` of a pulled order."""
        node = next((o for o in self.orders if o["id"] == v["id"]), None)
        if node is None:
            return {"order": None}
        lines = connection_page(copy.deepcopy(node["lineItems"]["nodes"]), v["first"], v.get("after"))
        return {"order": {"id": node["id"], "lineItems": lines}}

    def order_fulfillment(self, v: dict) -> dict:
        """``order(id) { fulfillments(first) fulfillmentOrders(first, after) { lineItems(first) } }``: each list as
        long as its variable asks (``fulfillments``, ``fos``, ``lines``; all of it when not given)."""
        gid = v["id"]
        if gid not in self.fulfillment_orders:
            return {"order": None}
        fulfillments = [
            {
                "id": f["id"],
                "status": f["status"],
                "trackingInfo": [{"number": n} for n in f["trackingInfo"]["numbers"]],
            }
            for f in (self.fulfillments[fid] for fid in self.fulfillments_by_order.get(gid, []))
        ]
        fos = [
            {
                "id": fo["id"],
                "status": fo["status"],
                "lineItems": connection_page(_fo_lines(fo), v.get("lines"), None),
            }
            for fo in self.fulfillment_orders[gid]
        ]
        return {
            "order": {
                "id": gid,
                "fulfillments": fulfillments[: v.get("fulfillments") or len(fulfillments)],
                "fulfillmentOrders": connection_page(fos, v.get("fos"), v.get("after")),
            }
        }

    def fulfillment_order_lines(self, v: dict) -> dict:
        """``node(id) { ... on FulfillmentOrder { lineItems(first, after) } }``."""
        fo = next((fo for fos in self.fulfillment_orders.values() for fo in fos if fo["id"] == v["id"]), None)
        if fo is None:
            return {"node": None}
        return {"node": {"id": fo["id"], "lineItems": connection_page(_fo_lines(fo), v["first"], v.get("after"))}}

    def orders_fulfillment(self, v: dict) -> dict:
        """``nodes(ids:) { ... on Order { id fulfillments fulfillmentOrders } }``: null for an unknown id."""
        ids = v.get("ids") or []
        if len(ids) > 250:
            raise ValueError("nodes(ids:) takes at most 250 ids")
        return {"nodes": [self.order_fulfillment({**v, "id": gid})["order"] for gid in ids]}

    def _item(self, item_id: str):
        if item_id in self.items_by_id:
            return self.items_by_id[item_id]
        for gid, fos in self.fulfillment_orders.items():  # an order a test put in fulfillment_orders itself
            for fo in fos:
                for item in fo["lineItems"]:
                    if item["id"] == item_id:
                        return gid, fo, item
        return None, None, None

    def fulfillment_create(self, v: dict) -> dict:
        data = v["fulfillment"]
        errors, plan, order = [], [], None
        for group in data["lineItemsByFulfillmentOrder"]:
            for line in group.get("fulfillmentOrderLineItems") or []:
                gid, fo, item = self._item(line["id"])
                if item is None or fo["id"] != group["fulfillmentOrderId"]:
                    errors.append(
                        {"field": ["fulfillment"], "message": f"Invalid fulfillment order line item id {line['id']}."}
                    )
                    continue
                if line["quantity"] > item["remainingQuantity"]:
                    errors.append(
                        {"field": ["fulfillment"], "message": "Invalid fulfillment order line item quantity requested."}
                    )
                    continue
                order = gid
                plan.append((fo, item, line["quantity"]))
        if errors or not plan:
            return {
                "fulfillmentCreate": {
                    "fulfillment": None,
                    "userErrors": errors or [{"field": ["fulfillment"], "message": "No line items."}],
                }
            }
        for fo, item, qty in plan:
            item["remainingQuantity"] -= qty
            if all(i["remainingQuantity"] == 0 for i in fo["lineItems"]):
                fo["status"] = "CLOSED"
            else:
                fo["status"] = "IN_PROGRESS"
        tracking = data.get("trackingInfo") or {}
        numbers = tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
        fid = f"gid://shopify/Fulfillment/{self.next_id()}"
        self.fulfillments[fid] = {
            "id": fid,
            "order": order,
            "status": "SUCCESS",
            "trackingInfo": {
                "company": tracking.get("company"),
                "numbers": numbers,
                "urls": tracking.get("urls") or [],
            },
            "lines": [(item["id"], qty) for _fo, item, qty in plan],
        }
        self.fulfillments_by_order.setdefault(order, []).append(fid)
        return {"fulfillmentCreate": {"fulfillment": self._shown(fid), "userErrors": []}}

    def _shown(self, fid: str) -> dict:
        f = self.fulfillments[fid]
        urls = f["trackingInfo"]["urls"]
        return {
            "id": fid,
            "status": f["status"],
            "trackingInfo": [
                {"company": f["trackingInfo"]["company"], "number": n, "url": urls[i] if i < len(urls) else None}
                for i, n in enumerate(f["trackingInfo"]["numbers"])
            ],
        }

    def tracking_update(self, v: dict) -> dict:
        fid = v["fulfillmentId"]
        if fid not in self.fulfillments:
            return {
                "fulfillmentTrackingInfoUpdate": {
                    "fulfillment": None,
                    "userErrors": [{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}],
                }
            }
        info = v["trackingInfoInput"]
        numbers = info.get("numbers") or ([info["number"]] if info.get("number") else [])
        self.fulfillments[fid]["trackingInfo"] = {
            "company": info.get("company"),
            "numbers": numbers,
            "urls": info.get("urls") or [],
        }
        return {"fulfillmentTrackingInfoUpdate": {"fulfillment": self._shown(fid), "userErrors": []}}

    def fulfillment_cancel(self, v: dict) -> dict:
        f = self.fulfillments.get(v["id"])
        if f is None or f["status"] == "CANCELLED":
            return {
                "fulfillmentCancel": {
                    "fulfillment": None,
                    "userErrors": [{"field": ["id"], "message": "Fulfillment cannot be cancelled."}],
                }
            }
        f["status"] = "CANCELLED"
        for item_id, qty in f["lines"]:
            _gid, fo, item = self._item(item_id)
            item["remainingQuantity"] += qty
            fo["status"] = "OPEN"
        return {"fulfillmentCancel": {"fulfillment": {"id": f["id"], "status": "CANCELLED"}, "userErrors": []}}

    def variants_by_sku(self, v: dict) -> dict:
        skus = re.findall(r"sku:'((?:[^'\\]|\\.)*)'", v["query"])
        return {
            "productVariants": {
                "nodes": [{"sku": s, "inventoryItem": {"id": self.variants[s]}} for s in skus if s in self.variants][
                    : v["first"]
                ]
            }
        }

    def set_quantities(self, v: dict) -> dict:
        data = v["input"]
        errors = []
        if data.get("name") not in ("available", "on_hand"):
            errors.append({"field": ["input", "name"], "message": "Name is invalid.", "code": "INVALID_NAME"})
        known = set(self.variants.values())
        for i, q in enumerate(data["quantities"]):
            if q["inventoryItemId"] not in known:
                errors.append(
                    {
                        "field": ["input", "quantities", str(i), "inventoryItemId"],
                        "message": "The specified inventory item could not be found.",
                        "code": "INVALID_INVENTORY_ITEM",
                    }
                )
        if errors:
            return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}
        changes = []
        for q in data["quantities"]:
            key = (q["inventoryItemId"], q["locationId"])
            changes.append({"name": data["name"], "delta": q["quantity"] - self.levels.get(key, 0)})
            self.levels[key] = q["quantity"]
        return {
            "inventorySetQuantities": {
                "inventoryAdjustmentGroup": {"reason": data.get("reason"), "changes": changes},
                "userErrors": [],
            }
        }

    def orders_status(self, v: dict) -> dict:
        """``nodes(ids:)`` on orders: null for an unknown id; the fulfilment status from the order node when it
        names one, else from its fulfillment orders' open quantities."""
        ids = v.get("ids") or []
        if len(ids) > 250:
            raise ValueError("nodes(ids:) takes at most 250 ids")
        nodes = []
        for gid in ids:
            node = next((o for o in self.orders if o["id"] == gid), None)
            if node is None and gid not in self.fulfillment_orders:
                nodes.append(None)
                continue
            status = (node or {}).get("displayFulfillmentStatus")
            if not status:
                left = self.open_quantities(gid)
                total = sum(
                    item["totalQuantity"] for fo in self.fulfillment_orders.get(gid, []) for item in fo["lineItems"]
                )
                status = (
                    "FULFILLED"
                    if total and not any(left.values())
                    else ("PARTIALLY_FULFILLED" if sum(left.values()) < total else "UNFULFILLED")
                )
            nodes.append(
                {
                    "id": gid,
                    "legacyResourceId": gid.rsplit("/", 1)[-1],
                    "displayFulfillmentStatus": status,
                    "cancelledAt": (node or {}).get("cancelledAt"),
                }
            )
        return {"nodes": nodes}


def connection_page(items: list, first: int | None, after: str | None) -> dict:
    """A connection's page: ``first`` items after the cursor ``after`` (an index), with its ``pageInfo``."""
    start = int(after) if after else 0
    end = len(items) if first is None else min(len(items), start + int(first))
    return {
        "pageInfo": {"hasNextPage": end < len(items), "endCursor": str(end) if end > start else None},
        "nodes": items[start:end],
    }


def _fo_lines(fo: dict) -> list[dict]:
    return [
        {"id": i["id"], "sku": i["sku"], "remainingQuantity": i["remainingQuantity"], "lineItem": {"sku": i["sku"]}}
        for i in fo["lineItems"]
    ]


OPERATIONS = {
    "OrderLineItems": Shop.order_line_items,
    "OrderFulfillments": Shop.order_fulfillment,
    "OrderFulfillmentOrders": Shop.order_fulfillment,
    "FulfillmentOrderLines": Shop.fulfillment_order_lines,
    "OrderRefundable": refunds.order_refundable,
    "RefundCreate": refunds.refund_create,
    "SuggestedRefund": refunds.suggested_refund,
    "PullOrders": Shop.pull_orders,
    "OrderFulfillment": Shop.order_fulfillment,
    "OrdersFulfillment": Shop.orders_fulfillment,
    "FulfillmentCreate": Shop.fulfillment_create,
    "FulfillmentTrackingInfoUpdate": Shop.tracking_update,
    "FulfillmentCancel": Shop.fulfillment_cancel,
    "VariantsBySku": Shop.variants_by_sku,
    "InventorySet": Shop.set_quantities,
    "OrderCancel": cancel.order_cancel,
    "OrderCancelled": cancel.order_cancelled,
    "OrdersStatus": Shop.orders_status,
}
