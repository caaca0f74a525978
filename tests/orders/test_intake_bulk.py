"""The bulk intake path (orders/intake/bulk.py) against one-by-one creation with classification
rules and review holds in play, and routing of a batch through ``orders_ready`` and
``fulfillment.route_orders`` in chunks."""

from decimal import Decimal

import pytest

from fulfillment import receivers
from fulfillment.tasks import route_orders
from orders import services
from orders.intake.bulk import create_batch
from orders.models import ClassificationRule, Customer, Order, RiskSettings
from orders.signals import order_ready, orders_ready
from orders.status import HoldReason, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ProductFactory(sku="STD", price=Decimal("10.00"))
    ProductFactory(sku="FRESH", handling_class="fresh")
    RiskSettings.objects.update_or_create(
        pk=1, defaults={"cod_limit": Decimal("50"), "high_value_new_customer": Decimal("500")}
    )
    ClassificationRule.objects.create(
        name="Economy: check payment",
        position=50,
        requested_service="economy",
        add_tags="gift",
        hold_reason=HoldReason.PAYMENT,
        hold_note="economy orders are checked",
    )
    return {"bulk": ChannelFactory(slug="bulk", name="Bulk shop"), "one": ChannelFactory(slug="one", name="One shop")}


def orders_for(side: str) -> list:
    """The same orders for each side, with the side's own customers (so neither sees the other's)."""

    def make(n, lines=(("STD", 1),), price="10.00", **kw):
        ship_to = {"email": f"{side}{n}@example.com", "phone": f"13{ord(side[0]) % 10}0000{n:04d}"}
        ship_to.update(kw.pop("ship_to", {}))
        data = canonical(f"E{n}", lines=lines, ship_to=ship_to, **kw)
        for line in data.lines:
            line.unit_price = Decimal(price)
        return n, data

    business = {"email": f"biz-{side}@example.com"}
    return [
        make(1, lines=(("FRESH", 1),)),  # classified: fresh → tag, priority 1, cold chain
        make(2, payment_method="cod", price="80.00"),  # cash on delivery over the limit → payment
        make(3, billing_country="US"),  # billing differs from shipping → fraud review
        make(4, price="60.00", ship_to=business),  # credit 100: 60 is fine
        make(5, price="50.00", ship_to=business),  # 60 open + 50 > 100 → credit review
        make(6, price="10.00", ship_to=business),  # 110 open + 10 > 100 → credit review
        make(7, requested_service="economy", holds=[("payment", "Shopify financial status: pending")]),
        make(8, requested_service="economy"),  # the rule's hold
        make(9, lines=(("NEW-SKU", 1),), price="600.00"),  # unknown SKU, and high value from a new customer
        make(10, cancelled_reason="refunded"),
    ]


def shape(channel) -> list:
    rows = []
    for o in Order.objects.filter(channel=channel).order_by("external_id"):
        rows.append(
            (
                o.external_id,
                o.status,
                o.on_hold,
                o.tags,
                o.priority,
                o.required_capabilities,
                o.required_service_kind,
                sorted(o.holds.values_list("reason", "note")),
                [(k, m.replace(channel.name, "X"), d) for k, m, d in o.events.values_list("kind", "message", "data")],
                list(o.lines.values_list("line_no", "sku", "product__sku", "quantity", "unit_price")),
                o.customer.email if o.customer else None,
            )
        )
    return rows


def test_bulk_gives_the_same_classification_review_holds_and_events_as_one_by_one(world):
    for side in ("bulk", "one"):
        Customer.objects.create(
            name="Acme", email=f"biz-{side}@example.com", is_business=True, credit_limit=Decimal("100")
        )
    outcomes = create_batch(channel=world["bulk"], items=orders_for("bulk"), source="file:test")
    assert [o.status for o in outcomes] == ["created"] * 10
    for _, data in orders_for("one"):
        services.order_create(channel=world["one"], data=data, source="file:test")

    bulk, one = shape(world["bulk"]), shape(world["one"])
    assert [row[:-1] for row in bulk] == [row[:-1] for row in one]
    by_id = {row[0]: row for row in bulk}
    assert by_id["E1"][1:7] == ("confirmed", False, ",fresh,", 1, ",cold_chain,", "cold_chain")
    assert [r for r, _ in by_id["E2"][7]] == [HoldReason.PAYMENT]
    assert [r for r, _ in by_id["E3"][7]] == [HoldReason.FRAUD_REVIEW]
    assert (by_id["E4"][1], by_id["E5"][1], by_id["E6"][1]) == ("confirmed", "received", "received")
    assert by_id["E6"][7] == [
        (HoldReason.CREDIT_REVIEW, "Credit limit 100.00 CNY exceeded: open orders 110.00 + this order 10.00 = 120.00.")
    ]
    assert by_id["E7"][7] == [(HoldReason.PAYMENT, "Shopify financial status: pending")]  # one hold per reason
    assert (by_id["E8"][3], by_id["E8"][7]) == (",gift,", [(HoldReason.PAYMENT, "economy orders are checked")])
    assert sorted(r for r, _ in by_id["E9"][7]) == [HoldReason.FRAUD_REVIEW, HoldReason.UNKNOWN_SKU]
    assert (by_id["E10"][1], by_id["E10"][3]) == ("cancelled", "")
    assert by_id["E4"][-1] == "biz-bulk@example.com"  # the existing business customer was found


def test_a_batch_is_announced_once_and_routed_in_chunks(world, monkeypatch, django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha")
    stock(location, ProductFactory(sku="STD"), 100)
    monkeypatch.setattr(receivers, "ROUTE_CHUNK", 2)
    announced, singles = [], []

    def on_batch(sender, order_ids, **kwargs):
        announced.append(list(order_ids))

    def on_single(sender, order_id, **kwargs):
        singles.append(order_id)

    orders_ready.connect(on_batch, dispatch_uid="test.batch")
    order_ready.connect(on_single, dispatch_uid="test.single")
    try:
        items = [(n, canonical(f"R{n}", lines=(("STD", 1),), ship_to={"email": f"r{n}@example.com"})) for n in range(5)]
        items.append((9, canonical("R9", lines=(("NEW-SKU", 1),))))  # held: not announced
        with django_capture_on_commit_callbacks(execute=True):
            create_batch(channel=world["bulk"], items=items, source="file:test")
    finally:
        orders_ready.disconnect(dispatch_uid="test.batch")
        order_ready.disconnect(dispatch_uid="test.single")
    routed = Order.objects.filter(channel=world["bulk"], external_id__startswith="R").exclude(external_id="R9")
    assert announced == [sorted(routed.values_list("pk", flat=True))] and singles == []
    assert set(routed.values_list("status", flat=True)) == {OrderStatus.ALLOCATED}
    assert all(o.shipments.count() == 1 for o in routed)
    assert Order.objects.get(external_id="R9").status == OrderStatus.RECEIVED


def test_route_orders_goes_on_past_an_order_that_fails(world):
    location = LocationFactory(code="sha")
    stock(location, ProductFactory(sku="STD"), 10)
    order = services.order_create(
        channel=world["one"], data=canonical("S1", lines=(("STD", 2),)), source="test"
    ).order  # on_commit does not run here: the order waits for routing
    assert order.status == OrderStatus.CONFIRMED
    assert route_orders.apply(args=[[987654321, order.pk]]).get() == 2
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED


def test_the_next_batch_sees_a_changed_rule_or_risk_setting_however_it_was_changed(world):
    """Classification rules are compiled once per process and reused while they stay the same; any
    change (a save, an update() that skips save, a new channel condition, a deletion, a risk
    setting) is seen by the very next batch."""
    from orders.rules.classification import current_rules

    shop = world["bulk"]
    ClassificationRule.objects.all().delete()
    rule = ClassificationRule.objects.create(name="Express", position=10, requested_service="express", add_tags="fast")
    n = iter(range(100))

    def one(lines=(("STD", 1),), **kw) -> Order:
        number = next(n)
        data = canonical(f"C{number}", lines=lines, ship_to={"email": f"c{number}@example.com"}, **kw)
        [outcome] = create_batch(channel=shop, items=[(1, data)], source="file:test")
        return Order.objects.get(number=outcome.number)

    assert one(requested_service="express").tags == ",fast,"
    assert current_rules() is current_rules()  # unchanged: the compiled rules are reused

    rule.add_tags = "rush"
    rule.save()
    assert one(requested_service="express").tags == ",rush,"

    ClassificationRule.objects.filter(pk=rule.pk).update(add_tags="urgent")  # no save(), no updated_at
    assert one(requested_service="express").tags == ",urgent,"

    rule.channels.add(world["one"])  # now only for the other channel
    assert one(requested_service="express").tags == ""
    rule.channels.clear()
    ClassificationRule.objects.filter(pk=rule.pk).update(active=False)
    assert one(requested_service="express").tags == ""
    ClassificationRule.objects.filter(pk=rule.pk).update(active=True)
    assert one(requested_service="express").tags == ",urgent,"
    rule.delete()
    assert one(requested_service="express").tags == ""

    # The review settings: cash on delivery over the limit (50 in the world) is held, then not.
    cod = one(payment_method="cod", lines=(("STD", 6),))
    assert [h.reason for h in cod.holds.all()] == [HoldReason.PAYMENT]
    RiskSettings.objects.filter(pk=1).update(cod_limit=Decimal("100"))
    cod = one(payment_method="cod", lines=(("STD", 6),))
    assert (cod.on_hold, cod.status, cod.holds.count()) == (False, OrderStatus.CONFIRMED, 0)
