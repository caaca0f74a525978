"""赠品 planned again when an order is reclassified or its lines change before routing (orders/services/gifts.py
``order_gifts_reapply``): gifts now due added, rule gifts no longer due removed, the channel's and a person's
choices kept, the per-customer limit respected, one GIFT event per change; never once routing started."""

from decimal import Decimal

import pytest

from fulfillment.tasks import route_orders
from orders import services
from orders.intake.canonical import CanonicalLine
from orders.models import GiftRule, OrderEvent
from orders.status import EventKind, OrderStatus
from tests.factories import make_user
from tests.orders.test_gifts import gift_lines, order, world  # noqa: F401 (fixture)
from workflows.changes import order_change_lines

pytestmark = pytest.mark.django_db


def gift_events(o) -> list[OrderEvent]:
    return list(o.events.filter(kind=EventKind.GIFT).order_by("pk"))


def test_reclassify_adds_a_gift_now_due_with_one_event_and_again_changes_nothing(world):  # noqa: F811
    o = services.order_create(channel=world["tmall"], data=order("RA1", price="99.00"), source="t").order
    assert gift_lines(o) == []
    GiftRule.objects.create(name="满99送杯", min_goods_total=Decimal("99"), gift_product=world["cup"])

    services.order_reclassify(order=o)

    assert gift_lines(o) == [(2, "CUP", 1, Decimal("0.00"), "满99送杯")]
    (event,) = gift_events(o)
    assert event.message == "Gifts re-evaluated (reclassified): added 1 × CUP (rule 满99送杯)"
    assert event.data["added"] == [
        {"line_no": 2, "rule_id": event.data["added"][0]["rule_id"], "rule": "满99送杯", "sku": "CUP", "quantity": 1}
    ]
    assert event.data["removed_lines"] == []
    services.order_reclassify(order=o)
    assert len(gift_events(o)) == 1 and len(gift_lines(o)) == 1  # its own gift is not counted against it


def test_lines_changed_below_the_threshold_remove_the_rule_gift_but_not_the_channels_gift(world):  # noqa: F811
    GiftRule.objects.create(name="满99送杯", min_goods_total=Decimal("99"), gift_product=world["cup"])
    data = order("RB1", lines=(("STD", 10),), price="10.00")
    data.lines.append(CanonicalLine(sku="TEA", quantity=1, unit_price=Decimal("0"), gift=True))  # the channel's gift
    o = services.order_create(channel=world["tmall"], data=data, source="t").order
    assert [g[1] for g in gift_lines(o)] == ["TEA", "CUP"]
    std = o.lines.get(sku="STD")
    cs = make_user("cs1", "customer_service")

    order_change_lines(order=o, quantities={std.pk: 9}, reason_code="customer_request", user=cs)

    assert gift_lines(o) == [(2, "TEA", 1, Decimal("0.00"), None)]
    event = gift_events(o)[-1]
    assert event.message == (
        "Gifts re-evaluated (lines changed (customer_request)): removed 1 × CUP (rule 满99送杯 no longer matches)"
    )
    assert event.user == cs
    assert len(gift_events(o)) == 2  # added at intake, removed now: one event for the change


def test_the_per_customer_limit_holds_on_reclassify(world):  # noqa: F811
    first = services.order_create(channel=world["tmall"], data=order("RC1", email="wang@example.com"), source="t")
    second = services.order_create(channel=world["jd"], data=order("RC2", email="wang@example.com"), source="t")
    GiftRule.objects.create(name="Once", limit_per_customer=1, gift_product=world["cup"])

    services.order_reclassify(order=first.order)
    services.order_reclassify(order=second.order)

    assert len(gift_lines(first.order)) == 1
    assert gift_lines(second.order) == [] and gift_events(second.order) == []


def test_a_gift_a_person_removed_is_not_added_back(world):  # noqa: F811
    GiftRule.objects.create(name="Cup", gift_product=world["cup"])
    o = services.order_create(channel=world["tmall"], data=order("RD1"), source="t").order
    services.order_gift_remove(order=o, line_id=o.lines.get(sku="CUP").pk, note="客户不要")

    services.order_reclassify(order=o)

    assert gift_lines(o) == []
    assert [e.data.get("removed") for e in gift_events(o)] == [None, True]  # added, removed by the person


def test_never_after_routing_started(world):  # noqa: F811
    o = services.order_create(channel=world["tmall"], data=order("RE1", price="99.00"), source="t").order
    route_orders.delay([o.pk])
    o.refresh_from_db()
    assert o.status == OrderStatus.ALLOCATED
    GiftRule.objects.create(name="满99送杯", min_goods_total=Decimal("99"), gift_product=world["cup"])

    services.order_reclassify(order=o)
    assert gift_lines(o) == [] and gift_events(o) == []

    std = o.lines.get(sku="STD")
    cs = make_user("cs2", "customer_service")
    order_change_lines(order=o, quantities={std.pk: 2}, reason_code="customer_request", user=cs)  # re-routed
    assert gift_lines(o) == [] and gift_events(o) == []


def test_a_gift_line_added_at_intake_and_one_added_when_planned_again_are_the_same_row(world):  # noqa: F811
    """Both paths write a rule's gift line through the one writer (``gift_line_create``): same columns."""
    columns = ("line_no", "sku", "name", "quantity", "unit_price", "is_gift", "gift_rule__name", "product__sku")
    GiftRule.objects.create(name="满99送杯", min_goods_total=Decimal("99"), gift_product=world["cup"])
    at_intake = services.order_create(channel=world["tmall"], data=order("RG1", price="99.00"), source="t").order
    later = services.order_create(channel=world["tmall"], data=order("RG2", price="10.00"), source="t").order
    assert gift_lines(later) == []
    line = later.lines.get()
    line.unit_price, line.quantity = Decimal("99.00"), 1
    line.save()

    services.order_reclassify(order=later)

    shape = [at_intake.lines.filter(is_gift=True).values(*columns).get()]
    assert list(later.lines.filter(is_gift=True).values(*columns)) == shape
    assert shape[0]["unit_price"] == Decimal("0.00") and shape[0]["sku"] == "CUP" and shape[0]["line_no"] == 2
