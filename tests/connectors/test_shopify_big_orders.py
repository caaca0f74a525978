"""Shopify orders bigger than one page of a read (issue 16): every read the adapter sends stays within Shopify's
1,000-point single-query limit (the fake refuses more, MAX_COST_EXCEEDED), its cost as the adapter works it out
is the one Shopify works out, and an order whose line items or fulfillment orders run over a page has the rest
read with ``after:``: nothing is lost on pull or on confirm."""

import pytest
from graphql import parse

from connectors import services
from connectors.shopify import reads
from connectors.shopify.client import ShopifyClient
from orders.models import Order
from tests.factories import ProductFactory, stock

from .conftest import dispatch, make_order, ship, shipment_rows
from .fake_shopify import TOKEN, order_node
from .fake_shopify_cost import MAX_COST, requested_cost


def _shopify_cost(document: str, variables: dict) -> int:
    return requested_cost(parse(document).definitions[0], variables)


def test_the_adapters_costs_are_shopifys_and_each_read_fits_the_limit():
    ids = [f"gid://shopify/Order/{i}" for i in range(reads.READ_ORDERS)]
    sized = {"fulfillments": reads.READ_FULFILLMENTS, "fos": reads.READ_FOS, "lines": reads.READ_FO_LINES}
    cases = [
        (
            reads.ORDERS_QUERY,
            {"first": reads.PAGE_SIZE, "lines": reads.PULL_LINES},
            reads.pull_cost(reads.PAGE_SIZE, reads.PULL_LINES),
        ),
        (reads.ORDER_LINES_QUERY, {"first": reads.LINES_PAGE}, reads.order_lines_cost(reads.LINES_PAGE)),
        (reads.ORDERS_FULFILLMENT_QUERY, {"ids": ids, **sized}, reads.orders_fulfillment_cost(reads.READ_ORDERS)),
        (
            reads.ORDER_FOS_QUERY,
            {"fos": reads.FOS_PAGE, "lines": reads.READ_FO_LINES},
            1 + reads.fos_cost(reads.FOS_PAGE, reads.READ_FO_LINES),
        ),
        (
            reads.FO_LINES_QUERY,
            {"first": reads.FO_LINES_PAGE},
            1 + reads.connection_cost(reads.FO_LINES_PAGE, reads.FO_LINE_COST),
        ),
        (reads.FULFILLMENT_ORDERS_QUERY, {}, reads.order_fulfillment_cost(5, 2, 10)),
        (
            reads.ORDER_FULFILLMENTS_QUERY,
            {"fulfillments": reads.FULFILLMENTS_PAGE},
            1 + reads.connection_cost(reads.FULFILLMENTS_PAGE, reads.FULFILLMENT_COST),
        ),
    ]
    for document, variables, ours in cases:
        assert _shopify_cost(document, variables) == ours <= MAX_COST
    # The pages are as large as the limit lets them be.
    assert reads.pull_cost(reads.PAGE_SIZE + 1, reads.PULL_LINES) > MAX_COST
    assert reads.orders_fulfillment_cost(reads.READ_ORDERS + 1) > MAX_COST
    # What the adapter asked before (50 orders of 250 lines; 50 fulfillment orders of 250 lines) Shopify refuses.
    assert reads.pull_cost(50, 250) > 30 * MAX_COST
    assert reads.order_fulfillment_cost(50, 50, 250) > 25 * MAX_COST


@pytest.mark.django_db
def test_an_order_of_more_lines_than_a_page_is_pulled_whole(
    fake, world, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reads, "LINES_PAGE", 10)  # the follow-up reads 10 lines at a time: 3 of them
    skus = [f"SKU-{i:02d}" for i in range(45)]
    for sku in skus:
        ProductFactory(sku=sku)
    fake.shop.orders = [
        order_node(7001, updated_at="2026-12-05T10:00:00Z", lines=[(sku, 1 + i % 3) for i, sku in enumerate(skus)]),
        order_node(7002, updated_at="2026-12-05T10:05:00Z"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_pull(connection_id=world["connection"].pk)

    order = Order.objects.get(external_id="7001")
    assert sorted(order.lines.values_list("sku", "quantity")) == [(sku, 1 + i % 3) for i, sku in enumerate(skus)]
    assert Order.objects.get(external_id="7002").lines.count() == 1
    follow_ups = fake.shop.operations("OrderLineItems")
    assert [(v["id"], v["after"]) for _n, v in follow_ups] == [
        ("gid://shopify/Order/7001", str(reads.PULL_LINES)),
        ("gid://shopify/Order/7001", str(reads.PULL_LINES + 10)),
        ("gid://shopify/Order/7001", str(reads.PULL_LINES + 20)),
    ]
    assert max(cost for _n, cost in fake.shop.costs) <= MAX_COST


@pytest.mark.django_db
def test_an_order_of_many_fulfillment_orders_and_lines_is_confirmed_whole(
    fake, world, monkeypatch, django_capture_on_commit_callbacks
):
    skus = [f"SKU-{i:02d}" for i in range(75)]
    for sku in skus:
        stock(world["location"], ProductFactory(sku=sku), 5, bin="A-01")
    lines = [(sku, 1) for sku in skus]
    gid = fake.shop.add_fulfillable_order(5001, lines, fulfillment_orders=3)  # 25 lines each, 3 FOs
    order = make_order(django_capture_on_commit_callbacks, world, external_id="5001", lines=lines)
    number = ship(django_capture_on_commit_callbacks, order.shipments.get()).tracking_number
    fake.shop.requests.clear()

    assert dispatch() == {"sent": 1}

    assert shipment_rows() == [("sent", 1, "")]
    assert set(fake.shop.open_quantities(gid).values()) == {0}  # every line of every fulfillment order
    (fulfillment,) = fake.shop.fulfillments.values()
    assert fulfillment["trackingInfo"]["numbers"] == [number]
    names = [name for name, _v in fake.shop.requests]
    assert names[0] == "OrdersFulfillment" and names[-1] == "FulfillmentsCreate"
    assert names.count("OrderFulfillmentOrders") == 1  # the third fulfillment order
    assert names.count("FulfillmentOrderLines") == 3  # lines 11-25 of each
    assert max(cost for _n, cost in fake.shop.costs) <= MAX_COST


def test_an_order_with_more_fulfillments_than_the_read_holds_has_them_all_read(fake):
    """Our fulfillment is looked for among all the order's (nothing fulfilled twice), however many it has."""
    skus = [f"SKU-{i}" for i in range(reads.READ_FULFILLMENTS + 2)]
    gid = fake.shop.add_fulfillable_order(9001, [(sku, 1) for sku in skus])
    (fo,) = fake.shop.fulfillment_orders[gid]
    for item in list(fo["lineItems"]):
        group = {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [{"id": item["id"], "quantity": 1}]}
        fulfillment = {"lineItemsByFulfillmentOrder": [group], "trackingInfo": {"numbers": [f"N-{item['sku']}"]}}
        assert fake.shop.fulfillment_create({"fulfillment": fulfillment})["fulfillmentCreate"]["fulfillment"]
    client = ShopifyClient(base_url=fake.base_url, token=TOKEN, version="2025-01")

    (order,) = reads.read_orders(client, [gid]).values()

    assert sorted(t["number"] for f in order["fulfillments"] for t in f["trackingInfo"]) == [f"N-{s}" for s in skus]
    assert [name for name, _v in fake.shop.requests] == ["OrdersFulfillment", "OrderFulfillments"]
