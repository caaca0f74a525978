"""预售 (presale) at intake and in the API: products, channel listings and the channel's own flag make an order
presale; it is promised, its state is in the order JSON; bad values are refused and change nothing."""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from inventory.models import Product
from oms.models import ApiToken
from orders import services
from orders.intake import bulk, oms_csv, oms_json, shopify_json
from orders.intake.canonical import OrderRejected
from orders.models import ChannelSku, InboundMessage, Order, OrderEvent
from orders.status import EventKind, OrderStatus
from tests import journey
from tests.factories import ChannelFactory, ProductFactory, canonical

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def api(client, django_capture_on_commit_callbacks):
    journey.world()
    users = journey.users()
    _, key = ApiToken.issue(users["manager"])

    def call(method, url, body=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Token {key}"}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(url, **kwargs)

    return call


def payload(external_id="API-1", **overrides):
    body = {
        "channel": "web",
        "external_id": external_id,
        "ship_to": {
            "name": "韩梅梅",
            "phone": "13712345678",
            "country": "CN",
            "province": "上海市",
            "city": "上海市",
            "district": "黄浦区",
            "address1": "南京东路1号",
        },
        "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "19.90"}],
        "placed_at": "2026-12-01T09:00:00+08:00",
    }
    body.update(overrides)
    return body


def day(n):
    return timezone.localdate() + timedelta(days=n)


def test_api_order_flagged_presale_by_the_channel_is_promised_and_waits(api):
    ship_from = day(12)
    response = api("post", "/api/v1/orders/", payload(presale=True, ship_from=ship_from.isoformat()))
    assert response.status_code == 202

    order = Order.objects.get(external_id="API-1")
    assert (order.status, order.presale_until, order.promise_date) == (OrderStatus.CONFIRMED, ship_from, ship_from)
    assert not order.shipments.exists()
    event = order.events.get(kind=EventKind.PRESALE)
    assert event.message == (
        f"Presale: ships from {ship_from} (channel: {ship_from}); routed from that day. "
        f"Promise date set to {ship_from}."
    )
    detail = api("get", f"/api/v1/orders/{order.number}/").json()
    assert detail["presale"] == {"until": ship_from.isoformat(), "waiting": True, "released_at": None}
    assert detail["promise_date"] == ship_from.isoformat()
    listed = api("get", "/api/v1/orders/").json()["results"][0]
    assert listed["presale"]["until"] == ship_from.isoformat()


def test_ship_from_alone_makes_the_order_presale_and_a_later_promise_is_kept():
    channel, data = oms_json.parse(payload(ship_from=day(5).isoformat(), promise_date=day(9).isoformat()))
    assert data.ship_from == day(5)
    ChannelFactory(slug="web")
    ProductFactory(sku="SKU-A")
    order = services.order_create(channel=ChannelFactory(slug=channel), data=data, source="test").order
    assert (order.presale_until, order.promise_date) == (day(5), day(9))
    assert "Promise date" not in order.events.get(kind=EventKind.PRESALE).message


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"presale": True}, "ship_from", "is required when presale is true (the day the order ships from)."),
        ({"presale": "yes", "ship_from": "2026-12-20"}, "presale", "must be true or false."),
        (
            {"presale": False, "ship_from": "2026-12-20"},
            "ship_from",
            "is given but presale is false; send presale true or leave ship_from out.",
        ),
        ({"ship_from": "20.12.2026"}, "ship_from", "'20.12.2026' is not a date (use YYYY-MM-DD)."),
    ],
)
def test_bad_presale_values_are_refused_and_store_no_order(api, extra, field, message):
    response = api("post", "/api/v1/orders/", payload(**extra))

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"field": field, "message": message} in [{"field": e["field"], "message": e["message"]} for e in errors]
    assert Order.objects.count() == 0
    assert InboundMessage.objects.get(source="api").status == "rejected"


def test_a_presale_product_makes_a_shopify_order_presale():
    # Shopify has no presale flag: the product marked presale covers it.
    channel = ChannelFactory(slug="shop", platform="shopify")
    ProductFactory(sku="SKU-A", presale_ship_from=day(20))
    ProductFactory(sku="SKU-B", presale_ship_from=day(-1))  # its day has passed: sold from stock
    data = shopify_json.parse((FIXTURES / "shopify_orders_create.json").read_bytes())

    order = services.order_create(channel=channel, data=data, source="webhook").order

    assert (order.presale_until, order.promise_date, order.status) == (day(20), day(20), OrderStatus.CONFIRMED)
    assert order.events.get(kind=EventKind.PRESALE).data["sources"] == {"SKU-A": f"product {day(20)}"}


def test_a_presale_listing_is_used_before_the_product_on_its_channel_only():
    web, other = ChannelFactory(slug="web"), ChannelFactory(slug="other")
    product = ProductFactory(sku="SKU-A", presale_ship_from=day(30))
    ChannelSku.objects.create(channel=web, external_sku="TM-A", product=product, presale_ship_from=day(7))
    ChannelSku.objects.create(channel=other, external_sku="TM-A", product=product)

    on_web = services.order_create(channel=web, data=canonical("W1", lines=(("TM-A", 1),)), source="t").order
    on_other = services.order_create(channel=other, data=canonical("O1", lines=(("TM-A", 1),)), source="t").order

    assert on_web.presale_until == day(7)
    assert on_other.presale_until == day(30)


def test_the_bulk_path_sets_presale_like_one_by_one():
    channel = ChannelFactory(slug="web")
    ProductFactory(sku="PRE", presale_ship_from=day(10))
    ProductFactory(sku="SKU-A")
    items = [
        (1, canonical("B1", lines=(("PRE", 1), ("SKU-A", 1)))),
        (2, canonical("B2", lines=(("SKU-A", 1),))),
        (3, canonical("B3", lines=(("SKU-A", 1),), ship_from=day(3))),
    ]

    outcomes = bulk.create_batch(channel=channel, items=items, source="file")

    assert [o.status for o in outcomes] == ["created"] * 3
    got = dict(Order.objects.values_list("external_id", "presale_until"))
    assert got == {"B1": day(10), "B2": None, "B3": day(3)}
    assert dict(Order.objects.values_list("external_id", "promise_date")) == got
    assert OrderEvent.objects.filter(kind=EventKind.PRESALE).count() == 2
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CONFIRMED}


def test_a_ship_from_out_of_range_is_refused_by_the_checks():
    with pytest.raises(OrderRejected) as exc:
        oms_json.parse(payload(ship_from="1900-01-01"))
    assert [e.field for e in exc.value.errors] == ["ship_from"]


def test_the_presale_api_marks_a_product_and_a_listing_and_lists_the_queue(api):
    product = ProductFactory(sku="PRE-9")
    web = ChannelFactory(slug="web")
    ChannelSku.objects.create(channel=web, external_sku="TM-9", product=product)

    marked = api("post", "/api/v1/presale/", {"sku": "PRE-9", "ship_from": day(8).isoformat(), "batch_quantity": 40})
    assert marked.status_code == 200
    assert marked.json() == {"sku": "PRE-9", "ship_from": day(8).isoformat(), "batch_quantity": 40}
    listing = api("post", "/api/v1/presale/", {"sku": "TM-9", "channel": "web", "ship_from": day(4).isoformat()})
    assert listing.json() == {"channel": "web", "external_sku": "TM-9", "sku": "PRE-9", "ship_from": day(4).isoformat()}
    api("post", "/api/v1/orders/", payload(lines=[{"sku": "PRE-9", "quantity": 3}]))

    state = api("get", "/api/v1/presale/").json()

    assert state == {
        "days": [{"day": day(8).isoformat(), "orders": 1, "units": 3}],
        "products": [{"sku": "PRE-9", "ship_from": day(8).isoformat(), "batch_quantity": 40, "waiting_units": 3}],
        "listings": [{"channel": "web", "external_sku": "TM-9", "sku": "PRE-9", "ship_from": day(4).isoformat()}],
    }
    unmarked = api("post", "/api/v1/presale/", {"sku": "PRE-9", "ship_from": None})
    assert unmarked.json() == {"sku": "PRE-9", "ship_from": None, "batch_quantity": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ship_from": "2099-01-01"}, "sku"),
        ({"sku": "SKU-A", "ship_from": "2020-01-01"}, "ship_from"),
        ({"sku": "SKU-A", "ship_from": "soon"}, "ship_from"),
        ({"sku": "SKU-A", "batch_quantity": 5}, "batch_quantity"),
        ({"sku": "SKU-A", "ship_from": "2099-01-01", "batch_quantity": 0}, "batch_quantity"),
        ({"sku": "SKU-A", "channel": "web", "ship_from": "2099-01-01", "batch_quantity": 5}, "batch_quantity"),
        ({"sku": "NOPE", "ship_from": "2099-01-01"}, "sku"),
        ({"sku": "SKU-A", "channel": "nope", "ship_from": "2099-01-01"}, "channel"),
        ({"sku": ["SKU-A"]}, "sku"),
    ],
)
def test_the_presale_api_refuses_bad_markings_and_changes_nothing(api, body, field):
    response = api("post", "/api/v1/presale/", body)

    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Product.objects.filter(presale_ship_from__isnull=False).exists()
    assert not ChannelSku.objects.filter(presale_ship_from__isnull=False).exists()


def test_a_listing_not_in_the_sku_map_is_a_clear_error(api):
    response = api("post", "/api/v1/presale/", {"sku": "TM-X", "channel": "web", "ship_from": "2099-01-01"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("TM-X is not in the SKU map of Web shop")


def test_a_csv_import_reads_the_optional_ship_from_column():
    channel = ChannelFactory(slug="web")
    ProductFactory(sku="SKU-A")
    text = (
        "external_id,sku,quantity,ship_from,ship_country,ship_province,ship_city,ship_district,ship_address1,ship_name\n"
        f"C1,SKU-A,1,{day(6).isoformat()},CN,上海市,上海市,黄浦区,南京东路1号,韩梅梅\n"
        "C2,SKU-A,1,someday,CN,上海市,上海市,黄浦区,南京东路1号,韩梅梅\n"
    )
    parsed = list(oms_csv.read_orders(io.StringIO(text)))
    assert isinstance(parsed[1][1], OrderRejected)
    assert [(e.field, e.message) for e in parsed[1][1].errors] == [
        ("ship_from", "'someday' is not a date (use YYYY-MM-DD).")
    ]

    bulk.create_batch(channel=channel, items=[parsed[0]], source="file")

    assert Order.objects.get().presale_until == day(6)
