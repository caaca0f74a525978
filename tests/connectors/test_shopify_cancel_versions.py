"""Shopify's ``orderCancel`` by the connection's API version: from Admin API 2025-07 the refund goes as
``refundMethod: {originalPaymentMethodsRefund: true}`` (``refund: Boolean`` is deprecated there), before it as
``refund: true`` (``refundMethod`` is an argument those versions refuse). The fake Shopify checks the document
against the version in the URL (tests/connectors/fake_shopify_cancel.py)."""

import pytest
import requests

from connectors.base import Rejected
from connectors.models import ChannelConnection
from connectors.shopify.adapter import ORDER_CANCEL, ORDER_CANCEL_REFUND_METHOD, refund_method_version
from connectors.shopify.client import ShopifyClient
from oms.models import OutboxMessage
from workflows.cancel import order_cancel_request

from .conftest import make_order
from .fake_shopify import TOKEN

pytestmark = pytest.mark.django_db

CANCEL = {
    "orderId": "gid://shopify/Order/5001",
    "reason": "CUSTOMER",
    "restock": False,
    "notifyCustomer": False,
    "staffNote": "test",
}


def cancel_on(capture, world, version: str):
    ChannelConnection.objects.filter(pk=world["connection"].pk).update(cancel_notices=True, api_version=version)
    order = make_order(capture, world)
    with capture(execute=True):
        order_cancel_request(order=order, reason_code="customer_request", note="changed mind")
    return list(OutboxMessage.objects.filter(kind="channel.cancel").values_list("status", "attempts", "last_error"))


@pytest.mark.parametrize("version", ["2025-07", "2025-10", "unstable"])
def test_from_2025_07_the_refund_goes_as_refund_method(fake, world, version, django_capture_on_commit_callbacks):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    assert cancel_on(django_capture_on_commit_callbacks, world, version) == [("sent", 1, "")]
    [(_name, variables)] = fake.shop.operations("OrderCancel")
    assert variables["refundMethod"] == {"originalPaymentMethodsRefund": True}
    assert "refund" not in variables
    assert (variables["reason"], variables["restock"], variables["notifyCustomer"]) == ("CUSTOMER", False, False)
    assert fake.shop.cancelled[gid]["refundMethod"] == {"originalPaymentMethodsRefund": True}
    assert fake.shop.deprecated == []  # nothing deprecated was used


@pytest.mark.parametrize("version", ["2024-10", "2025-04", ""])
def test_before_2025_07_the_refund_goes_as_refund(fake, world, version, django_capture_on_commit_callbacks):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    assert cancel_on(django_capture_on_commit_callbacks, world, version) == [("sent", 1, "")]
    [(_name, variables)] = fake.shop.operations("OrderCancel")
    assert variables["refund"] is True
    assert "refundMethod" not in variables
    assert fake.shop.cancelled[gid]["refund"] is True


def test_the_versions_that_take_refund_method():
    assert [refund_method_version(v) for v in ("", "2025-01", "2025-04", "2025-07", "2026-01", "unstable")] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_the_fake_refuses_refund_method_before_2025_07_as_shopify_does(fake):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 1)])
    variables = {**CANCEL, "refundMethod": {"originalPaymentMethodsRefund": True}}
    raw = requests.post(
        f"{fake.base_url}/admin/api/2025-04/graphql.json",
        json={"query": ORDER_CANCEL_REFUND_METHOD, "variables": variables},
        headers={"X-Shopify-Access-Token": TOKEN},
        timeout=10,
    )
    assert raw.status_code == 200
    body = raw.json()
    assert "data" not in body
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("OrderCancelRefundMethodInput isn't a defined input type (on $refundMethod)", "variableRequiresValidType"),
        ("Field 'orderCancel' doesn't accept argument 'refundMethod'", "argumentNotAccepted"),
        ("Field 'orderCancel' is missing required arguments: refund", "missingRequiredArguments"),
    ]
    client = ShopifyClient(base_url=fake.base_url, token=TOKEN, version="2025-04")
    with pytest.raises(Rejected, match="doesn't accept argument 'refundMethod'"):
        client.execute(ORDER_CANCEL_REFUND_METHOD, variables)
    assert fake.shop.cancelled == {}  # nothing was cancelled


def test_the_fake_answers_deprecated_refund_from_2025_07_with_shopifys_header(fake):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 1)])
    raw = requests.post(
        f"{fake.base_url}/admin/api/2025-07/graphql.json",
        json={"query": ORDER_CANCEL, "variables": {**CANCEL, "refund": True}},
        headers={"X-Shopify-Access-Token": TOKEN},
        timeout=10,
    )
    assert raw.json()["data"]["orderCancel"]["orderCancelUserErrors"] == []
    assert raw.headers["X-Shopify-API-Deprecated-Reason"].startswith("https://shopify.dev/")
    assert fake.shop.deprecated == [("OrderCancel", "refund")]
    assert fake.shop.cancelled[gid]["refund"] is True


def test_the_fake_refuses_a_refund_method_field_the_input_does_not_define(fake):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 1)])
    client = ShopifyClient(base_url=fake.base_url, token=TOKEN, version="2025-07")
    variables = {**CANCEL, "refundMethod": {"originalPaymentMethodRefund": True}}
    with pytest.raises(Rejected, match="Field is not defined on OrderCancelRefundMethodInput"):
        client.execute(ORDER_CANCEL_REFUND_METHOD, variables)
    assert fake.shop.cancelled == {}
