"""The Shopify client's answers to each way Shopify fails (no database: the client alone, on loopback)."""

import pytest

from connectors.base import Refused, Rejected, RetryLater, Transient
from connectors.shopify import client as shopify_client
from connectors.shopify.client import ShopifyClient

from .fake_shopify import TOKEN, order_node
from .fake_shopify_server import FakeShopify

QUERY = "query PullOrders($first: Int!, $after: String, $query: String) { orders { nodes { id } } }"


@pytest.fixture
def fake():
    with FakeShopify() as server:
        yield server


def _client(fake, token=TOKEN):
    return ShopifyClient(base_url=fake.base_url, token=token, version="2025-01")


def test_a_good_answer_is_its_data_and_the_token_goes_in_the_header(fake):
    fake.shop.orders = [order_node(1, updated_at="2026-12-05T10:00:00Z")]
    data = _client(fake).execute(QUERY, {"first": 5})
    assert [n["legacyResourceId"] for n in data["orders"]["nodes"]] == ["1"]
    assert fake.shop.requests == [("PullOrders", {"first": 5})]


@pytest.mark.parametrize(
    ("failure", "error", "text", "after"),
    [
        ({"kind": "429", "retry_after": "3.5"}, RetryLater, "Shopify answered 429 (too many requests).", 3.5),
        ({"kind": "429", "retry_after": "soon"}, RetryLater, "Shopify answered 429 (too many requests).", 2.0),
        ({"kind": "throttled"}, RetryLater, "Shopify throttled the request: Throttled", 2.0),
        ({"kind": "500"}, Transient, "Shopify answered 500: Internal Server Error", None),
        ({"kind": "401"}, Refused, "Shopify answered 401: [API] Invalid API key or access token", None),
    ],
)
def test_each_failure_is_its_connector_error(fake, failure, error, text, after):
    fake.shop.failures = [failure]
    with pytest.raises(error) as caught:
        _client(fake).execute(QUERY, {"first": 5})
    assert str(caught.value).startswith(text)
    assert getattr(caught.value, "after_seconds", None) == after
    assert TOKEN not in str(caught.value)


def test_a_wrong_token_is_refused_and_never_repeated(fake):
    with pytest.raises(Refused) as caught:
        _client(fake, token="shpat_wrong_wrong_wrong_1234").execute(QUERY, {"first": 5})
    assert "shpat_wrong" not in str(caught.value)
    assert "shpat_wrong" not in repr(_client(fake, token="shpat_wrong_wrong_wrong_1234"))


def test_no_token_is_refused_without_a_call(fake):
    with pytest.raises(Refused, match="No access token"):
        _client(fake, token="").execute(QUERY)
    assert fake.shop.requests == []


def test_an_unknown_operation_is_rejected_with_shopifys_message(fake):
    with pytest.raises(Rejected, match="Unknown operation 'Nope'"):
        _client(fake).execute("query Nope { shop { name } }")


def test_a_timeout_and_a_closed_port_are_transient(fake, monkeypatch):
    monkeypatch.setattr(shopify_client, "TIMEOUT_SECONDS", 0.2)
    fake.shop.fail_next("timeout", seconds=1.0)
    with pytest.raises(Transient, match="did not answer within 0.2 s"):
        _client(fake).execute(QUERY, {"first": 5})
    closed = ShopifyClient(base_url="http://127.0.0.1:9", token=TOKEN, version="2025-01")
    with pytest.raises(Transient, match="Could not reach Shopify"):
        closed.execute(QUERY)


def test_the_session_reads_the_proxy_and_ca_settings_once_when_it_is_made(monkeypatch):
    from connectors.shopify.client import session_for

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "bypassed.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/our-ca.pem")
    session = session_for("https://proxied-shop.example")
    assert session.proxies.get("https") == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/our-ca.pem"
    assert session.trust_env is False
    assert session_for("https://bypassed.example").proxies == {}
    monkeypatch.delenv("HTTPS_PROXY")
    assert session_for("https://proxied-shop.example") is session  # made once per shop and thread
