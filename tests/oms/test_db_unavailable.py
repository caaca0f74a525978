"""The database away mid-request (issue 13, item 2): the API and webhooks answer JSON 503 with
Retry-After, pages a short 503, never an HTML 500; other errors are not disguised as 503."""

import json

import psycopg
import pytest
from django.db import OperationalError

from oms.models import ApiToken
from orders.intake import inbox as orders_inbox
from orders.models import InboundMessage, Order
from orders.views import api as orders_api
from orders.views import orders as orders_views
from tests import journey

pytestmark = pytest.mark.django_db


def _connection_lost(*args, **kwargs):
    try:
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    except psycopg.Error as exc:
        raise OperationalError(str(exc)) from exc


@pytest.fixture
def world():
    journey.world()
    return journey.users()


def _post(client, key, external_id="DB-1"):
    body = {
        "channel": "web",
        "external_id": external_id,
        "ship_to": {
            "name": "Han",
            "phone": "13712345678",
            "country": "CN",
            "province": "Shanghai",
            "city": "Shanghai",
            "address1": "1 Nanjing Road",
            "postcode": "200001",
        },
        "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "19.90"}],
    }
    return client.post(
        "/api/v1/orders/", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    )


def test_the_api_answers_json_503_with_retry_after_when_the_database_is_away(world, client, monkeypatch):
    _, key = ApiToken.issue(world["manager"])
    monkeypatch.setattr(orders_inbox, "_existing", _connection_lost)  # the replay check, before the INSERT

    response = _post(client, key)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert "try again" in response.json()["error"]
    assert not Order.objects.exists()
    assert not InboundMessage.objects.exists()


def test_a_retry_after_503_finds_the_order_that_was_committed(
    world, client, monkeypatch, django_capture_on_commit_callbacks
):
    _, key = ApiToken.issue(world["manager"])
    assert _post(client, key).status_code == 202
    real = orders_api._accepted_answer
    calls = []

    def lost_after_commit(verdict):  # the message was stored; the answer could not be built
        calls.append(verdict.message.pk)
        if len(calls) == 1:
            _connection_lost()
        return real(verdict)

    monkeypatch.setattr(orders_api, "_accepted_answer", lost_after_commit)
    with django_capture_on_commit_callbacks(execute=True):  # the inbox applies it after the commit
        assert _post(client, key, "DB-2").status_code == 503
    again = _post(client, key, "DB-2")

    assert again.status_code == 200
    assert again.json()["created"] is False
    assert Order.objects.filter(external_id="DB-2").count() == 1
    assert InboundMessage.objects.filter(source="api").count() == 3


def test_a_page_answers_a_short_503_not_a_500(world, client, monkeypatch):
    client.force_login(world["manager"])
    monkeypatch.setattr(orders_views, "render", _connection_lost)

    response = client.get("/orders/new/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Try again in a moment" in response.content


def test_a_real_bug_is_not_disguised_as_503(world, client, monkeypatch):
    client.force_login(world["manager"])

    def bug(*args, **kwargs):
        raise OperationalError("no such table: orders_order")

    monkeypatch.setattr(orders_views, "render", bug)
    client.raise_request_exception = False

    assert client.get("/orders/new/").status_code == 500
