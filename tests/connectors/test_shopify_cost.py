"""The fake Shopify's calculated query cost (Shopify's documented rules) and its single-query limit: a document
requesting more than 1,000 points is answered MAX_COST_EXCEEDED and not run (no database: the client alone)."""

import pytest
from graphql import parse

from connectors.base import Rejected
from connectors.shopify.client import ShopifyClient

from .fake_shopify import TOKEN, order_node
from .fake_shopify_cost import requested_cost
from .fake_shopify_server import FakeShopify

PULL = """query PullOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id customer { email }
      lineItems(first: 250) { nodes { sku originalUnitPriceSet { shopMoney { amount } } } }
    }
  }
}"""


def _cost(document: str, variables: dict | None = None) -> int:
    return requested_cost(parse(document).definitions[0], variables or {})


@pytest.fixture
def fake():
    with FakeShopify() as server:
        yield server


def _client(fake):
    return ShopifyClient(base_url=fake.base_url, token=TOKEN, version="2025-01")


def test_the_cost_of_known_documents_is_what_the_documented_formula_gives():
    # The docs' rules: scalar 0, object 1, connection 2 + first x one node, nested connections multiply.
    products = "{ products(first: 10) { edges { node { title variants(first: 5) { edges { node { price } } } } } } }"
    assert _cost(products) == 2 + 10 * (1 + (2 + 5 * 1))  # 82
    assert _cost("{ shop { id name timezoneOffsetMinutes } }") == 1
    # One order: 1 + customer 1 + lineItems (2 + 250 x (the line 1 + originalUnitPriceSet 1 + shopMoney 1)).
    one_order = 1 + 1 + (2 + 250 * 3)
    assert _cost(PULL, {"first": 1}) == 2 + 1 * one_order  # 756
    assert _cost(PULL, {"first": 2}) == 2 + 2 * one_order  # 1,510: over the limit
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { id customer { email } } ... on Product { id } } }"
    assert _cost(nodes, {"ids": ["a", "b", "c"]}) == 3 * (1 + 1)  # the dearer fragment, per id
    mutation = "mutation { a: fulfillmentCancel(id: 1) { fulfillment { id } userErrors { message } } b: tagsAdd }"
    assert _cost(mutation) == (10 + 2) + 10


def test_a_document_over_1000_points_is_refused_and_not_run(fake):
    fake.shop.orders = [order_node(i, updated_at="2026-12-05T10:00:00Z") for i in (1, 2)]
    with pytest.raises(Rejected, match=r"Query cost is 1510, which exceeds the single query max cost limit \(1000\)"):
        _client(fake).execute(PULL, {"first": 2})
    assert fake.shop.costs == [("PullOrders", 1510)]

    data = _client(fake).execute(PULL, {"first": 1})  # 756 points: answered, with its cost
    assert [n["id"] for n in data["orders"]["nodes"]] == ["gid://shopify/Order/1"]
    assert fake.shop.costs[-1] == ("PullOrders", 756)


def test_the_answer_carries_the_requested_cost_and_the_refusal_its_documented_shape(fake):
    import json

    import requests

    url = f"{fake.base_url}/admin/api/2025-01/graphql.json"
    headers = {"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"}
    small = requests.post(url, data=json.dumps({"query": PULL, "variables": {"first": 1}}), headers=headers).json()
    assert small["extensions"]["cost"]["requestedQueryCost"] == 756
    big = requests.post(url, data=json.dumps({"query": PULL, "variables": {"first": 2}}), headers=headers).json()
    assert "data" not in big
    assert big["errors"][0]["extensions"] == {
        "code": "MAX_COST_EXCEEDED",
        "cost": 1510,
        "maxCost": 1000,
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    }
