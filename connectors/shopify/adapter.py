"""Shopify's verbs over the Admin GraphQL API (shopify.dev/docs/api/admin-graphql).

- pull: the ``orders`` query filtered ``updated_at:>='<cursor>'``, sorted by ``UPDATED_AT``, paged with
  ``pageInfo { hasNextPage endCursor }``, each page and its nested line items sized to Shopify's 1,000-point
  single-query limit (reads.py: an order with more lines has the rest read after it);
- confirm: the order's ``fulfillmentOrders`` and their open line items; ``fulfillmentCreate`` with
  ``lineItemsByFulfillmentOrder`` (this shipment's lines and quantities only, so partial shipments fulfil part)
  and ``trackingInfo {company numbers urls}``. A shipment confirmed before is updated with
  ``fulfillmentTrackingInfoUpdate`` (a relabel) or cancelled with ``fulfillmentCancel`` (its label voided).
  When our record of the fulfillment was lost (a worker died after Shopify answered), the order's fulfillments
  are searched for one of our tracking numbers first and that one is adopted: nothing is fulfilled twice;
- stock: SKU -> ``inventoryItem`` id by the ``productVariants`` query (kept in ``RemoteItem``), then
  ``inventorySetQuantities`` (name ``available``, at the connection's location) 250 quantities a call.
"""

from __future__ import annotations

from ..base import (
    Adapter,
    Confirmation,
    ConnectorError,
    PullPage,
    Refused,
    Rejected,
    RetryLater,
    StockPushResult,
    match_lines,
    refund_marker,
    refund_note,
)
from ..remote_items import remote_items
from .client import DEFAULT_VERSION, ShopifyClient, available
from .reads import (
    MAX_QUERY_COST,
    ORDERS_QUERY,
    PAGE_SIZE,
    PULL_LINES,
    READ_ORDERS,
    complete_lines,
    orders_fulfillment_cost,
    read_orders,
)

SET_BATCH = 250
LOOKUP_BATCH = 50

# Shopify's calculated query cost: a mutation field 10 points, each object it returns 1 (the Fulfillment; the
# userErrors); a single query may request at most 1000 (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
ALIAS_COST = 12
MAX_ALIASES = 50  # 600 points: a document the standard plan's bucket (1000, refilled 100/s) takes at once

TRACKING_UPDATE = """mutation FulfillmentTrackingInfoUpdate(
  $fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!
) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"""

FULFILLMENT_CANCEL = """mutation FulfillmentCancel($id: ID!) {
  fulfillmentCancel(id: $id) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""

VARIANTS_QUERY = """query VariantsBySku($first: Int!, $query: String!) {
  productVariants(first: $first, query: $query) { nodes { sku inventoryItem { id } } }
}"""

SET_QUANTITIES = """mutation InventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason changes { name delta } }
    userErrors { field message code }
  }
}"""

OPEN_FULFILLMENT_ORDER = {"OPEN", "IN_PROGRESS", "SCHEDULED"}


# ``orderCancel`` before Admin API 2025-07: ``refund: Boolean!``.
ORDER_CANCEL = """mutation OrderCancel(
  $orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!, $notifyCustomer: Boolean,
  $staffNote: String
) {
  orderCancel(
    orderId: $orderId, reason: $reason, refund: $refund, restock: $restock, notifyCustomer: $notifyCustomer,
    staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""
# From 2025-07 ``refund`` is deprecated for ``refundMethod: OrderCancelRefundMethodInput`` (which older versions
# refuse as an unknown argument): ``{originalPaymentMethodsRefund: true}`` refunds to the original payment.
REFUND_METHOD_SINCE = "2025-07"
ORDER_CANCEL_REFUND_METHOD = """mutation OrderCancel(
  $orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!, $restock: Boolean!,
  $notifyCustomer: Boolean, $staffNote: String
) {
  orderCancel(
    orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
    notifyCustomer: $notifyCustomer, staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""
ORDERS_STATUS_QUERY = """query OrdersStatus($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Order { id legacyResourceId displayFulfillmentStatus cancelledAt } }
}"""
NODES_PER_CALL = 250  # Shopify's limit on ``nodes(ids:)``
ORDER_CANCELLED_QUERY = """query OrderCancelled($id: ID!) { order(id: $id) { id cancelledAt } }"""
ORDER_REFUNDABLE_QUERY = """query OrderRefundable($id: ID!) {
  order(id: $id) {
    id
    lineItems(first: 250) { nodes { id sku refundableQuantity } }
    refunds(first: 100) { id note }
  }
}"""
SUGGESTED_REFUND_QUERY = """query SuggestedRefund($id: ID!, $items: [RefundLineItemInput!], $shipping: Boolean) {
  order(id: $id) {
    suggestedRefund(refundLineItems: $items, refundShipping: $shipping) {
      suggestedTransactions { gateway parentTransaction { id } amountSet { shopMoney { amount } } }
    }
  }
}"""
REFUND_CREATE = """mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) { refund { id } userErrors { field message } }
}"""
# Our reason codes (orders.status.ChangeReason) as Shopify's OrderCancelReason.
CANCEL_REASONS = {
    "customer_request": "CUSTOMER",
    "fraud": "FRAUD",
    "out_of_stock": "INVENTORY",
    "capacity": "INVENTORY",
    "staff_error": "STAFF",
    "duplicate": "OTHER",
}


def client_for(connection) -> ShopifyClient:
    return ShopifyClient(
        base_url=connection.base_url,
        token=str((connection.credentials or {}).get("access_token", "")),
        version=connection.api_version,
    )


def refund_method_version(version: str) -> bool:
    """Whether ``orderCancel`` takes ``refundMethod`` (Admin API 2025-07 and later, ``unstable``) at ``version``
    (empty: the client's default)."""
    version = version or DEFAULT_VERSION
    return version == "unstable" or version >= REFUND_METHOD_SINCE


def order_gid(external_id: str) -> str:
    return external_id if external_id.startswith("gid://") else f"gid://shopify/Order/{external_id}"


def _user_errors(payload: dict | None, what: str) -> None:
    errors = (payload or {}).get("userErrors") or []
    if errors:
        text = "; ".join(
            (".".join(str(f) for f in (e.get("field") or [])) + ": " if e.get("field") else "") + str(e.get("message"))
            for e in errors
        )
        raise Rejected(f"Shopify refused {what}: {text}")


def _quote(sku: str) -> str:
    return "'" + sku.replace("\\", "\\\\").replace("'", "\\'") + "'"


class ShopifyAdapter(Adapter):
    platform = "shopify"

    # ---- pull ---------------------------------------------------------------------------------------

    def pull_orders(self, connection, *, cursor: str, page: str = "") -> PullPage:
        query = f"updated_at:>='{cursor}'" if cursor else None
        client = client_for(connection)
        asked = {"first": PAGE_SIZE, "after": page or None, "query": query, "lines": PULL_LINES}
        orders = client.execute(ORDERS_QUERY, asked).get("orders") or {}
        nodes = [n for n in orders.get("nodes") or [] if isinstance(n, dict)]
        complete_lines(client, nodes)  # an order of more lines than the page held: the rest read after it
        info = orders.get("pageInfo") or {}
        newest = max([cursor or "", *(str(n.get("updatedAt") or "") for n in nodes)])
        return PullPage(
            orders=nodes, cursor=newest, has_next=bool(info.get("hasNextPage")), next_page=info.get("endCursor") or ""
        )

    # ---- confirm ------------------------------------------------------------------------------------

    def confirm_shipment(self, connection, *, notice: dict, remote) -> Confirmation:
        client = client_for(connection)
        numbers = _numbers(notice)
        tracking = _tracking(notice)
        if remote is not None and not remote.cancelled:
            if not numbers:  # the label was voided: the fulfillment is taken back
                payload = client.execute(FULFILLMENT_CANCEL, {"id": remote.remote_id}).get("fulfillmentCancel")
                _user_errors(payload, "to cancel the fulfillment")
                return Confirmation(remote.remote_id, "cancelled")
            if sorted(remote.tracking_numbers or []) == sorted(numbers):
                return Confirmation(remote.remote_id, "unchanged")
            payload = client.execute(
                TRACKING_UPDATE, {"fulfillmentId": remote.remote_id, "trackingInfoInput": tracking}
            ).get("fulfillmentTrackingInfoUpdate")
            _user_errors(payload, "the tracking update")
            return Confirmation(remote.remote_id, "updated")
        if not numbers:
            return Confirmation("", "unchanged")  # voided before Shopify heard of it: nothing to take back
        result = _create_chunk(client, [notice])[0]  # a new shipment: the batch's way, a chunk of one
        if isinstance(result, ConnectorError):
            raise result
        return result

    def confirm_shipments(self, connection, items: list[tuple[dict, object]]) -> list[Confirmation | ConnectorError]:
        """The new shipments (no fulfillment of ours known, tracking numbers given) in documents of at most
        ``_aliases()`` each: one ``nodes(ids:)`` read and one aliased ``fulfillmentCreate`` document per chunk. The
        others (relabel, cancel, unchanged) one by one through ``confirm_shipment``. A whole document's failure is
        every row's in it; after THROTTLED/429 or a refused token the rest of the batch is not sent (same error)."""
        results: list = [None] * len(items)
        fresh = []
        for i, (notice, remote) in enumerate(items):
            if (remote is not None and not remote.cancelled) or not _numbers(notice):
                try:
                    results[i] = self.confirm_shipment(connection, notice=notice, remote=remote)
                except ConnectorError as exc:
                    results[i] = exc
            else:
                fresh.append(i)
        client = client_for(connection)
        stop: ConnectorError | None = None
        while fresh:
            size = _aliases(client)
            chunk, fresh = fresh[:size], fresh[size:]
            if stop is not None:
                chunk_results: list = [stop] * len(chunk)
            else:
                try:
                    chunk_results = _create_chunk(client, [items[i][0] for i in chunk])
                except ConnectorError as exc:
                    chunk_results = [exc] * len(chunk)
                    if isinstance(exc, RetryLater | Refused):
                        stop = exc
            for i, result in zip(chunk, chunk_results, strict=True):
                results[i] = result
        return results  # every slot filled above

    # ---- cancel -------------------------------------------------------------------------------------

    def cancel_notice(self, connection, *, notice: dict) -> None:
        """``orderCancel``: refunded to the original payment (an order cancelled before shipping is owed back: from
        API version 2025-07 ``refundMethod: {originalPaymentMethodsRefund: true}``, before it ``refund: true``),
        not restocked (the OMS publishes stock itself), the customer not notified (the OMS does that). An order
        Shopify shows cancelled already (a retry whose answer was lost) counts as done."""
        client = client_for(connection)
        gid = order_gid(str(notice.get("order_external_id")))
        variables = {
            "orderId": gid,
            "reason": CANCEL_REASONS.get(notice.get("reason_code") or "", "OTHER"),
            "restock": False,
            "notifyCustomer": False,
            "staffNote": f"Cancelled in the OMS ({notice.get('order')}): {notice.get('reason') or ''}"[:255],
        }
        if refund_method_version(connection.api_version):
            document = ORDER_CANCEL_REFUND_METHOD
            variables["refundMethod"] = {"originalPaymentMethodsRefund": True}
        else:
            document, variables["refund"] = ORDER_CANCEL, True
        payload = client.execute(document, variables).get("orderCancel")
        errors = (payload or {}).get("orderCancelUserErrors") or []
        if not errors:
            return
        order = client.execute(ORDER_CANCELLED_QUERY, {"id": gid}).get("order")
        if order and order.get("cancelledAt"):
            return
        text = "; ".join(f"{e.get('code') or ''} {e.get('message')}".strip() for e in errors)
        raise Rejected(f"Shopify refused to cancel the order: {text}")

    def lines_cancel_notice(self, connection, *, notice: dict) -> None:
        """A partial cancellation: ``refundCreate`` with ``refundLineItems`` (the order's line items by SKU, the
        quantities cancelled, ``restockType: NO_RESTOCK``: the OMS publishes stock), ``notify: false``. Chosen over
        ``orderEditBegin``/``orderEditSetQuantity``/``orderEditCommit`` because the edit is three calls with a
        session in between (a lost answer mid-way leaves an open edit) and Shopify documents a refund as the record
        of items that will not be fulfilled. With the connection's ``refund_payments`` the money goes back too: the
        ``transactions`` are Shopify's own ``suggestedRefund`` for those lines (gateway, parent transaction,
        amount, kind REFUND); without it the refund records the lines and moves no money. A row that says the whole
        order was cancelled before anything shipped (``refund_shipping``) refunds the order's shipping as well
        (``RefundInput.shipping`` ``{fullRefund: true}``, and ``suggestedRefund(refundShipping: true)`` so the
        transactions carry it), with ``refund_payments`` only: shipping is money, not a line. The note starts with
        ``[OMS <row key>]``: a refund with it already there (a retry after a lost answer) counts as done, so the
        lines are refunded once."""
        client = client_for(connection)
        gid = order_gid(str(notice.get("order_external_id")))
        order = client.execute(ORDER_REFUNDABLE_QUERY, {"id": gid}).get("order")
        if not order:
            raise Rejected(f"Shopify has no order {notice.get('order_external_id')}.")
        marker = refund_marker(notice)
        if any(marker in str((r or {}).get("note") or "") for r in order.get("refunds") or []):
            return
        items = _refund_items((order.get("lineItems") or {}).get("nodes") or [], notice.get("lines") or [])
        shipping = bool(connection.refund_payments and notice.get("refund_shipping"))
        transactions = []
        if connection.refund_payments:
            asked = {"id": gid, "items": items, "shipping": shipping}
            suggested = client.execute(SUGGESTED_REFUND_QUERY, asked).get("order") or {}
            for t in (suggested.get("suggestedRefund") or {}).get("suggestedTransactions") or []:
                amount = (((t or {}).get("amountSet") or {}).get("shopMoney") or {}).get("amount")
                if amount and (t.get("parentTransaction") or {}).get("id"):
                    transactions.append(
                        {
                            "orderId": gid,
                            "gateway": t.get("gateway") or "",
                            "kind": "REFUND",
                            "parentId": t["parentTransaction"]["id"],
                            "amount": amount,
                        }
                    )
        refund = {"orderId": gid, "note": refund_note(notice, 255), "notify": False, "refundLineItems": items}
        if shipping:
            refund["shipping"] = {"fullRefund": True}
        if transactions:
            refund["transactions"] = transactions
        payload = client.execute(REFUND_CREATE, {"input": refund}).get("refundCreate")
        _user_errors(payload, "the refund of the cancelled lines")

    # ---- reconciliation -----------------------------------------------------------------------------

    def shipped_remotely(self, connection, *, external_ids: list[str]) -> dict[str, str]:
        """Of these orders, those Shopify shows fulfilled (``displayFulfillmentStatus`` FULFILLED): {id: status};
        ``nodes(ids:)``, 250 a call. An id Shopify does not know answers null and is left out."""
        client = client_for(connection)
        ids = sorted({str(i) for i in external_ids if i})
        done: dict[str, str] = {}
        for start in range(0, len(ids), NODES_PER_CALL):
            chunk = ids[start : start + NODES_PER_CALL]
            by_gid = {order_gid(i): i for i in chunk}
            nodes = client.execute(ORDERS_STATUS_QUERY, {"ids": list(by_gid)}).get("nodes") or []
            for node in nodes:
                if not isinstance(node, dict) or node.get("id") not in by_gid:
                    continue
                status = str(node.get("displayFulfillmentStatus") or "")
                if status == "FULFILLED":
                    done[by_gid[node["id"]]] = status
        return done

    # ---- stock --------------------------------------------------------------------------------------

    def push_stock(self, connection, *, figures: list[dict]) -> StockPushResult:
        if not connection.location_ref:
            raise Rejected("Set the Shopify location (gid://shopify/Location/…) on the connection to push stock.")
        client = client_for(connection)
        items = self._items(connection, client, [f["sku"] for f in figures])
        quantities = [
            {"inventoryItemId": items[f["sku"]], "locationId": connection.location_ref, "quantity": int(f["quantity"])}
            for f in figures
            if items.get(f["sku"])
        ]
        for start in range(0, len(quantities), SET_BATCH):
            payload = client.execute(
                SET_QUANTITIES,
                {
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "ignoreCompareQuantity": True,
                        "quantities": quantities[start : start + SET_BATCH],
                    }
                },
            ).get("inventorySetQuantities")
            _user_errors(payload, "the stock figures")
        return StockPushResult(
            pushed=len(quantities), unknown_skus=sorted(f["sku"] for f in figures if not items.get(f["sku"]))
        )

    def _items(self, connection, client: ShopifyClient, skus: list[str]) -> dict[str, str]:
        """SKU -> inventoryItem id (remote_items: cached, a missing SKU looked up again after a day)."""

        def lookup(chunk: list[str]) -> dict[str, str]:
            query = " OR ".join(f"sku:{_quote(s)}" for s in chunk)
            data = client.execute(VARIANTS_QUERY, {"first": 250, "query": query})
            found: dict[str, str] = {}
            for node in (data.get("productVariants") or {}).get("nodes") or []:
                sku, item = node.get("sku"), (node.get("inventoryItem") or {}).get("id")
                if sku in chunk and item and sku not in found:
                    found[sku] = item
            return found

        return remote_items(connection, skus, lookup, batch=LOOKUP_BATCH)


def _numbers(notice: dict) -> list[str]:
    return [n for n in notice.get("tracking_numbers") or [] if n]


def _tracking(notice: dict) -> dict:
    return {
        "company": notice.get("carrier") or "",
        "numbers": _numbers(notice),
        "urls": notice.get("tracking_urls") or [],
    }


def _ours(order: dict, numbers: list[str]) -> str:
    """The id of the order's live fulfillment that carries one of our tracking numbers ("" when none)."""
    for fulfillment in order.get("fulfillments") or []:
        if str(fulfillment.get("status", "")).upper() in ("CANCELLED", "ERROR", "FAILURE"):
            continue
        theirs = {t.get("number") for t in fulfillment.get("trackingInfo") or [] if isinstance(t, dict)}
        if theirs & set(numbers):
            return fulfillment["id"]
    return ""


def _created(payload: dict | None) -> Confirmation:
    """A ``fulfillmentCreate`` answer as a Confirmation; its ``userErrors`` as ``Rejected``."""
    _user_errors(payload, "the fulfillment")
    fulfillment = (payload or {}).get("fulfillment") or {}
    if not fulfillment.get("id"):
        raise Rejected("Shopify created no fulfillment and gave no reason.")
    return Confirmation(fulfillment["id"], "created")


def _aliases(client: ShopifyClient) -> int:
    """How many shipments the next chunk holds (its ``nodes(ids:)`` read and its ``fulfillmentCreate`` document):
    ``MAX_ALIASES``, fewer when the shop's bucket (as the last answer left it, refilled since) holds less than
    their read and creates; 1 at least (an empty bucket answers THROTTLED)."""
    points = available(client.url)
    fits = MAX_ALIASES if points is None else int(points // (ALIAS_COST + orders_fulfillment_cost(1)))
    return max(1, min(MAX_ALIASES, MAX_QUERY_COST // ALIAS_COST, READ_ORDERS, fits))


CREATED_FIELDS = "fulfillment { id status } userErrors { field message }"


def create_document(count: int) -> str:
    """A mutation with ``count`` aliased ``fulfillmentCreate`` (``f0`` ... with variables ``$f0`` ...)."""
    arguments = ", ".join(f"$f{i}: FulfillmentInput!" for i in range(count))
    fields = "\n".join(f"  f{i}: fulfillmentCreate(fulfillment: $f{i}) {{ {CREATED_FIELDS} }}" for i in range(count))
    return f"mutation FulfillmentsCreate({arguments}) {{\n{fields}\n}}"


def _create_chunk(client: ShopifyClient, notices: list[dict]) -> list[Confirmation | ConnectorError]:
    """New shipments: their orders in one ``nodes(ids:)`` read, then one document with a ``fulfillmentCreate``
    per shipment not adopted or refused already. Shipments of one order share its open quantities."""
    gids = list(dict.fromkeys(order_gid(str(n.get("order_external_id"))) for n in notices))
    orders = read_orders(client, gids)  # READ_ORDERS a read (each within the cost limit), the rest paged after
    left: dict[str, list[dict]] = {}  # order gid -> its open line items, lowered by this chunk's shipments
    results: list = [None] * len(notices)
    inputs: list[tuple[int, dict]] = []  # (the notice's index, its FulfillmentInput; notifyCustomer off: the OMS tells)
    for k, notice in enumerate(notices):
        gid = order_gid(str(notice.get("order_external_id")))
        order = orders.get(gid)
        if not order:
            results[k] = Rejected(f"Shopify has no order {notice.get('order_external_id')}.")
            continue
        if ours := _ours(order, _numbers(notice)):
            results[k] = Confirmation(ours, "adopted")
            continue
        try:
            groups = _allocate(left.setdefault(gid, _open_items(order)), notice.get("lines") or [])
        except Rejected as exc:
            results[k] = exc
            continue
        inputs.append(
            (k, {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": False, "trackingInfo": _tracking(notice)})
        )
    if inputs:
        data = client.execute(create_document(len(inputs)), {f"f{j}": f for j, (_k, f) in enumerate(inputs)})
        for j, (k, _f) in enumerate(inputs):
            try:
                results[k] = _created(data.get(f"f{j}"))
            except Rejected as exc:
                results[k] = exc
    return results  # every slot filled above


def _open_items(order: dict) -> list[dict]:
    """The order's open fulfillment order line items: ``{"id", "sku", "left", "order"}`` (order: its FO)."""
    items = []
    for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
        if str(fo.get("status", "")).upper() not in OPEN_FULFILLMENT_ORDER:
            continue
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            sku = item.get("sku") or (item.get("lineItem") or {}).get("sku") or ""
            items.append(
                {"id": item["id"], "sku": sku, "left": int(item.get("remainingQuantity") or 0), "order": fo["id"]}
            )
    return items


def _allocate(open_items: list[dict], lines: list[dict]) -> list[dict]:
    """This shipment's lines onto the order's open fulfillment order line items, by SKU: a partial shipment
    fulfils only its quantities, taken off ``open_items`` (a later shipment of the order in the same batch gets
    what is left). A line Shopify has no open quantity for is refused with what is missing."""
    taken, missing = match_lines(open_items, lines)
    if missing:
        raise Rejected(f"Shopify has no open quantity to fulfil for: {', '.join(missing)}.")
    groups: dict[str, list[dict]] = {}
    by_id = {item["id"]: item for item in open_items}
    for item_id, qty in taken.items():
        by_id[item_id]["left"] -= qty
        groups.setdefault(by_id[item_id]["order"], []).append({"id": item_id, "quantity": qty})
    return [{"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": items} for fo, items in groups.items()]


def _refund_items(line_items: list[dict], lines: list[dict]) -> list[dict]:
    """The cancelled lines onto the order's line items by SKU, at most each one's ``refundableQuantity``."""
    left = [
        {"id": li["id"], "sku": str(li.get("sku") or ""), "left": int(li.get("refundableQuantity") or 0)}
        for li in line_items
        if isinstance(li, dict) and li.get("id")
    ]
    taken, missing = match_lines(left, lines)
    if missing:
        raise Rejected(f"Shopify has no refundable quantity for: {', '.join(missing)}.")
    return [{"lineItemId": i, "quantity": q, "restockType": "NO_RESTOCK"} for i, q in taken.items()]
