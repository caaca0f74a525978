"""The order API with a Chinese address as one line: ``ship_to.full`` (name, phone and address) or only
``address1`` holding everything; the answer carries the parsed parts."""

import json

import pytest

from oms.models import ApiToken
from orders.models import Order
from orders.status import EventKind, HoldReason
from tests import journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def prefer(client):
    journey.world()
    _, key = ApiToken.issue(journey.users()["manager"])

    def post(body):
        return client.post(
            "/api/v1/orders/",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
            HTTP_PREFER="return=representation",
        )

    return post


def body(external_id: str, ship_to: dict) -> dict:
    return {
        "channel": "web",
        "external_id": external_id,
        "ship_to": ship_to,
        "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "19.90"}],
    }


def test_ship_to_full_fills_name_phone_and_every_part(prefer):
    response = prefer(
        body("CN-1", {"full": "王五 13600136000 江苏省苏州市姑苏区人民路100号", "email": "w@example.com"})
    )
    assert response.status_code == 201, response.content
    assert response.json()["ship_to"] == {
        "name": "王五",
        "phone": "13600136000",
        "email": "w@example.com",
        "country": "CN",
        "province": "江苏省",
        "city": "苏州市",
        "district": "姑苏区",
        "address1": "人民路100号",
        "address2": "",
        "postcode": "",
    }
    assert response.json()["hold_reasons"] == []


def test_address1_with_everything_keeps_address1_and_answers_the_parts(prefer):
    ship_to = {"name": "李四", "phone": "0731-88886666", "country": "CN", "address1": "湖南长沙岳麓区麓山南路932号"}
    response = prefer(body("CN-2", ship_to))
    assert response.status_code == 201, response.content
    got = response.json()["ship_to"]
    assert (got["province"], got["city"], got["district"], got["address1"]) == (
        "湖南省",
        "长沙市",
        "岳麓区",
        "湖南长沙岳麓区麓山南路932号",
    )
    order = Order.objects.get(external_id="CN-2")
    assert order.events.filter(kind=EventKind.ADDRESS_PARSED).count() == 1


def test_full_never_replaces_a_field_the_sender_gave(prefer):
    ship_to = {"full": "王五 13600136000 江苏省苏州市姑苏区人民路100号", "name": "Wang Wu", "city": "苏州"}
    response = prefer(body("CN-3", ship_to))
    got = response.json()["ship_to"]
    assert (got["name"], got["phone"], got["city"], got["province"], got["district"]) == (
        "Wang Wu",
        "13600136000",
        "苏州",
        "江苏省",
        "姑苏区",
    )


def test_a_full_line_that_does_not_resolve_is_held_with_suggestions(prefer):
    response = prefer(body("CN-4", {"full": "王五 13600136000 浙江省杭州市鼓楼区中山路1号"}))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["on_hold"] is True
    assert data["hold_reasons"][0]["reason"] == HoldReason.ADDRESS_INVALID
    assert "Did you mean: 江苏省 南京市 鼓楼区" in data["hold_reasons"][0]["note"]
    assert (data["ship_to"]["province"], data["ship_to"]["address1"]) == ("", "浙江省杭州市鼓楼区中山路1号")


def test_a_full_line_too_long_is_a_field_error(prefer):
    response = prefer(body("CN-5", {"full": "路" * 1001}))
    assert response.status_code == 400
    assert {"field": "ship_to.full", "message": "is 1001 characters long; no address has more than 1000."} in [
        {k: e[k] for k in ("field", "message")} for e in response.json()["errors"]
    ]
    assert not Order.objects.filter(external_id="CN-5").exists()


def test_a_full_line_with_a_nul_is_a_field_error(prefer):
    response = prefer(body("CN-6", {"full": "王五 13600136000 江苏省苏州市\u0000姑苏区"}))
    assert response.status_code == 400
    assert "ship_to.full" in [e["field"] for e in response.json()["errors"]]
    assert not Order.objects.filter(external_id="CN-6").exists()
