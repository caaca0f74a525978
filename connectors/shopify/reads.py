"""Shopify reads sized to the single-query limit, and the rest of an order read in follow-ups.

Shopify refuses a document whose *requested* cost exceeds 1,000 points (``MAX_COST_EXCEEDED``): a connection
costs 2 plus ``first`` times one node, an object 1, a scalar 0, so nested connections multiply
(shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). Each read here asks for small nested pages, its cost
worked out from its own sizes by the functions below, and an order whose connection has ``hasNextPage`` has the
rest read after it with ``after:`` (nothing lost for an order of many lines or fulfillment orders).
"""

from __future__ import annotations

from ..base import Transient
from .client import ShopifyClient

MAX_QUERY_COST = 1000
PAGE = "pageInfo { hasNextPage endCursor }"


def connection_cost(first: int, node: int) -> int:
    """A connection of ``first`` nodes each costing ``node`` (the node object's 1 included)."""
    return 2 + first * node


# ---- pull ------------------------------------------------------------------------------------------------

PULL_LINES = 20  # line items read with each order; an order with more has the rest read after (LINES_PAGE a call)
LINES_PAGE = 250
LINE_FIELDS = "sku quantity title originalUnitPriceSet { shopMoney { amount } }"
LINE_COST = 1 + 2  # the line, originalUnitPriceSet { shopMoney }
ORDER_FIELDS = (
    """
  id legacyResourceId name email phone createdAt updatedAt cancelledAt displayFinancialStatus note currencyCode
  customAttributes { key value }
  totalPriceSet { shopMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount } }
  totalDiscountsSet { shopMoney { amount } }
  customer { firstName lastName email phone }
  shippingAddress { firstName lastName name company address1 address2 city province provinceCode zip country
                    countryCodeV2 phone }
  shippingLines(first: 5) { nodes { title code originalPriceSet { shopMoney { amount } } } }
  lineItems(first: $lines) { """
    + PAGE
    + " nodes { "
    + LINE_FIELDS
    + """ } }
"""
)
# The order, customAttributes, the three money sets (2 each), customer, shippingAddress, shippingLines (5 x 3).
ORDER_COST = 1 + 1 + 3 * 2 + 1 + 1 + connection_cost(5, 3)


def pull_cost(orders: int, lines: int) -> int:
    """The requested cost of ``ORDERS_QUERY`` with ``first: orders`` and ``lines`` line items an order."""
    return connection_cost(orders, ORDER_COST + connection_cost(lines, LINE_COST))


def largest(cost, most: int) -> int:
    """The largest n <= most with cost(n) within the limit (1 at least)."""
    return max([1, *(n for n in range(1, most + 1) if cost(n) <= MAX_QUERY_COST)])


PAGE_SIZE = largest(lambda n: pull_cost(n, PULL_LINES), 250)  # orders a pull page

ORDERS_QUERY = (
    """query PullOrders($first: Int!, $after: String, $query: String, $lines: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    """
    + PAGE
    + """
    nodes {"""
    + ORDER_FIELDS
    + """}
  }
}"""
)

ORDER_LINES_QUERY = (
    """query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) { id lineItems(first: $first, after: $after) { """
    + PAGE
    + " nodes { "
    + LINE_FIELDS
    + """ } } }
}"""
)


def order_lines_cost(first: int) -> int:
    return 1 + connection_cost(first, LINE_COST)


def complete_lines(client: ShopifyClient, orders: list[dict]) -> None:
    """Each pulled order whose ``lineItems`` has a next page gets the rest appended (in place)."""
    for order in orders:
        lines = order.get("lineItems") or {}
        info = lines.get("pageInfo") or {}
        while info.get("hasNextPage"):
            data = client.execute(
                ORDER_LINES_QUERY, {"id": order["id"], "first": LINES_PAGE, "after": info.get("endCursor")}
            )
            page = (data.get("order") or {}).get("lineItems") or {}
            more = page.get("nodes") or []
            info = page.get("pageInfo") or {}
            if not more and info.get("hasNextPage"):
                raise Transient(f"Shopify gave an empty page of the line items of {order['id']}.")
            lines.setdefault("nodes", []).extend(more)
        lines["pageInfo"] = {"hasNextPage": False, "endCursor": info.get("endCursor")}
        order["lineItems"] = lines


# ---- confirm: the orders' fulfillment orders and fulfillments ---------------------------------------------

READ_FULFILLMENTS = 5  # fulfillments read with each order; all of them (FULFILLMENTS_PAGE) when it has that many
FULFILLMENTS_PAGE = 250
READ_FOS = 2  # fulfillment orders read with each order
READ_FO_LINES = 10  # line items read with each fulfillment order
FOS_PAGE = 20
FO_LINES_PAGE = 250
FO_LINE_FIELDS = "id sku remainingQuantity lineItem { sku }"
FO_LINE_COST = 1 + 1  # the line, its lineItem
FULFILLMENT_COST = 1 + 1  # the fulfillment, its trackingInfo
FULFILLMENTS = "fulfillments(first: $fulfillments) { id status trackingInfo { number } }"
FULFILLMENT_ORDERS = (
    "fulfillmentOrders(first: $fos, after: $after) { "
    + PAGE
    + " nodes { id status lineItems(first: $lines) { "
    + PAGE
    + " nodes { "
    + FO_LINE_FIELDS
    + " } } } }"
)

ORDERS_FULFILLMENT_QUERY = (
    """query OrdersFulfillment($ids: [ID!]!, $fulfillments: Int!, $fos: Int!, $lines: Int!, $after: String) {
  nodes(ids: $ids) { ... on Order { id """
    + FULFILLMENTS
    + " "
    + FULFILLMENT_ORDERS
    + """ } }
}"""
)
# One order's read with the sizes written in (the bench's bare HTTP loop sends it; the adapter reads by
# ORDERS_FULFILLMENT_QUERY): order_fulfillment_cost(READ_FULFILLMENTS, READ_FOS, READ_FO_LINES) points.
FULFILLMENT_ORDERS_QUERY = (
    """query OrderFulfillment($id: ID!) {
  order(id: $id) { id """
    + FULFILLMENTS.replace("$fulfillments", str(READ_FULFILLMENTS))
    + " "
    + FULFILLMENT_ORDERS.replace("$fos", str(READ_FOS))
    .replace("$lines", str(READ_FO_LINES))
    .replace(", after: $after", "")
    + """ }
}"""
)
ORDER_FULFILLMENTS_QUERY = (
    """query OrderFulfillments($id: ID!, $fulfillments: Int!) { order(id: $id) { id """ + FULFILLMENTS + " } }"
)
ORDER_FOS_QUERY = (
    """query OrderFulfillmentOrders($id: ID!, $fos: Int!, $lines: Int!, $after: String) {
  order(id: $id) { id """
    + FULFILLMENT_ORDERS
    + """ }
}"""
)
FO_LINES_QUERY = (
    """query FulfillmentOrderLines($id: ID!, $first: Int!, $after: String) {
  node(id: $id) { ... on FulfillmentOrder { id lineItems(first: $first, after: $after) { """
    + PAGE
    + " nodes { "
    + FO_LINE_FIELDS
    + """ } } } }
}"""
)


def fos_cost(fos: int, lines: int) -> int:
    return connection_cost(fos, 1 + connection_cost(lines, FO_LINE_COST))


def order_fulfillment_cost(fulfillments: int, fos: int, lines: int) -> int:
    """One order of ``ORDERS_FULFILLMENT_QUERY``: the order, its fulfillments, its fulfillment orders' lines."""
    return 1 + connection_cost(fulfillments, FULFILLMENT_COST) + fos_cost(fos, lines)


def orders_fulfillment_cost(orders: int) -> int:
    return orders * order_fulfillment_cost(READ_FULFILLMENTS, READ_FOS, READ_FO_LINES)


READ_ORDERS = largest(orders_fulfillment_cost, 250)  # orders a nodes(ids:) read
assert 1 + connection_cost(FULFILLMENTS_PAGE, FULFILLMENT_COST) <= MAX_QUERY_COST
assert 1 + fos_cost(FOS_PAGE, READ_FO_LINES) <= MAX_QUERY_COST
assert 1 + connection_cost(FO_LINES_PAGE, FO_LINE_COST) <= MAX_QUERY_COST


def read_orders(client: ShopifyClient, gids: list[str]) -> dict[str, dict]:
    """gid -> the order with all its fulfillments, fulfillment orders and their line items: ``READ_ORDERS`` a
    ``nodes(ids:)`` read, then a follow-up for each connection that has more. An unknown gid is left out."""
    orders: dict[str, dict] = {}
    for start in range(0, len(gids), READ_ORDERS):
        asked = {
            "ids": gids[start : start + READ_ORDERS],
            "fulfillments": READ_FULFILLMENTS,
            "fos": READ_FOS,
            "lines": READ_FO_LINES,
        }
        for node in client.execute(ORDERS_FULFILLMENT_QUERY, asked).get("nodes") or []:
            if isinstance(node, dict) and node.get("id"):
                orders[node["id"]] = _complete(client, node)
    return orders


def _complete(client: ShopifyClient, order: dict) -> dict:
    if len(order.get("fulfillments") or []) >= READ_FULFILLMENTS:  # a list without pageInfo: read them all
        data = client.execute(ORDER_FULFILLMENTS_QUERY, {"id": order["id"], "fulfillments": FULFILLMENTS_PAGE})
        order["fulfillments"] = (data.get("order") or {}).get("fulfillments") or []
    fos = order.get("fulfillmentOrders") or {}
    nodes = list(fos.get("nodes") or [])
    info = fos.get("pageInfo") or {}
    while info.get("hasNextPage"):
        asked = {"id": order["id"], "fos": FOS_PAGE, "lines": READ_FO_LINES, "after": info.get("endCursor")}
        page = ((client.execute(ORDER_FOS_QUERY, asked).get("order") or {}).get("fulfillmentOrders")) or {}
        more = page.get("nodes") or []
        info = page.get("pageInfo") or {}
        if not more and info.get("hasNextPage"):
            raise Transient(f"Shopify gave an empty page of the fulfillment orders of {order['id']}.")
        nodes.extend(more)
    for fo in nodes:
        _complete_fo(client, fo)
    order["fulfillmentOrders"] = {"nodes": nodes}
    return order


def _complete_fo(client: ShopifyClient, fo: dict) -> None:
    lines = fo.get("lineItems") or {}
    nodes = list(lines.get("nodes") or [])
    info = lines.get("pageInfo") or {}
    while info.get("hasNextPage"):
        asked = {"id": fo["id"], "first": FO_LINES_PAGE, "after": info.get("endCursor")}
        page = ((client.execute(FO_LINES_QUERY, asked).get("node") or {}).get("lineItems")) or {}
        more = page.get("nodes") or []
        info = page.get("pageInfo") or {}
        if not more and info.get("hasNextPage"):
            raise Transient(f"Shopify gave an empty page of the line items of {fo['id']}.")
        nodes.extend(more)
    fo["lineItems"] = {"nodes": nodes}
