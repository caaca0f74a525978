"""The bad-input corpus (issue 13, item 3): the world every edge test shares and the helpers that say
"nothing else was written"."""

import json
from pathlib import Path

import pytest

from logistics.models import TrackingEvent
from oms.models import ApiToken
from orders.models import Customer, InboundMessage, Order, OrderEvent, OrderHold, OrderLine
from tests.factories import ChannelFactory, ProductFactory, make_user

ORDER_FIXTURES = Path(__file__).resolve().parent.parent / "orders" / "fixtures"
SHOPIFY_SECRET = "shpss_edges_0123456789"
WOO_SECRET = "woo-edges-secret-123"
# Small enough that a test can go past it cheaply.
MAX_BODY = 256 * 1024


@pytest.fixture(autouse=True)
def edges_world(db, settings):
    settings.INTAKE_MAX_BODY_BYTES = MAX_BODY
    ProductFactory(sku="SKU-A", name="Coffee 1kg")
    ProductFactory(sku="SKU-B", name="Tea 500g")
    ChannelFactory(slug="web", name="Web shop")
    ChannelFactory(slug="shop", name="Shopify store", platform="shopify", webhook_secret=SHOPIFY_SECRET)
    ChannelFactory(slug="woo", name="Woo store", platform="woocommerce", webhook_secret=WOO_SECRET)


@pytest.fixture
def manager(db):
    return make_user("edge-manager", "manager")


@pytest.fixture
def token(manager):
    _, key = ApiToken.issue(manager)
    return key


def written() -> dict:
    """Counts of everything an order or a tracking push writes."""
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "customers": Customer.objects.count(),
        "events": OrderEvent.objects.count(),
        "holds": OrderHold.objects.count(),
        "tracking_events": TrackingEvent.objects.count(),
    }


NOTHING = {"orders": 0, "lines": 0, "customers": 0, "events": 0, "holds": 0, "tracking_events": 0}


def only_message() -> InboundMessage:
    """The one message stored: every bad input leaves exactly one, with an outcome."""
    [message] = InboundMessage.objects.all()
    assert message.status != "received", "a stored message must end with an outcome"
    assert message.processed_at is not None
    return message


def api_payload(**changes) -> dict:
    body = {
        "channel": "web",
        "external_id": "EDGE-1",
        "customer": {"name": "Han Meimei", "email": "han@example.com", "phone": "13712345678"},
        "ship_to": {
            "name": "Han Meimei",
            "phone": "13712345678",
            "email": "han@example.com",
            "country": "CN",
            "province": "Shanghai",
            "city": "Shanghai",
            "district": "Huangpu",
            "address1": "1 Nanjing Road",
            "address2": "",
            "postcode": "200001",
        },
        "lines": [{"sku": "SKU-A", "quantity": 2, "unit_price": "19.90", "name": "Coffee"}],
        "currency": "CNY",
    }
    body.update(changes)
    return body


def set_path(data: dict, path: str, value) -> dict:
    """Set ``a.b[0].c`` in a nested JSON value (a copy)."""
    data = json.loads(json.dumps(data))
    target = data
    parts = path.replace("[", ".[").split(".")
    keys = [int(p[1:-1]) if p.startswith("[") else p for p in parts if p]
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return data


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def shopify_data() -> dict:
    return json.loads((ORDER_FIXTURES / "shopify_orders_create.json").read_text(encoding="utf-8"))


def woo_data() -> dict:
    return json.loads((ORDER_FIXTURES / "woocommerce_order_created.json").read_text(encoding="utf-8"))
