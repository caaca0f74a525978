"""自动合单 (issue 17) from the user's side: intake through the API batch (oms_json) and a Shopify webhook
body merges at review; the order page shows the group with its partners and an undo button; the list
filter "merged"; the order JSON and the API's undo; the settings page with its errors."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from oms.models import ApiToken
from orders.intake import shopify_json
from orders.intake.bulk import create_batch
from orders.models import MergeSettings, Order, OrderEvent, OrderMergeGroup
from orders.status import EventKind, OrderStatus
from tests import journey
from tests.factories import ChannelFactory, ProductFactory, api_order, stock

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def world():
    w = journey.world()
    MergeSettings.objects.create(pk=1, enabled=True, window_minutes=30)
    w["users"] = journey.users()
    return w


@pytest.fixture
def api(client, world, django_capture_on_commit_callbacks):
    _, key = ApiToken.issue(world["users"]["manager"])
    _, wh_key = ApiToken.issue(world["users"]["warehouse"])

    def call(method, url, body=None, token=key):
        kwargs = {"HTTP_AUTHORIZATION": f"Token {token}"}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(url, **kwargs)

    call.warehouse_key = wh_key
    return call


def merged_pair(api):
    answer = api(
        "post",
        "/api/v1/orders/batch/",
        {"orders": [api_order("B1"), api_order("B2", qty=2), api_order("B3", "9 Huaihai Road")]},
    )
    assert answer.status_code == 202, answer.content
    return [Order.objects.get(external_id=e) for e in ("B1", "B2", "B3")]


def test_api_batch_orders_of_one_buyer_merge_and_ship_in_one_parcel(api):
    first, second, third = merged_pair(api)
    group = OrderMergeGroup.objects.get()
    assert sorted(group.members.values_list("order__external_id", flat=True)) == ["B1", "B2"]
    s1, s2, s3 = (o.shipments.get() for o in (first, second, third))
    assert s2.merged_into_id == s1.pk and s3.merged_into_id is None
    body = api("get", f"/api/v1/orders/{second.number}/").json()
    assert body["merge_group"] == {
        "number": group.number,
        "active": True,
        "orders": [first.number, second.number],
        "created_at": group.created_at.isoformat(),
        "undone_at": None,
        "undo_note": "",
    }
    assert api("get", f"/api/v1/orders/{third.number}/").json()["merge_group"] is None


def test_api_undo_splits_the_group_and_refuses_what_it_cannot(api):
    first, second, third = merged_pair(api)
    url = f"/api/v1/orders/{second.number}/merge/undo/"
    events = OrderEvent.objects.count()
    assert api("post", url, {"note": 5}).status_code == 400
    assert api("post", url, "{not json").status_code == 400
    assert api("post", url, {}, token=api.warehouse_key).status_code == 403
    assert api("post", "/api/v1/orders/NOPE/merge/undo/", {}).status_code == 404
    assert OrderEvent.objects.count() == events and OrderMergeGroup.objects.get().undone_at is None
    answer = api("post", url, {"note": "two parcels"})
    assert answer.status_code == 200, answer.content
    assert (
        answer.json()["merge_group"]["active"] is False and answer.json()["merge_group"]["undo_note"] == "two parcels"
    )
    assert second.shipments.get().merged_into_id is None
    assert OrderEvent.objects.filter(kind=EventKind.ORDER_UNMERGED).count() == 2
    assert api("post", url, {}).status_code == 409  # not merged any more
    assert api("post", f"/api/v1/orders/{third.number}/merge/undo/", {}).status_code == 409


def test_openapi_lists_the_undo_and_the_group(client):
    doc = client.get("/api/schema/").json()
    assert "post" in doc["paths"]["/orders/{number}/merge/undo/"]
    assert "merge_group" in doc["components"]["schemas"]["Order"]["properties"]


def test_shopify_orders_of_one_buyer_merge_in_the_bulk_path(world):
    shop = ChannelFactory(slug="shop", name="Shopify shop")
    ProductFactory(sku="SKU-B")
    stock(world["location"], ProductFactory._meta.model.objects.get(sku="SKU-B"), 10)
    raw = json.loads((FIXTURES / "shopify_orders_create.json").read_text())
    items = []
    for n, order_id in enumerate((9001, 9002)):
        data = dict(raw, id=order_id, name=f"#{order_id}")
        items.append((n, shopify_json.parse_order(data)))
    outcomes = create_batch(channel=shop, items=items, source="test")
    assert [o.status for o in outcomes] == ["created", "created"]
    orders = list(Order.objects.filter(channel=shop).order_by("pk"))
    assert all(o.status == OrderStatus.CONFIRMED for o in orders)
    group = OrderMergeGroup.objects.get()
    assert sorted(group.members.values_list("order_id", flat=True)) == [o.pk for o in orders]


def test_order_page_shows_partners_and_undo_and_the_list_filters_merged(client, api, world):
    first, second, third = merged_pair(api)
    client.force_login(world["users"]["customer_service"])
    page = client.get(reverse("orders:order_detail", args=[first.number])).content.decode()
    assert 'id="merge-group"' in page and second.number in page and "Undo merge" in page
    alone = client.get(reverse("orders:order_detail", args=[third.number])).content.decode()
    assert 'id="merge-group"' not in alone
    listed = client.get(reverse("orders:order_list") + "?merged=true").content.decode()
    assert first.number in listed and second.number in listed and third.number not in listed
    unmerged = client.get(reverse("orders:order_list") + "?merged=false").content.decode()
    assert third.number in unmerged and first.number not in unmerged

    client.force_login(world["users"]["warehouse"])
    page = client.get(reverse("orders:order_detail", args=[first.number])).content.decode()
    assert "Undo merge" not in page
    assert client.post(reverse("orders:order_merge_undo", args=[first.number])).status_code == 403

    client.force_login(world["users"]["customer_service"])
    answer = client.post(reverse("orders:order_merge_undo", args=[first.number]), {"note": "x" * 201})
    assert answer.status_code == 302 and OrderMergeGroup.objects.get().undone_at is None
    answer = client.post(
        reverse("orders:order_merge_undo", args=[first.number]), {"note": "customer call"}, follow=True
    )
    assert "undone" in answer.content.decode()
    group = OrderMergeGroup.objects.get()
    assert group.undone_at is not None and group.undone_by == world["users"]["customer_service"]
    page = client.get(reverse("orders:order_detail", args=[first.number])).content.decode()
    assert "customer call" in page and "Undo merge" not in page


def test_settings_page_turns_it_off_and_rejects_bad_input(client, world):
    quiet = ChannelFactory(slug="quiet")
    client.force_login(world["users"]["manager"])
    url = reverse("orders:merge_settings")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"enabled": "on", "window_minutes": "0", "exclude_tags": "no-merge"})
    assert bad.status_code == 200 and "1440" in bad.content.decode()
    assert MergeSettings.objects.get().window_minutes == 30
    bad = client.post(url, {"enabled": "on", "window_minutes": "10", "wait_minutes": "20", "exclude_tags": ""})
    assert bad.status_code == 200 and "At most the merge window" in bad.content.decode()
    assert MergeSettings.objects.get().wait_minutes == 0
    answer = client.post(
        url,
        {
            "window_minutes": "45",
            "wait_minutes": "5",
            "exclude_tags": " No-Merge, presale ,vip",
            "disabled_channels": [quiet.pk],
        },
    )
    assert answer.status_code == 302
    saved = MergeSettings.objects.get()
    assert (saved.enabled, saved.window_minutes, saved.wait_minutes, saved.exclude_tags) == (
        False,
        45,
        5,
        "no-merge,presale,vip",
    )
    assert list(saved.disabled_channels.all()) == [quiet]
    client.force_login(world["users"]["customer_service"])
    assert client.get(url).status_code == 403
