"""Reconciliation against Shopify (issue 16): orders Shopify shows fulfilled that are still open here are listed;
the question is one ``nodes(ids:)`` call per 250 orders."""

import pytest

from connectors import reconcile

from .conftest import make_order
from .fake_shopify import order_node

pytestmark = pytest.mark.django_db


def test_an_order_fulfilled_on_shopify_but_open_here_is_listed(fake, world, django_capture_on_commit_callbacks):
    fake.shop.orders.append(order_node(5001, updated_at="2026-12-05T10:00:00Z", displayFulfillmentStatus="FULFILLED"))
    fake.shop.orders.append(
        order_node(5002, updated_at="2026-12-05T10:00:00Z", displayFulfillmentStatus="PARTIALLY_FULFILLED")
    )
    first = make_order(django_capture_on_commit_callbacks, world)
    make_order(django_capture_on_commit_callbacks, world, external_id="5002")
    make_order(django_capture_on_commit_callbacks, world, external_id="5003")  # Shopify does not know it: null
    first.refresh_from_db()

    result = reconcile.connection_reconcile(connection_id=world["connection"].pk)

    assert (result.reverse_checked, result.error) == (True, "")
    assert result.open_here == [
        {
            "order": first.pk,
            "number": first.number,
            "external_id": "5001",
            "status": first.status,
            "theirs": "FULFILLED",
        }
    ]
    [(_name, variables)] = fake.shop.operations("OrdersStatus")
    assert sorted(variables["ids"]) == [f"gid://shopify/Order/{n}" for n in (5001, 5002, 5003)]


def test_a_refused_token_is_the_runs_error(fake, world, django_capture_on_commit_callbacks):
    make_order(django_capture_on_commit_callbacks, world)
    fake.shop.fail_next("401")
    result = reconcile.connection_reconcile(connection_id=world["connection"].pk)
    assert result.open_here == [] and result.error.startswith("Refused")
