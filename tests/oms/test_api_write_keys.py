"""Every write endpoint of the API (POST/PUT/PATCH under /api/v1/) refuses a key it does not know, at any depth:
400 naming its path (``note: unknown field; known: …``), never a 5xx, nothing written. The endpoints other than the
order intake's share one door (oms/api.py ``json_input``) that reads the published request schema, and the order
intake's reads its own (``OrderIn``, ``InvoiceIn``) through the same check (``unknown_keys``, from
orders/intake/order_in.py), so the check and the schema (``additionalProperties: false``) cannot drift apart.
Hypothesis adds keys of its own to every object of each endpoint's body (derandomized: the same examples each
run; its parts shared with tests/edges/test_api_unknown_keys.py in tests/unknown_keys.py)."""

import json
from datetime import timedelta
from functools import cache

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import strategies as st

from fulfillment.models import Shipment
from inventory.models import Product
from logistics.models import Parcel
from oms.api import openapi_document, shown_key
from oms.models import ApiToken, OutboxMessage
from orders.models import (
    Channel,
    ChannelSku,
    GiftRule,
    InvoiceRequest,
    MergeSettings,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderMergeGroup,
)
from orders.services import order_hold
from orders.status import HoldReason
from reports.models import PeakEvent
from tests import journey
from tests.factories import CarrierFactory, ServiceLevelFactory, api_order
from tests.unknown_keys import named_unknown, profile, values

pytestmark = pytest.mark.django_db
WRITES = {"POST", "PUT", "PATCH"}
CUSTOMER = {"name": "Han Meimei", "email": "han@example.com", "phone": "13712345678"}


@pytest.fixture
def world(client, django_capture_on_commit_callbacks):
    """A packed shipment (ship-external), two orders merged into one group (merge undo), a product and a channel
    (presale, gift rules) and an admin's token: each endpoint's plain body would be taken."""
    ServiceLevelFactory(carrier=CarrierFactory(code="sf", name="SF Express", adapter="local"), code="sf-std")
    packed = journey.order_through(django_capture_on_commit_callbacks, "packed")
    _, key = ApiToken.issue(journey.users()["admin"])
    MergeSettings.objects.create(pk=1, enabled=True, window_minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        batch = {"orders": [api_order("B1", customer=CUSTOMER), api_order("B2", qty=2, customer=CUSTOMER)]}
        answer = call(client, key, "post", "/api/v1/orders/batch/", batch)
    assert answer.status_code == 202, answer.content
    merged = Order.objects.get(external_id="B2")
    assert OrderMergeGroup.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        alone = api_order("F1", address1="9 Huaihai Road", customer={**CUSTOMER, "email": "li@example.com"})
        answer = call(client, key, "post", "/api/v1/orders/", alone)
    assert answer.status_code == 201, answer.content
    held = order_hold(order=Order.objects.get(external_id="F1"), reason=HoldReason.FINANCE_REVIEW, note="below floor")
    return {"key": key, "order": packed, "shipment": packed.shipments.get(), "merged": merged, "held": held}


def call(client, key, method, url, body):
    return getattr(client, method)(
        url,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
        HTTP_PREFER="return=representation",
    )


def endpoints(world) -> dict[str, tuple[str, str, dict]]:
    """Each write endpoint: method, URL and a body it takes."""
    order, shipment = world["order"].number, world["shipment"].number
    later = (timezone.localdate() + timedelta(days=30)).isoformat()
    new_order = api_order("N1", customer=CUSTOMER, invoice={"title": "王五"})
    return {
        "orders": ("post", "/api/v1/orders/", new_order),
        "orders-batch": ("post", "/api/v1/orders/batch/", {"orders": [api_order("N2", customer=CUSTOMER)]}),
        "invoice": ("post", f"/api/v1/orders/{order}/invoice/", {"title": "王五"}),
        "tags": ("post", f"/api/v1/orders/{order}/tags/", {"add": ["vip"], "remove": ["fragile"]}),
        "memo": ("patch", f"/api/v1/orders/{order}/memo/", {"seller_memo": "加急", "seller_flag": "red"}),
        "gift-rules": ("post", "/api/v1/gift-rules/", {"name": "送杯", "gift_sku": "SKU-A", "channels": ["web"]}),
        "presale": ("post", "/api/v1/presale/", {"sku": "SKU-A", "ship_from": later, "batch_quantity": 5}),
        "ship-external": (
            "post",
            f"/api/v1/shipments/{shipment}/ship-external/",
            {"carrier": "sf", "tracking_number": "SF1234567890"},
        ),
        "merge-undo": ("post", f"/api/v1/orders/{world['merged'].number}/merge/undo/", {"note": "two parcels"}),
        "finance-approve": ("post", f"/api/v1/orders/{world['held'].number}/finance/approve/", {"note": "VIP price"}),
        "finance-reject": ("post", f"/api/v1/orders/{world['held'].number}/finance/reject/", {"reason": "typo"}),
        "merge-settings": ("patch", "/api/v1/merge-settings/", {"enabled": False, "exclude_tags": ["no-merge"]}),
        "privacy": ("patch", "/api/v1/channels/web/privacy/", {"mask_recipient": True}),
        "peak-events": ("post", "/api/v1/peak-events/", {"name": "店庆", "start": later, "end": later, "uplift": 2}),
    }


NAMES = [
    "orders",
    "invoice",
    "tags",
    "memo",
    "gift-rules",
    "presale",
    "ship-external",
    "merge-undo",
    "finance-approve",
    "finance-reject",
    "merge-settings",
    "privacy",
    "peak-events",
]


def state() -> dict:
    """Every row the write endpoints write (a rejected order message aside: it is kept by design)."""
    models = (
        Order,
        OrderLine,
        OrderEvent,
        OrderHold,
        InvoiceRequest,
        GiftRule,
        Product,
        ChannelSku,
        Shipment,
        Parcel,
        OrderMergeGroup,
        MergeSettings,
        Channel,
        PeakEvent,
        OutboxMessage,
    )
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def _objects(value, place: str = "") -> list[tuple[str, dict]]:
    """Every object in a body, with the path prefix an error gives its keys (``lines[1].``)."""
    if isinstance(value, dict):
        found = [(place, value)]
        for key, inner in value.items():
            found += _objects(inner, f"{place}{key}.")
        return found
    if isinstance(value, list):
        return [o for i, item in enumerate(value, start=1) for o in _objects(item, f"{place.removesuffix('.')}[{i}].")]
    return []


def _schema_objects(schema: dict, schemas: dict, seen=()) -> list[dict]:
    """Every object schema with properties inside ``schema`` ($refs followed)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return [] if name in seen else _schema_objects(schemas[name], schemas, (*seen, name))
    found = [schema] if isinstance(schema.get("properties"), dict) else []
    for inner in (schema.get("properties") or {}).values():
        found += _schema_objects(inner, schemas, seen)
    if isinstance(schema.get("items"), dict):
        found += _schema_objects(schema["items"], schemas, seen)
    return found


@cache
def _known_anywhere() -> frozenset[str]:
    """Every key some request or answer schema lists (the URL conf loaded first: each API module registers its own)."""
    get_resolver().url_patterns  # noqa: B018 (loads the URL conf)
    schemas = openapi_document()["components"]["schemas"]
    return frozenset(
        key for schema in schemas.values() for o in _schema_objects(schema, schemas) for key in o["properties"]
    )


def _api_routes(resolver=None, prefix: str = ""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
            yield prefix + str(pattern.pattern), pattern.callback


def _doc_path(route: str) -> str:
    parts = route.removeprefix("api/v1").split("/")
    return "/".join("{" + p.split(":")[-1].strip("<>") + "}" if p.startswith("<") else p for p in parts)


def test_every_write_endpoint_publishes_a_closed_request_schema():
    writes = {
        (_doc_path(route), method.lower())
        for route, view in _api_routes()
        for method in getattr(view, "api_methods", {})
        if method in WRITES
    }
    assert writes == {
        ("/orders/", "post"),
        ("/orders/batch/", "post"),
        ("/orders/{number}/invoice/", "post"),
        ("/orders/{number}/tags/", "post"),
        ("/orders/{number}/memo/", "patch"),
        ("/orders/{number}/merge/undo/", "post"),
        ("/orders/{number}/finance/approve/", "post"),
        ("/orders/{number}/finance/reject/", "post"),
        ("/merge-settings/", "patch"),
        ("/channels/{slug}/privacy/", "patch"),
        ("/peak-events/", "post"),
        ("/gift-rules/", "post"),
        ("/presale/", "post"),
        ("/shipments/{number}/ship-external/", "post"),
    }
    doc = openapi_document()  # after the URL conf is loaded: each API module registers its paths
    schemas = doc["components"]["schemas"]
    for path, method in writes:
        body = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        objects = _schema_objects(body, schemas)
        assert objects, (path, method)
        assert all(o.get("additionalProperties") is False for o in objects), (path, method)


@pytest.mark.parametrize("name", NAMES)
def test_each_endpoints_plain_body_is_taken(client, world, name, django_capture_on_commit_callbacks):
    """The bodies the property below adds keys to are good ones: what refuses them there is the extra key."""
    method, url, body = endpoints(world)[name]
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, world["key"], method, url, body)
    assert response.status_code in (200, 201), response.content[:300]


GIFT_RULE_KEYS = (
    "active, bought_skus, channels, ends_at, gift_quantity, gift_sku, limit_per_customer, min_goods_total, "
    "min_quantity, name, out_of_stock, position, starts_at, stop_processing"
)


@pytest.mark.parametrize(
    ("name", "key", "known"),
    [
        ("tags", "colour", "add, remove"),
        ("memo", "seller_memos", "seller_flag, seller_memo"),
        ("presale", "batch_qty", "batch_quantity, channel, ship_from, sku"),
        ("ship-external", "carrier_code", "carrier, carrier_name, tracking_number"),
        ("merge-undo", "notes", "note"),
        ("finance-approve", "notes", "note"),
        ("finance-reject", "reasons", "reason"),
        ("privacy", "mask", "mask_recipient"),
        ("peak-events", "uplift_factor", "active, end, name, start, uplift, yearly"),
        ("merge-settings", "window", "disabled_channels, enabled, exclude_tags, wait_minutes, window_minutes"),
        ("gift-rules", "gift_product", GIFT_RULE_KEYS),
    ],
)
def test_a_misspelt_key_is_400_naming_it_with_the_known_ones_and_nothing_changes(client, world, name, key, known):
    method, url, body = endpoints(world)[name]
    before = state()

    response = call(client, world["key"], method, url, {**body, key: "x"})

    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"] == [{"field": key, "message": f"unknown field; known: {known}."}]
    assert state() == before


extras = st.lists(
    st.tuples(st.integers(min_value=0, max_value=20), st.text(min_size=1, max_size=12), values),
    min_size=1,
    max_size=4,
)


@pytest.mark.parametrize("name", NAMES)
@profile(25)
@given(extra=extras)
def test_random_extra_keys_at_any_depth_are_400_naming_each_never_500_nothing_written(client, world, name, extra):
    method, url, body = endpoints(world)[name]
    body = json.loads(json.dumps(body))
    places = _objects(body)
    expected = set()
    for where, key, value in extra:
        place, obj = places[where % len(places)]
        if key in obj or key in _known_anywhere():
            continue  # a key some request schema lists is not unknown everywhere
        obj[key] = value
        expected.add(f"{place}{shown_key(key)}")
    assume(expected)
    before = state()

    response = call(client, world["key"], method, url, body)

    assert response.status_code == 400, response.content[:300]
    assert named_unknown(response.json()["errors"]) == expected
    assert state() == before
