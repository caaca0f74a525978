"""赠品: gift rules add zero-price gift lines at intake, one-by-one and in a batch alike (orders/rules/gifts.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfillment.tasks import route_orders
from oms.errors import DomainError
from orders import services
from orders.intake import oms_json
from orders.intake.bulk import create_batch
from orders.intake.canonical import OrderRejected
from orders.models import Customer, GiftOutOfStock, GiftRule, Order, OrderEvent, OrderLine
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    sha = LocationFactory(code="sha")
    std = ProductFactory(sku="STD", price=Decimal("10.00"))
    tea = ProductFactory(sku="TEA", price=Decimal("30.00"))
    cup = ProductFactory(sku="CUP", name="Tea cup", price=Decimal("8.00"))
    bag = ProductFactory(sku="BAG", name="Tote bag", price=Decimal("5.00"))
    for product, qty in ((std, 100), (tea, 100), (cup, 3), (bag, 0)):
        if qty:
            stock(sha, product, qty)
    return {
        "sha": sha,
        "std": std,
        "tea": tea,
        "cup": cup,
        "bag": bag,
        "tmall": ChannelFactory(slug="tmall", name="Tmall"),
        "jd": ChannelFactory(slug="jd", name="JD"),
    }


def order(ext, lines=(("STD", 1),), price="10.00", email=None, **kw):
    """One customer per e-mail: the phone is made from it (the factory's phone is the same for all)."""
    email = email or f"{ext.lower()}@example.com"
    phone = "136" + str(int.from_bytes(email.encode(), "big") % 10**8).zfill(8)
    data = canonical(ext, lines=lines, ship_to={"email": email, "phone": phone}, **kw)
    for line in data.lines:
        line.unit_price = Decimal(price)
    return data


def gift_lines(o: Order) -> list:
    return list(o.lines.filter(is_gift=True).values_list("line_no", "sku", "quantity", "unit_price", "gift_rule__name"))


def test_a_rule_over_a_spend_threshold_adds_a_zero_price_gift_line_with_an_event_naming_the_rule(world):
    GiftRule.objects.create(name="满99送杯", min_goods_total=Decimal("99"), gift_product=world["cup"])
    big = services.order_create(channel=world["tmall"], data=order("G1", price="99.00"), source="test").order
    small = services.order_create(channel=world["tmall"], data=order("G2", price="98.99"), source="test").order

    assert gift_lines(big) == [(2, "CUP", 1, Decimal("0.00"), "满99送杯")]
    event = big.events.get(kind=EventKind.GIFT)
    assert event.message == "Gift added by rule 满99送杯: 1 × CUP Tea cup"
    assert event.data["rule"] == "满99送杯" and event.data["line_no"] == 2 and event.data["added"] is True
    assert big.total == Decimal("99.00")  # the gift changes no money
    assert big.status == OrderStatus.CONFIRMED
    assert gift_lines(small) == [] and not small.events.filter(kind=EventKind.GIFT).exists()


def test_sku_bought_min_quantity_channel_and_period_conditions(world):
    now = timezone.now()
    GiftRule.objects.create(
        name="Tea x2 on Tmall", bought_skus="TEA", min_quantity=2, gift_product=world["cup"], gift_quantity=2
    ).channels.add(world["tmall"])
    GiftRule.objects.create(name="Past", ends_at=now - timedelta(days=1), gift_product=world["std"])
    GiftRule.objects.create(name="Future", starts_at=now + timedelta(days=1), gift_product=world["std"])
    two = services.order_create(channel=world["tmall"], data=order("S1", lines=(("TEA", 2),)), source="t").order
    one = services.order_create(channel=world["tmall"], data=order("S2", lines=(("TEA", 1), ("STD", 5))), source="t")
    jd = services.order_create(channel=world["jd"], data=order("S3", lines=(("TEA", 3),)), source="t").order
    assert gift_lines(two) == [(2, "CUP", 2, Decimal("0.00"), "Tea x2 on Tmall")]
    assert gift_lines(one.order) == [] and gift_lines(jd) == []


def test_all_matching_rules_apply_in_priority_order_and_stop_here_ends_the_run(world):
    GiftRule.objects.create(name="B second", position=20, gift_product=world["std"])
    GiftRule.objects.create(name="A first", position=10, gift_product=world["cup"])
    o = services.order_create(channel=world["tmall"], data=order("P1"), source="t").order
    assert [g[1] for g in gift_lines(o)] == ["CUP", "STD"]
    GiftRule.objects.filter(name="A first").update(stop_processing=True)
    o = services.order_create(channel=world["tmall"], data=order("P2"), source="t").order
    assert [g[1] for g in gift_lines(o)] == ["CUP"]


def test_the_limit_per_customer_counts_past_orders_that_got_the_gift(world):
    GiftRule.objects.create(name="Once", limit_per_customer=1, gift_product=world["cup"])
    first = services.order_create(channel=world["tmall"], data=order("L1", email="wang@example.com"), source="t")
    second = services.order_create(channel=world["jd"], data=order("L2", email="wang@example.com"), source="t")
    other = services.order_create(channel=world["tmall"], data=order("L3", email="li@example.com"), source="t")
    assert first.order.customer_id == second.order.customer_id
    assert len(gift_lines(first.order)) == 1 and gift_lines(second.order) == [] and len(gift_lines(other.order)) == 1


def test_an_out_of_stock_gift_is_skipped_with_an_event_or_held_as_the_rule_says(world):
    GiftRule.objects.create(name="Bag", gift_product=world["bag"], out_of_stock=GiftOutOfStock.SKIP)
    o = services.order_create(channel=world["tmall"], data=order("O1"), source="t").order
    assert gift_lines(o) == [] and o.status == OrderStatus.CONFIRMED
    assert o.events.get(kind=EventKind.GIFT).message == "Gift skipped, out of stock: rule Bag, 1 × BAG"

    GiftRule.objects.filter(name="Bag").update(out_of_stock=GiftOutOfStock.HOLD)
    o = services.order_create(channel=world["tmall"], data=order("O2"), source="t").order
    assert gift_lines(o) == [(2, "BAG", 1, Decimal("0.00"), "Bag")]
    assert (o.status, o.on_hold) == (OrderStatus.RECEIVED, True)
    assert list(o.holds.values_list("reason", "note")) == [
        (HoldReason.STOCK_SHORT, "Gift BAG × 1 (rule Bag) is out of stock.")
    ]


def test_the_gift_line_is_reserved_and_routed_like_any_line(world):
    GiftRule.objects.create(name="Cup", gift_product=world["cup"], gift_quantity=2)
    o = services.order_create(channel=world["tmall"], data=order("R1", lines=(("STD", 1),)), source="t").order
    route_orders.delay([o.pk])
    o.refresh_from_db()
    assert o.status == OrderStatus.ALLOCATED
    shipment = o.shipments.get()
    assert sorted(shipment.lines.values_list("product__sku", "quantity", "order_line__is_gift")) == [
        ("CUP", 2, True),
        ("STD", 1, False),
    ]
    from inventory.models import Stock

    assert Stock.objects.get(product=world["cup"], location=world["sha"]).reserved == 2


def test_staff_remove_a_gift_line_before_routing_but_not_after(world):
    GiftRule.objects.create(name="Cup", gift_product=world["cup"], out_of_stock=GiftOutOfStock.HOLD)
    GiftRule.objects.create(name="Bag", gift_product=world["bag"], out_of_stock=GiftOutOfStock.HOLD)
    o = services.order_create(channel=world["tmall"], data=order("X1"), source="t").order
    assert o.on_hold  # the bag is short
    bag = o.lines.get(sku="BAG")
    services.order_gift_remove(order=o, line_id=bag.pk, note="客户不要")
    assert [g[1] for g in gift_lines(o)] == ["CUP"]
    event = o.events.filter(kind=EventKind.GIFT).last()
    assert event.message == "Gift removed: 1 × BAG (rule Bag). 客户不要"
    assert event.data["removed"] is True and event.data["rule"] == "Bag"

    goods = o.lines.get(sku="STD")
    with pytest.raises(DomainError, match="is not a gift"):
        services.order_gift_remove(order=o, line_id=goods.pk)
    services.order_release(order=o)
    route_orders.delay([o.pk])
    o.refresh_from_db()
    assert o.status == OrderStatus.ALLOCATED
    cup = o.lines.get(sku="CUP")
    with pytest.raises(DomainError, match="before routing"):
        services.order_gift_remove(order=o, line_id=cup.pk)
    assert o.lines.filter(pk=cup.pk).exists()
    assert o.events.filter(kind=EventKind.GIFT).count() == 3  # two added, one removed: nothing more


def test_bulk_intake_gives_the_same_gifts_events_and_holds_as_one_by_one(world, monkeypatch):
    GiftRule.objects.create(name="满50送杯", position=10, min_goods_total=Decimal("50"), gift_product=world["cup"])
    GiftRule.objects.create(
        name="Tea: bag", position=20, bought_skus="TEA", gift_product=world["bag"], out_of_stock=GiftOutOfStock.HOLD
    )
    GiftRule.objects.create(name="Once std", position=30, limit_per_customer=1, gift_product=world["std"])

    def orders_for(side):
        return [
            (1, order("B1", price="60.00", email=f"a-{side}@example.com")),  # cup, std
            (2, order("B2", lines=(("TEA", 1),), price="55.00", email=f"a-{side}@example.com")),  # cup, bag (held)
            (3, order("B3", price="50.00", email=f"b-{side}@example.com")),  # cup, std
            (4, order("B4", price="70.00", email=f"c-{side}@example.com")),  # cup stock (3) gone: std only
            (5, order("B5", cancelled_reason="refunded", email=f"d-{side}@example.com")),  # none
        ]

    def shape(o):
        events = o.events.exclude(kind=EventKind.CREATED).values_list("kind", "message", "data")
        events = [(k, m.replace(o.channel.name, "X"), d) for k, m, d in events]
        return (o.status, o.on_hold, gift_lines(o), sorted(o.holds.values_list("reason", "note")), events)

    # The batch itself writes them (until 2026-12-08 an added gift line failed the batch's price check, and the
    # batch fell back to creating its orders one by one, which hid it).
    monkeypatch.setattr("orders.intake.bulk._create_one", lambda *a: pytest.fail("the batch fell back to one by one"))
    outcomes = create_batch(channel=world["tmall"], items=orders_for("bulk"), source="file:test")
    assert [o.status for o in outcomes] == ["created"] * 5
    bulk = {o.external_id: o for o in Order.objects.filter(channel=world["tmall"])}
    bulk_shapes = {ext: shape(o) for ext, o in bulk.items()}
    # The bulk side's gifts out of the way (a cancelled order promises nothing), then the same one by one.
    Order.objects.filter(channel=world["tmall"]).update(status=OrderStatus.CANCELLED)
    for _, data in orders_for("one"):
        services.order_create(channel=world["jd"], data=data, source="file:test")
    one = {o.external_id: shape(o) for o in Order.objects.filter(channel=world["jd"])}
    assert bulk_shapes == one
    assert [g[1] for g in gift_lines(bulk["B1"])] == ["CUP", "STD"]
    assert [g[1] for g in gift_lines(bulk["B2"])] == ["CUP", "BAG"] and bulk["B2"].on_hold  # std: limit used
    assert [g[1] for g in gift_lines(bulk["B3"])] == ["CUP", "STD"]
    assert [g[1] for g in gift_lines(bulk["B4"])] == ["STD"]  # the cup (3 in stock) ran out within the batch
    assert bulk["B4"].events.filter(kind=EventKind.GIFT, data__added=False).count() == 1
    assert gift_lines(bulk["B5"]) == []


def test_bulk_intake_reads_the_rules_once_per_batch_not_per_order(world):
    GiftRule.objects.create(name="Cup", min_goods_total=Decimal("1000"), gift_product=world["cup"])

    def run(prefix, n):
        items = [(i, order(f"{prefix}{i}", email=f"{prefix}{i}@example.com")) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            create_batch(channel=world["tmall"], items=items, source="file:test")
        return sum("orders_giftrule" in q["sql"] for q in ctx.captured_queries)

    assert run("Q", 2) == 3  # the fingerprint, then the rules and their channels compiled once
    assert run("W", 2) == run("E", 20) == 1  # then only the fingerprint, whatever the batch's size


def test_a_changed_rule_is_seen_by_the_next_order(world):
    rule = GiftRule.objects.create(name="Cup", gift_product=world["cup"])
    services.order_create(channel=world["tmall"], data=order("C1"), source="t")
    GiftRule.objects.filter(pk=rule.pk).update(gift_product=world["std"])
    o = services.order_create(channel=world["tmall"], data=order("C2"), source="t").order
    assert [g[1] for g in gift_lines(o)] == ["STD"]
    GiftRule.objects.filter(pk=rule.pk).update(active=False)
    o = services.order_create(channel=world["tmall"], data=order("C3"), source="t").order
    assert gift_lines(o) == []


def test_oms_json_gift_lines_are_kept_as_gifts_and_left_out_of_the_price_check(world):
    body = {
        "channel": "tmall",
        "external_id": "J1",
        "total": "20.00",
        "ship_to": {
            "name": "王五",
            "phone": "13600136000",
            "country": "CN",
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "address1": "人民路100号",
        },
        "lines": [
            {"sku": "STD", "quantity": 2, "unit_price": "10.00"},
            {"sku": "CUP", "quantity": 1, "unit_price": "0", "gift": True},
        ],
    }
    slug, data = oms_json.parse(body)
    o = services.order_create(channel=world["tmall"], data=data, source="api").order
    assert list(o.lines.values_list("sku", "is_gift", "gift_rule")) == [("STD", False, None), ("CUP", True, None)]
    assert not o.holds.exists()


def test_a_priced_or_malformed_gift_line_is_rejected_and_nothing_is_written(world):
    body = {
        "channel": "tmall",
        "external_id": "J2",
        "ship_to": {"name": "王五", "phone": "13600136000", "country": "CN", "city": "苏州市", "address1": "x"},
        "lines": [{"sku": "CUP", "quantity": 1, "unit_price": "5.00", "gift": True}],
    }
    _, data = oms_json.parse(body)
    with pytest.raises(OrderRejected, match="a gift line is at zero price"):
        services.order_create(channel=world["tmall"], data=data, source="api")
    body["lines"][0]["gift"] = "yes"
    with pytest.raises(OrderRejected, match="lines\\[1\\].gift: must be true or false"):
        oms_json.parse(body)
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0 and OrderEvent.objects.count() == 0
    assert Customer.objects.count() == 0


def test_the_gift_is_marked_on_the_pick_list_and_the_packing_slip(world):
    import io

    from pypdf import PdfReader

    from fulfillment.documents import packing_slip_pdf, picklist_context, picklist_pdf
    from fulfillment.models import PickList

    GiftRule.objects.create(name="Cup", gift_product=world["cup"])
    o = services.order_create(channel=world["tmall"], data=order("D1", lines=(("CUP", 2),)), source="t").order
    route_orders.delay([o.pk])
    shipment = o.shipments.get()
    picklist = PickList.objects.create(location=world["sha"], number="PL1")
    shipment.__class__.objects.filter(pk=shipment.pk).update(picklist=picklist)

    context = picklist_context(picklist)
    assert [(i["sku"], i["quantity"], i["gift_units"]) for i in context["items"]] == [("CUP", 3, 1)]
    assert [(ln["sku"], ln["quantity"], ln["gift"]) for ln in context["breakdown"][0]["lines"]] == [
        ("CUP", 2, False),
        ("CUP", 1, True),
    ]

    def text(pdf):
        return "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())

    assert "Gift赠品×1" in text(picklist_pdf(picklist))
    slip = text(packing_slip_pdf(shipment, tracking_url=""))
    assert slip.count("Gift赠品") == 1 and "TeacupGift赠品" in slip
