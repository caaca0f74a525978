"""赠品 from the staff side: the gift rules pages and API, the order page's gift panel and removing a gift."""

import json
from decimal import Decimal

import pytest

from oms.models import ApiToken
from oms.roles import CUSTOMER_SERVICE, MANAGER, WAREHOUSE
from orders import services
from orders.models import GiftRule, OrderEvent
from orders.status import EventKind
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    sha = LocationFactory(code="sha")
    stock(sha, ProductFactory(sku="STD"), 50)
    cup = ProductFactory(sku="CUP", name="Tea cup")
    stock(sha, cup, 50)
    return {"cup": cup, "tmall": ChannelFactory(slug="tmall", name="Tmall"), "jd": ChannelFactory(slug="jd")}


def rule_post(**over):
    data = {
        "name": "满99送杯",
        "position": "10",
        "active": "on",
        "gift_sku": "CUP",
        "gift_quantity": "1",
        "min_quantity": "1",
        "min_goods_total": "99",
        "bought_skus": "STD，TEA",
        "out_of_stock": "skip",
    }
    data.update(over)
    return data


def test_a_manager_creates_edits_filters_and_deletes_a_gift_rule_on_the_pages(client, world):
    client.force_login(make_user("boss", MANAGER))
    assert client.get("/orders/gift-rules/new/").status_code == 200
    done = client.post("/orders/gift-rules/new/", rule_post(channels=[world["tmall"].pk]))
    assert done.status_code == 302
    rule = GiftRule.objects.get()
    assert (rule.name, rule.gift_product, rule.min_goods_total, rule.bought_skus) == (
        "满99送杯",
        world["cup"],
        Decimal("99.00"),
        "STD, TEA",
    )
    assert list(rule.channels.all()) == [world["tmall"]]
    page = client.get("/orders/gift-rules/").content.decode()
    assert "满99送杯" in page and "CUP Tea cup ×1" in page
    assert "满99送杯" not in client.get("/orders/gift-rules/?channel=jd").content.decode()
    assert "满99送杯" in client.get("/orders/gift-rules/?channel=tmall&active=1").content.decode()
    client.post(f"/orders/gift-rules/{rule.pk}/", rule_post(name="满199送杯", min_goods_total="199"))
    rule.refresh_from_db()
    assert (rule.name, rule.min_goods_total, list(rule.channels.all())) == ("满199送杯", Decimal("199.00"), [])
    client.post(f"/orders/gift-rules/{rule.pk}/delete/")
    assert not GiftRule.objects.exists()


def test_bad_rule_input_is_shown_on_the_form_and_nothing_is_saved(client, world):
    client.force_login(make_user("boss", MANAGER))
    page = client.post(
        "/orders/gift-rules/new/",
        rule_post(gift_sku="NOPE", gift_quantity="0", starts_at="2026-12-10T00:00", ends_at="2026-12-01T00:00"),
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "No product has the SKU NOPE." in body
    assert "must be after the start" in body
    assert "Ensure this value is greater than or equal to 1." in body
    assert not GiftRule.objects.exists()


def test_warehouse_staff_may_not_see_or_change_gift_rules(client, world):
    client.force_login(make_user("picker", WAREHOUSE))
    assert client.get("/orders/gift-rules/").status_code == 403
    assert client.post("/orders/gift-rules/new/", rule_post()).status_code == 403
    assert not GiftRule.objects.exists()


def test_the_order_page_shows_the_gift_and_staff_remove_it(client, world):
    GiftRule.objects.create(name="送杯", gift_product=world["cup"])
    o = services.order_create(channel=world["tmall"], data=canonical("P1", lines=(("STD", 1),)), source="t").order
    client.force_login(make_user("cs", CUSTOMER_SERVICE))
    page = client.get(f"/orders/{o.number}/").content.decode()
    assert 'id="gifts"' in page and "送杯" in page and "Remove gift" in page
    line = o.lines.get(is_gift=True)
    done = client.post(f"/orders/{o.number}/gifts/{line.pk}/remove/", {"note": "客户不要"})
    assert done.status_code == 302
    assert not o.lines.filter(is_gift=True).exists()
    assert o.events.filter(kind=EventKind.GIFT).last().message == "Gift removed: 1 × CUP (rule 送杯). 客户不要"
    assert 'id="gifts"' not in client.get(f"/orders/{o.number}/").content.decode()


def test_removing_a_goods_line_as_a_gift_is_refused_with_a_message_and_changes_nothing(client, world):
    o = services.order_create(channel=world["tmall"], data=canonical("P2", lines=(("STD", 1),)), source="t").order
    client.force_login(make_user("cs", CUSTOMER_SERVICE))
    line = o.lines.get()
    events = OrderEvent.objects.count()
    page = client.post(f"/orders/{o.number}/gifts/{line.pk}/remove/", {"note": ""}, follow=True)
    assert "is not a gift" in page.content.decode()
    assert o.lines.filter(pk=line.pk).exists() and OrderEvent.objects.count() == events
    assert client.post(f"/orders/{o.number}/gifts/999999/remove/").status_code == 302
    assert o.lines.count() == 1


def api(client, method, token, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if body is not None:
        return client.post("/api/v1/gift-rules/", json.dumps(body), content_type="application/json", **kwargs)
    return client.get("/api/v1/gift-rules/", **kwargs)


def test_the_gift_rules_api_lists_and_creates(client, world):
    _, key = ApiToken.issue(make_user("boss", MANAGER))
    body = {
        "name": "JD 满200送杯",
        "channels": ["jd"],
        "min_goods_total": "200",
        "gift_sku": "CUP",
        "gift_quantity": 2,
        "limit_per_customer": 1,
        "out_of_stock": "hold",
        "starts_at": "2026-11-01T00:00:00+08:00",
    }
    created = api(client, "POST", key, body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["name"], data["channels"], data["gift_sku"], data["gift_quantity"], data["active"]) == (
        "JD 满200送杯",
        ["jd"],
        "CUP",
        2,
        True,
    )
    assert data["min_goods_total"] == "200.00" and data["out_of_stock"] == "hold" and data["limit_per_customer"] == 1
    listed = api(client, "GET", key).json()["results"]
    assert [r["name"] for r in listed] == ["JD 满200送杯"]


def test_bad_gift_rule_api_input_is_a_400_with_every_field_and_nothing_saved(client, world):
    _, key = ApiToken.issue(make_user("boss", MANAGER))
    answer = api(
        client,
        "POST",
        key,
        {"name": "x", "gift_sku": "NOPE", "channels": ["nowhere"], "gift_quantity": 0, "colour": "red"},
    )
    assert answer.status_code == 400
    fields = sorted(e["field"] for e in answer.json()["errors"])
    assert fields == ["channels", "colour", "gift_quantity", "gift_sku"]
    assert api(client, "POST", key, {"name": "x", "gift_sku": "CUP", "channels": "jd"}).status_code == 400
    assert not GiftRule.objects.exists()
    _, wh = ApiToken.issue(make_user("picker", WAREHOUSE))
    assert api(client, "GET", wh).status_code == 403


def test_the_order_api_shows_gift_lines(client, world):
    GiftRule.objects.create(name="送杯", gift_product=world["cup"])
    o = services.order_create(channel=world["tmall"], data=canonical("A1", lines=(("STD", 1),)), source="t").order
    _, key = ApiToken.issue(make_user("boss", MANAGER))
    lines = client.get(f"/api/v1/orders/{o.number}/", HTTP_AUTHORIZATION=f"Token {key}").json()["lines"]
    shown = [(ln["sku"], ln["is_gift"], ln["unit_price"]) for ln in lines]
    assert shown == [("STD", False, "10.00"), ("CUP", True, "0.00")]
    assert lines[1]["gift_rule"] == GiftRule.objects.get().pk


def test_a_shopify_order_gets_its_gift_too(world):
    from pathlib import Path

    from orders.intake import shopify_json

    ProductFactory(sku="SKU-A")
    ProductFactory(sku="SKU-B")
    GiftRule.objects.create(name="Shopify 满200", min_goods_total=Decimal("196"), gift_product=world["cup"])
    body = (Path(__file__).parent / "fixtures" / "shopify_orders_create.json").read_bytes()
    data = shopify_json.parse(body)  # lines 2 × 88.00 + 1 × 20.00 = 196.00 of goods
    o = services.order_create(channel=world["tmall"], data=data, source="webhook").order
    gifts = list(o.lines.filter(is_gift=True).values_list("sku", "quantity", "unit_price", "gift_rule__name"))
    assert gifts == [("CUP", 1, Decimal("0.00"), "Shopify 满200")]
    assert not o.holds.filter(reason="price_check").exists()  # the gift does not upset the price check


def test_an_api_order_applied_in_a_batch_gets_its_gift(client, world, django_capture_on_commit_callbacks):
    GiftRule.objects.create(name="API 送杯", gift_product=world["cup"])
    _, key = ApiToken.issue(make_user("boss", MANAGER))
    body = {
        "channel": "tmall",
        "external_id": "API-1",
        "ship_to": {"name": "王五", "phone": "13600136000", "country": "CN", "full": "江苏省苏州市姑苏区人民路100号"},
        "lines": [{"sku": "STD", "quantity": 1, "unit_price": "10.00"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/api/v1/orders/", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
        )
    assert answer.status_code == 202, answer.content
    from orders.models import Order

    o = Order.objects.get(external_id="API-1")
    assert list(o.lines.values_list("sku", "is_gift")) == [("STD", False), ("CUP", True)]
    assert o.events.filter(kind=EventKind.GIFT, data__rule="API 送杯").count() == 1
