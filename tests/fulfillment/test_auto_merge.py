"""自动合单 (issue 17): orders of one buyer to one address on one channel merge at review and are routed as
one demand at one location, their shipments merged into one parcel; undo; the rule off; concurrency."""

import pytest
from django.db import IntegrityError, transaction

from fulfillment import routing
from fulfillment.models import RoutingDecision, Shipment
from inventory.models import Stock
from inventory.selectors import ledger_mismatches
from oms.errors import DomainError
from orders import services as order_services
from orders.models import MergeSettings, Order, OrderEvent, OrderMergeGroup, OrderMergeMember
from orders.status import EventKind, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock
from workflows.merge import order_merge_undo

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Shanghai has A and B; Guangzhou (nearer to nobody here) has A only. Automatic merge on."""
    sha = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    can = LocationFactory(
        code="can", name="Guangzhou DC", city="Guangzhou", province="Guangdong", latitude=23.13, longitude=113.26
    )
    a, b = ProductFactory(sku="A", weight_g=500), ProductFactory(sku="B", weight_g=1000)
    stock(sha, a, 5)
    stock(sha, b, 5)
    stock(can, a, 5)
    MergeSettings.objects.create(pk=1, enabled=True, window_minutes=30)
    return {"sha": sha, "can": can, "a": a, "b": b, "web": ChannelFactory(slug="web")}


def arrive(world, capture, external_id, lines=(("A", 1),), channel=None, **kw):
    """An order through intake, confirmed; its routing announcement is dropped (routing runs when the test
    says so)."""
    with capture(execute=False):
        order = order_services.order_create(
            channel=channel or world["web"], data=canonical(external_id, lines=lines, **kw), source="test"
        ).order
    order.refresh_from_db()
    return order


def group_of(order):
    member = OrderMergeMember.objects.filter(order=order, active=True).select_related("group").first()
    return member.group if member else None


def test_two_orders_of_one_buyer_merge_at_review_and_route_to_one_location_in_one_parcel(
    world, django_capture_on_commit_callbacks
):
    canton = {"province": "Guangdong", "city": "Guangzhou", "district": "Tianhe", "postcode": "510000"}
    first = arrive(world, django_capture_on_commit_callbacks, "M1", (("A", 1),), ship_to=canton)
    second = arrive(
        world, django_capture_on_commit_callbacks, "M2", (("B", 2),), ship_to={**canton, "phone": "13800138000"}
    )
    group = group_of(first)
    assert group is not None and group_of(second) == group
    assert group.number == f"MG{100000 + group.pk}"
    merged = OrderEvent.objects.get(order=second, kind=EventKind.ORDER_MERGED)
    assert merged.data == {"group": group.number, "orders": [first.number, second.number]}

    result = routing.route_window()

    assert (result.claimed, result.routed, result.groups) == (0, 0, 1)
    s1, s2 = first.shipments.get(), second.shipments.get()
    # A alone would go to Guangzhou (nearer); with B, which only Shanghai has, both go to Shanghai.
    assert (s1.location.code, s2.location.code) == ("sha", "sha")
    assert [(ln.product.sku, ln.quantity) for ln in s1.lines.all()] == [("A", 1)]
    assert [(ln.product.sku, ln.quantity) for ln in s2.lines.all()] == [("B", 2)]
    assert (s1.merged_into_id, s2.merged_into_id) == (None, s1.pk)  # one parcel, led by the first's shipment
    for order in (first, second):
        order.refresh_from_db()
        assert order.status == OrderStatus.ALLOCATED
        decision = RoutingDecision.objects.get(order=order)
        assert (decision.kind, decision.chosen.code) == ("merge", "sha")
    stock_rows = {
        (r.location.code, r.product.sku): r.reserved for r in Stock.objects.select_related("location", "product")
    }
    assert stock_rows == {("sha", "A"): 1, ("sha", "B"): 2, ("can", "A"): 0}
    assert ledger_mismatches() == []
    # Each order keeps its own number and totals; routing again changes nothing.
    assert routing.route_window().groups == 0
    assert Shipment.objects.count() == 2


def test_alone_the_first_order_would_go_to_the_nearer_location(world, django_capture_on_commit_callbacks):
    MergeSettings.objects.filter(pk=1).update(enabled=False)
    canton = {"province": "Guangdong", "city": "Guangzhou", "district": "Tianhe", "postcode": "510000"}
    first = arrive(world, django_capture_on_commit_callbacks, "M1", (("A", 1),), ship_to=canton)
    second = arrive(world, django_capture_on_commit_callbacks, "M2", (("B", 2),), ship_to=canton)
    routing.route_window()
    assert (first.shipments.get().location.code, second.shipments.get().location.code) == ("can", "sha")
    assert second.shipments.get().merged_into_id is None


def test_an_order_to_another_address_is_not_merged(world, django_capture_on_commit_callbacks):
    first = arrive(world, django_capture_on_commit_callbacks, "N1")
    second = arrive(world, django_capture_on_commit_callbacks, "N2")
    third = arrive(world, django_capture_on_commit_callbacks, "N3", ship_to={"address1": "1 Nanjing Road"})
    other_buyer = arrive(world, django_capture_on_commit_callbacks, "N4", ship_to={"phone": "13900000000"})
    assert group_of(first) == group_of(second) is not None
    assert (group_of(third), group_of(other_buyer)) == (None, None)
    assert OrderMergeGroup.objects.count() == 1
    routing.route_window()
    third.refresh_from_db()
    assert third.status == OrderStatus.ALLOCATED and third.shipments.get().merged_into_id is None


def test_turned_off_globally_per_channel_or_by_tag_nothing_merges(world, django_capture_on_commit_callbacks):
    MergeSettings.objects.filter(pk=1).update(enabled=False)
    arrive(world, django_capture_on_commit_callbacks, "F1")
    arrive(world, django_capture_on_commit_callbacks, "F2")
    assert OrderMergeGroup.objects.count() == 0

    settings = MergeSettings.objects.get(pk=1)
    settings.enabled = True
    settings.save()
    quiet = ChannelFactory(slug="quiet")
    settings.disabled_channels.add(quiet)
    arrive(world, django_capture_on_commit_callbacks, "F3", channel=quiet)
    arrive(world, django_capture_on_commit_callbacks, "F4", channel=quiet)
    assert OrderMergeGroup.objects.count() == 0

    tagged = arrive(world, django_capture_on_commit_callbacks, "F5")
    Order.objects.filter(pk=tagged.pk).update(tags=",no-merge,")
    order_services.orders_auto_merge(order_ids=[tagged.pk])
    assert OrderMergeGroup.objects.count() == 0


def test_orders_further_apart_than_the_window_or_in_another_currency_do_not_merge(
    world, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    old = arrive(world, django_capture_on_commit_callbacks, "W1")
    Order.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(minutes=31))
    arrive(world, django_capture_on_commit_callbacks, "W2", currency="USD")
    assert OrderMergeGroup.objects.count() == 0
    arrive(world, django_capture_on_commit_callbacks, "W3", currency="USD")
    assert OrderMergeGroup.objects.count() == 1


def test_undo_before_routing_splits_the_group_and_each_order_routes_alone(world, django_capture_on_commit_callbacks):
    first = arrive(world, django_capture_on_commit_callbacks, "U1")
    second = arrive(world, django_capture_on_commit_callbacks, "U2", (("B", 1),))
    group = group_of(first)
    with django_capture_on_commit_callbacks(execute=False):
        order_merge_undo(group=group, user=None, note="customer asked")
    group.refresh_from_db()
    assert group.undone_at is not None and group.undo_note == "customer asked"
    assert (group_of(first), group_of(second)) == (None, None)
    assert OrderEvent.objects.filter(kind=EventKind.ORDER_UNMERGED).count() == 2
    routing.route_window()
    assert first.shipments.get().merged_into_id is None and second.shipments.get().merged_into_id is None
    with pytest.raises(DomainError):
        order_merge_undo(group=group, user=None)


def test_undo_after_routing_unmerges_the_parcel_and_refused_after_picking(world, django_capture_on_commit_callbacks):
    from fulfillment.services import picklist_create

    first = arrive(world, django_capture_on_commit_callbacks, "P1")
    second = arrive(world, django_capture_on_commit_callbacks, "P2")
    routing.route_window()
    group = group_of(first)
    order_merge_undo(group=group, user=None, note="two parcels please")
    s1, s2 = first.shipments.get(), second.shipments.get()
    assert s2.merged_into_id is None and s1.location_id == s2.location_id
    assert OrderEvent.objects.filter(order=second, kind=EventKind.UNMERGED).count() == 1

    third = arrive(world, django_capture_on_commit_callbacks, "P3", ship_to={"address1": "9 Huaihai Road"})
    fourth = arrive(world, django_capture_on_commit_callbacks, "P4", ship_to={"address1": "9 Huaihai Road"})
    routing.route_window()
    late = group_of(third)
    assert late is not None and fourth.shipments.get().merged_into_id == third.shipments.get().pk
    picklist_create(location=third.shipments.get().location, shipment_ids=[third.shipments.get().pk])
    events = OrderEvent.objects.count()
    with pytest.raises(DomainError):
        order_merge_undo(group=late, user=None)
    assert group_of(third) == late and OrderEvent.objects.count() == events


def test_a_group_that_cannot_ship_from_one_location_is_undone_and_routed_order_by_order(
    world, django_capture_on_commit_callbacks
):
    Stock.objects.filter(location=world["sha"], product=world["a"]).update(on_hand=0)
    first = arrive(world, django_capture_on_commit_callbacks, "S1", (("A", 1),))
    second = arrive(world, django_capture_on_commit_callbacks, "S2", (("B", 1),))
    group = group_of(first)
    routing.route_window()
    group.refresh_from_db()
    assert group.undone_at is not None and "no single location" in group.undo_note
    assert first.shipments.get().location.code == "can" and second.shipments.get().location.code == "sha"


def test_two_review_runs_do_not_double_merge(world, django_capture_on_commit_callbacks):
    first = arrive(world, django_capture_on_commit_callbacks, "C1")
    second = arrive(world, django_capture_on_commit_callbacks, "C2")
    assert OrderMergeGroup.objects.count() == 1
    assert order_services.orders_auto_merge(order_ids=[first.pk, second.pk]) == []
    assert order_services.orders_auto_merge(order_ids=[second.pk]) == []
    assert OrderMergeGroup.objects.count() == 1 and OrderMergeMember.objects.count() == 2
    # The database holds the line too: a second live membership of an order is refused.
    other = OrderMergeGroup.objects.create(channel=world["web"])
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderMergeMember.objects.create(group=other, order=first)


def test_with_a_wait_a_new_order_waits_for_its_partner_and_then_ships_with_it(
    world, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from fulfillment.background import orders_unrouted

    MergeSettings.objects.filter(pk=1).update(wait_minutes=10)
    first = arrive(world, django_capture_on_commit_callbacks, "T1", (("A", 1),))
    result = routing.route_window()
    assert (result.claimed, result.groups) == (0, 0)  # younger than the wait: not routed yet
    assert not first.shipments.exists()
    assert list(orders_unrouted(older_than=timezone.now() + timedelta(hours=1))) == []  # not stuck either
    second = arrive(world, django_capture_on_commit_callbacks, "T2", (("B", 1),))
    assert group_of(first) == group_of(second) is not None
    assert routing.route_window().groups == 1  # the group does not wait
    assert second.shipments.get().merged_into_id == first.shipments.get().pk

    alone = arrive(world, django_capture_on_commit_callbacks, "T3", ship_to={"address1": "5 Fuxing Road"})
    assert routing.route_window().claimed == 0
    Order.objects.filter(pk=alone.pk).update(created_at=alone.created_at - timedelta(minutes=11))
    assert routing.route_window().routed == 1  # waited the whole time: routed alone
    assert alone.shipments.get().merged_into_id is None


def test_a_classification_rule_that_tags_no_merge_keeps_orders_apart(world, django_capture_on_commit_callbacks):
    from orders.models import ClassificationRule

    ClassificationRule.objects.create(name="Big orders ship alone", position=10, min_value=40, add_tags="no-merge")
    first = arrive(world, django_capture_on_commit_callbacks, "R1", (("A", 1),))
    second = arrive(world, django_capture_on_commit_callbacks, "R2", (("B", 5),))
    second.refresh_from_db()
    assert second.tag_list == ["no-merge"]
    assert (group_of(first), group_of(second)) == (None, None)
    third = arrive(world, django_capture_on_commit_callbacks, "R3", (("A", 2),))
    assert group_of(first) == group_of(third) is not None


def test_single_order_routing_of_one_member_routes_its_whole_group(world, django_capture_on_commit_callbacks):
    first = arrive(world, django_capture_on_commit_callbacks, "O1", (("A", 1),))
    second = arrive(world, django_capture_on_commit_callbacks, "O2", (("B", 1),))
    decision = routing.order_route(order_id=second.pk)  # as route_order does with ROUTING_IN_WINDOWS off
    assert decision == RoutingDecision.objects.get(order=second) and decision.kind == "merge"
    assert second.shipments.get().merged_into_id == first.shipments.get().pk
    assert routing.order_route(order_id=first.pk) is None  # delivered twice: nothing more
    assert Shipment.objects.count() == 2


def test_a_presale_order_waiting_for_its_day_does_not_merge(world, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    world["b"].presale_ship_from = timezone.localdate() + timedelta(days=10)
    world["b"].save()
    first = arrive(world, django_capture_on_commit_callbacks, "P1", (("A", 1),))
    waiting = arrive(world, django_capture_on_commit_callbacks, "P2", (("B", 1),))
    assert waiting.presale_waiting
    assert (group_of(first), group_of(waiting)) == (None, None)
    third = arrive(world, django_capture_on_commit_callbacks, "P3", (("A", 1),))
    assert group_of(first) == group_of(third) is not None
