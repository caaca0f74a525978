from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory.models import HandlingClass
from logistics.status import ServiceKind
from oms.errors import DomainError
from orders import services
from orders.filtersets import OrderFilterSet
from orders.models import ClassificationRule, Customer, Order, ServiceKindRequirement
from orders.rules.classification import DEFAULT_RULES, classification_install_defaults
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, ProductFactory, canonical

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rules():
    """The migration installs the default rules; each test here starts from the rules it makes."""
    ClassificationRule.objects.all().delete()


@pytest.fixture
def channel():
    return ChannelFactory(slug="web", name="Web shop")


@pytest.fixture
def std():
    return ProductFactory(sku="STD", weight_g=500, length_mm=100, width_mm=100, height_mm=100)


def rule(name="R", position=10, channels=(), **fields):
    r = ClassificationRule.objects.create(name=name, position=position, add_tags=fields.pop("add_tags", "hit"),
                                          **fields)
    r.channels.set(channels)
    return r


def create(channel, external_id="E1", sku="STD", qty=1, **overrides):
    return services.order_create(
        channel=channel, data=canonical(external_id, lines=((sku, qty),), **overrides), source="test"
    ).order


def tomorrow(days=1):
    return timezone.localdate() + timedelta(days=days)


# (rule conditions, order: qty and canonical overrides, matches?)
CONDITIONS = [
    ({"handling_classes": "fragile, bulky"}, {"sku": "GLASS"}, True),
    ({"handling_classes": "fragile"}, {}, False),
    ({"min_weight_g": 1000}, {"qty": 2}, True),  # 2 x 500 g
    ({"min_weight_g": 1000}, {"qty": 1}, False),
    ({"max_weight_g": 999}, {"qty": 2}, False),
    ({"min_volume_cm3": 3000}, {"qty": 3}, True),  # 3 x 1000 cm3
    ({"max_volume_cm3": 2000}, {"qty": 3}, False),
    ({"min_value": Decimal("100")}, {"qty": 10}, True),  # 10 x 10.00
    ({"min_value": Decimal("100")}, {"qty": 9}, False),
    ({"max_value": Decimal("50")}, {"qty": 6}, False),
    ({"countries": "HK, cn"}, {}, True),
    ({"countries": "HK"}, {}, False),
    ({"provinces": "shanghai，Beijing"}, {}, True),
    ({"provinces": "Beijing"}, {}, False),
    ({"requested_service": "express"}, {"requested_service": "express"}, True),
    ({"requested_service": "express"}, {}, False),
    ({"promise_within_days": 2}, {"promise_date": "tomorrow"}, True),
    ({"promise_within_days": 2}, {"promise_date": "in 5 days"}, False),
    ({"promise_within_days": 2}, {}, False),
    ({"customer_is_business": True}, {"business": True}, True),
    ({"customer_is_business": True}, {}, False),
    ({"customer_is_business": False}, {}, True),
    ({"has_tag": "vip"}, {}, False),
]


@pytest.mark.parametrize(("conditions", "order", "matches"), CONDITIONS)
def test_each_condition_matches_or_not(channel, std, conditions, order, matches):
    ProductFactory(sku="GLASS", handling_class=HandlingClass.FRAGILE)
    order = dict(order)
    if order.pop("business", False):
        Customer.objects.create(name="Acme", email="li.lei@example.com", is_business=True)
    promise = order.pop("promise_date", None)
    if promise:
        order["promise_date"] = tomorrow(1 if promise == "tomorrow" else 5)
    rule(**conditions)

    created = create(channel, **order)

    assert created.tags == (",hit," if matches else "")
    assert created.events.filter(kind=EventKind.CLASSIFIED).count() == (1 if matches else 0)


def test_channel_condition(channel, std):
    other = ChannelFactory(slug="app", name="App")
    rule(name="App only", channels=[other])
    assert create(channel, "E1").tags == ""
    assert create(other, "E2").tags == ",hit,"


def test_actions_are_written_on_the_order_and_the_timeline(channel, std):
    rule(name="Gift", add_tags="Gift, vip", set_priority=2, require_service_kind="express",
         require_capabilities="cold_chain", packing_note="gift wrap")

    order = create(channel)

    assert (order.tags, order.tag_list, order.priority) == (",gift,vip,", ["gift", "vip"], 2)
    assert (order.required_service_kind, order.required_capabilities) == ("express", ",cold_chain,")
    assert order.status == OrderStatus.CONFIRMED
    event = order.events.get(kind=EventKind.CLASSIFIED)
    assert event.message == (
        "Classified: rule Gift → tags gift, vip; priority 2; service express; location needs cold_chain; "
        "packing: gift wrap"
    )
    assert event.data["rule"] == "Gift" and event.data["tags"] == ["gift", "vip"]
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.CLASSIFIED, EventKind.STATUS]  # classified before confirmed


def test_hold_action_stops_the_order_before_confirmation(channel, std, django_capture_on_commit_callbacks):
    rule(name="Check gifts", hold_reason=HoldReason.MANUAL, hold_note="call the customer first")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = create(channel)
    order.refresh_from_db()

    assert (order.status, order.on_hold) == (OrderStatus.RECEIVED, True)
    hold = order.holds.get()
    assert (hold.reason, hold.note) == (HoldReason.MANUAL, "call the customer first")
    assert order.events.get(kind=EventKind.HELD).message == "On hold: Manual. call the customer first"
    assert not order.shipments.exists()
    assert callbacks == []  # no order_ready (and no customer notice: none of the three events asks for one)


def test_rules_run_in_order_later_priority_wins_and_has_tag_sees_earlier_tags(channel, std):
    rule(name="First", position=10, add_tags="vip", set_priority=3)
    rule(name="Second", position=20, has_tag="vip", add_tags="gift", set_priority=2)

    order = create(channel)

    assert (order.tags, order.priority) == (",gift,vip,", 2)
    assert list(order.events.filter(kind=EventKind.CLASSIFIED).values_list("data__rule", flat=True)) == [
        "First", "Second"
    ]


def test_a_has_tag_rule_before_the_tagging_rule_does_not_match(channel, std):
    rule(name="Second", position=5, has_tag="vip", add_tags="gift")
    rule(name="First", position=10, add_tags="vip")
    assert create(channel).tags == ",vip,"


def test_stop_ends_the_run_and_inactive_rules_are_skipped(channel, std):
    rule(name="Off", position=1, active=False, add_tags="off")
    rule(name="Stop", position=10, add_tags="a", stop_processing=True)
    rule(name="Never", position=20, add_tags="b")

    order = create(channel)

    assert order.tags == ",a,"
    assert order.events.get(kind=EventKind.CLASSIFIED).message == "Classified: rule Stop → tags a; stop"


def test_reclassify_replaces_the_result_and_records_it(channel, std):
    r = rule(name="Gift", add_tags="gift")
    order = create(channel)
    r.add_tags = "bulky"
    r.require_capabilities = "bulky"
    r.save()

    order = services.order_reclassify(order=order)

    assert (order.tags, order.required_capabilities) == (",bulky,", ",bulky,")
    assert order.events.filter(kind=EventKind.CLASSIFIED).count() == 2


def test_reclassify_does_not_hold_again_for_a_finding_a_person_released(channel, std):
    rule(name="Check", add_tags="check", hold_reason=HoldReason.MANUAL, hold_note="look at it")
    order = create(channel)
    assert order.holds.filter(reason=HoldReason.MANUAL, released_at__isnull=True).count() == 1
    services.order_release(order=order, reason=HoldReason.MANUAL, note="looked: fine")

    order = services.order_reclassify(order=order)
    assert not order.on_hold
    assert order.holds.filter(reason=HoldReason.MANUAL).count() == 1  # the released one only

    # A different finding for the same reason is a new question: held again.
    ClassificationRule.objects.filter(name="Check").update(hold_note="look again, the rule changed")
    order = services.order_reclassify(order=order)
    assert order.on_hold
    assert order.holds.filter(reason=HoldReason.MANUAL, released_at__isnull=True).count() == 1


def test_reclassify_after_shipping_is_refused_and_changes_nothing(channel, std):
    rule(name="Gift", add_tags="gift")
    order = create(channel)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    with pytest.raises(DomainError, match="too late to reclassify"):
        services.order_reclassify(order=order)
    assert order.events.filter(kind=EventKind.CLASSIFIED).count() == 1


def test_tag_filter_on_the_order_list(channel, std):
    rule(name="Gift", add_tags="gift", max_weight_g=600)
    gift = create(channel, "E1")
    create(channel, "E2", qty=2)  # 1000 g: no tag

    assert list(Order.objects.tagged("gift")) == [gift]
    assert list(OrderFilterSet(data={"tag": "GIFT"}, queryset=Order.objects.all()).qs) == [gift]
    assert list(Order.objects.tagged("gif")) == []  # whole tags only


def test_defaults_are_installed_once_and_again_when_missing():
    assert classification_install_defaults() == 3
    assert classification_install_defaults() == 0
    assert list(ClassificationRule.objects.values_list("name", flat=True)) == [r["name"] for r in DEFAULT_RULES]


def test_default_rules_tag_fresh_fragile_and_bulky(channel):
    classification_install_defaults()
    for sku, cls in (("FRESH", HandlingClass.FRESH), ("GLASS", HandlingClass.FRAGILE), ("SOFA", HandlingClass.BULKY)):
        ProductFactory(sku=sku, handling_class=cls)

    fresh, glass, sofa = (create(channel, sku, sku=sku) for sku in ("FRESH", "GLASS", "SOFA"))

    assert (fresh.tags, fresh.priority, fresh.required_service_kind, fresh.required_capabilities) == (
        ",fresh,", 1, "cold_chain", ",cold_chain,"
    )
    assert (glass.tags, glass.priority, glass.required_service_kind, glass.required_capabilities) == (
        ",fragile,", 5, "", ""
    )
    assert "packing: Fragile packing" in glass.events.get(kind=EventKind.CLASSIFIED).message
    assert (sofa.tags, sofa.required_service_kind, sofa.required_capabilities) == (",bulky,", "freight", ",bulky,")


def test_rule_validation():
    bad = ClassificationRule(name="x", min_weight_g=10, max_weight_g=5, handling_classes="frozen",
                             require_capabilities="teleport", hold_note="why")
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert set(exc.value.message_dict) == {"max_weight_g", "handling_classes", "require_capabilities", "hold_reason"}


def test_service_kinds_are_the_ones_logistics_knows():
    assert ServiceKindRequirement.choices == ServiceKind.choices
