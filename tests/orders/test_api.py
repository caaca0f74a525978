import json

import pytest

from oms.models import ApiToken
from orders.models import InboundMessage, Order
from tests import journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, django_capture_on_commit_callbacks):
    """Calls the API as production does: what a request leaves for after commit (the inbox's drain
    task, eager in tests) runs when the request ends."""
    journey.world()
    users = journey.users()
    _, key = ApiToken.issue(users["manager"])
    _, wh_key = ApiToken.issue(users["warehouse"])

    def call(method, url, body=None, token=key):
        kwargs = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(url, **kwargs)

    def prefer(method, url, body=None):
        return client.generic(
            method.upper(),
            url,
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
            HTTP_PREFER="return=representation",
        )

    call.warehouse_key = wh_key
    call.prefer = prefer
    return call


def payload(external_id="API-1", **overrides):
    body = {
        "channel": "web",
        "external_id": external_id,
        "customer": {"name": "Han Meimei", "email": "han@example.com", "phone": "13712345678"},
        "ship_to": {
            "name": "Han Meimei",
            "phone": "13712345678",
            "country": "CN",
            "province": "Shanghai",
            "city": "Shanghai",
            "address1": "1 Nanjing Road",
            "postcode": "200001",
        },
        "lines": [{"sku": "SKU-A", "quantity": 2, "unit_price": "19.90"}],
    }
    body.update(overrides)
    return body


def test_post_creates_routes_and_get_shows_shipments(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api("post", "/api/v1/orders/", payload())
    assert response.status_code == 202
    accepted = response.json()
    message = InboundMessage.objects.get(source="api")
    assert accepted == {
        "status": "accepted",
        "message": message.pk,
        "channel": "web",
        "external_id": "API-1",
        "status_url": f"/api/v1/inbound/{message.pk}/",
    }
    assert response["Location"] == accepted["status_url"]
    outcome = api("get", accepted["status_url"]).json()
    number = Order.objects.get(external_id="API-1").number
    assert outcome["status"] == "processed" and outcome["created"] is True
    assert (outcome["order"], outcome["order_url"]) == (number, f"/api/v1/orders/{number}/")
    detail = api("get", f"/api/v1/orders/{number}/").json()
    assert detail["status"] == "allocated"
    assert detail["lines"][0] == {
        "line_no": 1,
        "sku": "SKU-A",
        "name": "云南咖啡豆 1kg",
        "quantity": 2,
        "unit_price": "19.90",
        "known_product": True,
        "is_gift": False,
        "gift_rule": None,
    }
    assert detail["shipments"][0]["location"] == "sha"
    assert detail["shipments"][0]["status"] == "reserved"
    assert detail["hold_reasons"] == []


def test_prefer_return_representation_keeps_the_synchronous_answer(api):
    response = api.prefer("post", "/api/v1/orders/", payload())
    assert response.status_code == 201 and response["Preference-Applied"] == "return=representation"
    body = response.json()
    order = Order.objects.get(external_id="API-1")
    assert (body["number"], body["status"], body["created"]) == (order.number, "confirmed", True)
    again = api.prefer("post", "/api/v1/orders/", payload())
    assert again.status_code == 200 and again.json()["created"] is False


def test_replay_returns_200_and_changes_nothing(api):
    assert api("post", "/api/v1/orders/", payload()).status_code == 202
    again = api("post", "/api/v1/orders/", payload())
    assert again.status_code == 200 and again.json()["created"] is False
    assert Order.objects.count() == 1
    assert InboundMessage.objects.filter(source="api").count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (payload(lines=[{"sku": "SKU-A", "quantity": 0}]), "lines[1].quantity"),
        (payload(lines=[{"quantity": 1}]), "lines[1].sku"),
        (payload(lines=[]), "lines"),
        (payload(placed_at="yesterday"), "placed_at"),
        (payload(channel="nope"), "channel"),
        (payload(external_id=""), "external_id"),
    ],
)
def test_bad_orders_get_400_with_field_errors_and_nothing_is_created(api, body, field):
    response = api("post", "/api/v1/orders/", body)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Order.objects.count() == 0
    message = InboundMessage.objects.get(source="api")
    assert message.status == "rejected"


def test_malformed_json_is_400(api):
    response = api("post", "/api/v1/orders/", "{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    assert InboundMessage.objects.get().body == "{not json"


def test_auth_and_permissions(api):
    assert api("get", "/api/v1/orders/", token=None).status_code == 401
    assert api("get", "/api/v1/orders/", token="wrong").status_code == 401
    assert api("post", "/api/v1/orders/", payload(), token=api.warehouse_key).status_code == 403
    assert api("get", "/api/v1/orders/", token=api.warehouse_key).status_code == 200
    assert api("delete", "/api/v1/orders/").status_code == 405


def test_list_filters_and_stock(api):
    api("post", "/api/v1/orders/", payload("A"))
    api("post", "/api/v1/orders/", payload("B"))
    listing = api("get", "/api/v1/orders/?external_id=B").json()
    assert [o["external_id"] for o in listing["results"]] == ["B"]
    page = api("get", "/api/v1/orders/?limit=1").json()
    assert len(page["results"]) == 1 and page["next"] is not None
    stock = api("get", "/api/v1/stock/?sku=SKU-A").json()["results"]
    assert stock == [
        {
            "sku": "SKU-A",
            "location": "sha",
            "on_hand": 20,
            "reserved": 4,  # the two orders above, routed after their requests (2 each)
            "available": 16,
            "bin": "A-01-01",
            "updated_at": stock[0]["updated_at"],
        }
    ]


def test_openapi_document_lists_the_endpoints(client):
    doc = client.get("/api/schema/").json()
    assert doc["openapi"].startswith("3.")
    assert {"/orders/", "/orders/{number}/", "/stock/"} <= set(doc["paths"])
    assert doc["components"]["schemas"]["OrderIn"]["required"] == ["channel", "external_id", "ship_to", "lines"]


def test_create_api_token_command(django_user_model):
    from io import StringIO

    from django.core.management import call_command

    django_user_model.objects.create_user("bot")
    out = StringIO()
    call_command("create_api_token", "bot", stdout=out)
    key = out.getvalue().strip()
    assert ApiToken.objects.get(key_hash=ApiToken.hash_key(key)).user.username == "bot"
