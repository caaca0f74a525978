"""Scored routing (fulfillment/routing/): hard constraints, each score term, policy choice, splits,
backorders, the channel's "force" stock policy, reroute, dry run and replay, the pick queue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment import routing, selectors, services
from fulfillment.models import Backorder, RoutingDecision, RoutingPolicy, RoutingReplay, Shipment
from fulfillment.selectors import decision_candidates
from fulfillment.status import ShipmentStatus
from inventory.models import HandlingClass, Stock, StockMovement
from inventory.selectors import ledger_mismatches
from logistics.models import RateCardRow
from oms.errors import DomainError
from orders import services as order_services
from orders.models import ClassificationRule, Order, StockPolicy
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, stock
from workflows.cancel import order_cancel

pytestmark = pytest.mark.django_db

GUANGZHOU = {"city": "Guangzhou", "province": "Guangdong", "postcode": "510000"}


@pytest.fixture
def world():
    sha = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    can = LocationFactory(
        code="can",
        name="Guangzhou DC",
        city="Guangzhou",
        province="Guangdong",
        latitude=23.13,
        longitude=113.26,
        cold_chain=True,
    )
    ctu = LocationFactory(
        code="ctu",
        name="Chengdu DC",
        city="Chengdu",
        province="Sichuan",
        latitude=30.57,
        longitude=104.07,
        handles_bulky=True,
    )
    a = ProductFactory(sku="A")
    b = ProductFactory(sku="B")
    for loc in (sha, can, ctu):
        stock(loc, a, 10)
        stock(loc, b, 10)
    return {
        "sha": sha,
        "can": can,
        "ctu": ctu,
        "a": a,
        "b": b,
        "web": ChannelFactory(slug="web"),
        "app": ChannelFactory(slug="app"),
    }


def create(world, capture, external_id="E1", lines=(("A", 1),), channel="web", **kw):
    with capture(execute=True):
        order = order_services.order_create(
            channel=world[channel], data=canonical(external_id, lines=lines, **kw), source="test"
        ).order
    order.refresh_from_db()
    return order


def policy(code="p", **kw):
    channels = kw.pop("channels", [])
    defaults = {"name": code.upper(), "status": "live"}
    defaults.update(kw)
    p = RoutingPolicy.objects.create(code=code, **defaults)
    p.channels.set(channels)
    return p


def rows(order):
    return {c["location"]: c for c in decision_candidates(order.routing_decisions.first())}


def reserved(location, product):
    return Stock.objects.get(location=location, product=product).reserved


# ---- hard constraints ------------------------------------------------------------------------------


def test_stock_is_a_hard_constraint(world, django_capture_on_commit_callbacks):
    order = create(world, django_capture_on_commit_callbacks, lines=(("A", 10), ("B", 1)))
    services.order_route(order_id=order.pk)  # no-op
    second = create(world, django_capture_on_commit_callbacks, "E2", lines=(("A", 5),))
    assert order.shipments.get().location == world["sha"]
    assert second.shipments.get().location != world["sha"]
    assert rows(second)["sha"]["eligible"] is False
    assert rows(second)["sha"]["verdict"] == "short of A"


def test_capability_is_a_hard_constraint(world, django_capture_on_commit_callbacks):
    fresh = ProductFactory(sku="FRESH", handling_class=HandlingClass.FRESH)
    for loc in ("sha", "can"):
        stock(world[loc], fresh, 5)
    order = create(world, django_capture_on_commit_callbacks, lines=(("FRESH", 1),))
    assert order.shipments.get().location == world["can"]
    assert rows(order)["sha"]["verdict"].startswith("cannot handle fresh")


def test_coverage_a_location_ships_only_within_its_country(world, django_capture_on_commit_callbacks):
    world["sha"].country = "JP"
    world["sha"].save()
    order = create(world, django_capture_on_commit_callbacks)
    assert order.shipments.get().location == world["can"]
    assert rows(order)["sha"]["verdict"] == "does not ship to CN (ships within JP)"


def test_a_location_at_its_daily_capacity_is_skipped(world, django_capture_on_commit_callbacks):
    world["sha"].daily_capacity = 1
    world["sha"].save()
    first = create(world, django_capture_on_commit_callbacks)
    second = create(world, django_capture_on_commit_callbacks, "E2")
    assert first.shipments.get().location == world["sha"]
    assert second.shipments.get().location == world["can"]
    assert rows(second)["sha"]["verdict"] == "at capacity (1/1 today)"
    # Yesterday's shipments do not count.
    Shipment.objects.filter(location=world["sha"]).update(created_at=timezone.now() - timedelta(days=1))
    third = create(world, django_capture_on_commit_callbacks, "E3")
    assert third.shipments.get().location == world["sha"]


# ---- each term can change the winner ---------------------------------------------------------------


def test_distance_nearest_wins_with_the_terms_recorded(world, django_capture_on_commit_callbacks):
    order = create(world, django_capture_on_commit_callbacks, ship_to=GUANGZHOU)
    decision = order.routing_decisions.get()
    assert decision.chosen == world["can"] and decision.policy == "builtin" and decision.policy_ref is None
    can, sha = rows(order)["can"], rows(order)["sha"]
    assert set(can["terms"]) == {"distance", "cost", "split", "load", "balance"}
    assert can["score"] < sha["score"]
    assert sha["verdict"].startswith("score ") and "farther by" in sha["verdict"]
    assert can["verdict"].startswith("chosen: lowest score") and "nearer by" in can["verdict"]
    assert decision.score == Decimal(str(can["score"]))
    assert decision.totals["shipments"] == 1 and decision.plan[0]["location"] == "can"


def test_shipping_cost_can_beat_distance(world, django_capture_on_commit_callbacks):
    service = ServiceLevelFactory(code="std")
    # Same city (Z0) is dear on this carrier, every other zone cheap.
    RateCardRow.objects.create(service=service, zone="Z0", max_weight_g=30000, price=Decimal("90"), transit_days=1)
    for zone in ("Z1", "Z2", "Z3", "Z4"):
        RateCardRow.objects.create(service=service, zone=zone, max_weight_g=30000, price=Decimal("5"), transit_days=2)
    order = create(world, django_capture_on_commit_callbacks)  # to Shanghai
    assert order.shipments.get().location != world["sha"]
    sha = rows(order)["sha"]
    assert sha["cost"] == 90.0
    assert "dearer by ¥85.00" in sha["verdict"]


def test_load_breaks_a_tie_between_equal_locations(world, django_capture_on_commit_callbacks):
    twin = LocationFactory(
        code="sha2", name="Shanghai 2", city="Shanghai", latitude=31.23, longitude=121.47, daily_capacity=10
    )
    world["sha"].daily_capacity = 10
    world["sha"].save()
    stock(twin, world["a"], 10)
    first = create(world, django_capture_on_commit_callbacks)
    second = create(world, django_capture_on_commit_callbacks, "E2")
    assert first.shipments.get().location == world["sha"]  # tie: by code
    assert second.shipments.get().location == twin
    assert rows(second)["sha"]["load_pct"] == 10.0
    assert "busier" in rows(second)["sha"]["verdict"]


def test_stock_balance_keeps_a_location_s_last_units_for_orders_only_it_can_serve(
    world, django_capture_on_commit_callbacks
):
    Stock.objects.filter(location=world["sha"], product=world["a"]).update(on_hand=2)
    Stock.objects.filter(location=world["can"], product=world["a"]).update(on_hand=100)
    nearest = create(world, django_capture_on_commit_callbacks, lines=(("A", 2),))  # to Shanghai
    assert nearest.shipments.get().location == world["sha"]  # balance off by default: nearest wins
    assert rows(nearest)["sha"]["terms"]["balance"] == 0
    nearest.shipments.update(status=ShipmentStatus.CANCELLED)
    Stock.objects.filter(location=world["sha"], product=world["a"]).update(reserved=0)

    policy("balanced", weight_balance=1, is_default=True)
    balanced = create(world, django_capture_on_commit_callbacks, "E2", lines=(("A", 2),))
    assert balanced.shipments.get().location == world["can"]  # takes 2 % there instead of 100 % at sha
    sha, can = rows(balanced)["sha"], rows(balanced)["can"]
    assert (sha["stock_taken_pct"], can["stock_taken_pct"]) == (100.0, 2.0)
    assert (sha["terms"]["balance"], can["terms"]["balance"]) == (100.0, 2.0)
    assert "takes more of its stock (100% vs 2%)" in sha["verdict"]
    assert "keeps more stock" in can["verdict"]


def test_split_penalty_decides_between_one_far_location_and_two_near_ones(world, django_capture_on_commit_callbacks):
    # sha has only A, can only B; ctu (Chengdu, far from Shanghai) has both.
    Stock.objects.filter(location=world["sha"], product=world["b"]).update(on_hand=0)
    Stock.objects.filter(location=world["can"], product=world["a"]).update(on_hand=0)
    whole = create(world, django_capture_on_commit_callbacks, lines=(("A", 1), ("B", 1)))
    assert [s.location for s in whole.shipments.all()] == [world["ctu"]]
    policy("cheap-split", weight_split=1, is_default=True)
    split = create(world, django_capture_on_commit_callbacks, "E2", lines=(("A", 1), ("B", 1)))
    shipments = {s.location.code: s for s in split.shipments.all()}
    assert set(shipments) == {"sha", "can"}
    assert [ln.product.sku for ln in shipments["sha"].lines.all()] == ["A"]
    assert [ln.product.sku for ln in shipments["can"].lines.all()] == ["B"]
    decision = split.routing_decisions.get()
    assert decision.kind == "split" and decision.policy == "cheap-split" and decision.totals["shipments"] == 2
    chosen = next(c for c in decision_candidates(decision) if c["chosen"])
    assert chosen["kind"] == "set" and chosen["terms"]["split"] == 1.0
    assert split.status == OrderStatus.ALLOCATED
    policy("nosplit", rank=1, allow_split=False, channels=[world["web"]])
    third = create(world, django_capture_on_commit_callbacks, "E3", lines=(("A", 1), ("B", 1)))
    assert [s.location for s in third.shipments.all()] == [world["ctu"]]


# ---- policy choice ---------------------------------------------------------------------------------


def test_policy_choice_by_channel_tag_default_and_builtin(world, django_capture_on_commit_callbacks):
    ClassificationRule.objects.create(name="VIP", position=5, requested_service="vip", add_tags="vip")
    assert create(world, django_capture_on_commit_callbacks, "E0").routing_decisions.get().policy == "builtin"
    by_channel = policy("web-policy", rank=50, channels=[world["web"]])
    by_tag = policy("vip-policy", rank=10, tags="vip, gold")
    default = policy("fallback", rank=200, is_default=True)
    policy("draft", rank=1, status="draft", channels=[world["web"], world["app"]])

    plain = create(world, django_capture_on_commit_callbacks, "E1")
    vip = create(world, django_capture_on_commit_callbacks, "E2", requested_service="vip")
    other = create(world, django_capture_on_commit_callbacks, "E3", channel="app", lines=(("B", 2),), ship_to=GUANGZHOU)
    assert vip.tag_list == ["vip"]
    assert plain.routing_decisions.get().policy_ref == by_channel
    assert vip.routing_decisions.get().policy_ref == by_tag  # rank 10 beats the channel's 50
    assert other.routing_decisions.get().policy_ref == default
    assert routing.policy_for(Order(channel=world["app"], tags=",gold,")).code == "vip-policy"


# ---- short stock: ship complete, backorder, force --------------------------------------------------


def test_ship_complete_holds_stock_short_and_reserves_nothing(world, django_capture_on_commit_callbacks):
    order = create(world, django_capture_on_commit_callbacks, lines=(("A", 31),))
    assert order.on_hold and order.holds.get().reason == HoldReason.STOCK_SHORT
    assert not Shipment.objects.exists() and not Backorder.objects.exists()
    assert Stock.objects.filter(reserved__gt=0).count() == 0


def test_ship_available_reserves_what_there_is_and_backorders_the_rest(world, django_capture_on_commit_callbacks):
    policy("partial", is_default=True, ship_complete=False, allow_split=False)
    Stock.objects.filter(location__in=[world["can"], world["ctu"]], product=world["a"]).update(on_hand=0)
    order = create(world, django_capture_on_commit_callbacks, lines=(("A", 12), ("B", 1)))
    shipment = order.shipments.get()
    assert shipment.location == world["sha"]
    assert {ln.product.sku: ln.quantity for ln in shipment.lines.all()} == {"A": 10, "B": 1}
    backorder = Backorder.objects.get(order=order)
    assert (backorder.product, backorder.quantity, backorder.resolved_at) == (world["a"], 2, None)
    assert order.status == OrderStatus.ALLOCATED and not order.on_hold
    assert order.routing_decisions.get().kind == "backorder"
    assert order.events.filter(kind=EventKind.BACKORDERED, message__startswith="Backordered A x2").exists()
    assert reserved(world["sha"], world["a"]) == 10

    # Nothing new arrived: the retry changes nothing.
    assert routing.backorders_retry() == 0
    # One unit arrives at Chengdu.
    Stock.objects.filter(location=world["ctu"], product=world["a"]).update(on_hand=1)
    assert routing.backorders_retry() == 1  # one of the two ships now, one stays open
    backorder.refresh_from_db()
    assert backorder.quantity == 1 and backorder.resolved_at is not None and backorder.shipment.location == world["ctu"]
    assert Backorder.objects.get(order=order, resolved_at__isnull=True).quantity == 1
    assert order.shipments.count() == 2
    assert order.routing_decisions.first().kind == "backorder"


def test_force_channel_routes_anyway_and_never_oversells(world, django_capture_on_commit_callbacks):
    world["web"].stock_policy = StockPolicy.FORCE
    world["web"].save()
    order = create(world, django_capture_on_commit_callbacks, lines=(("A", 35),))  # 30 exist in all
    shipment = order.shipments.get()
    assert shipment.lines.get().quantity == 10
    assert Backorder.objects.get(order=order).quantity == 25
    assert not order.on_hold and order.status == OrderStatus.ALLOCATED
    for row in Stock.objects.all():
        assert 0 <= row.reserved <= row.on_hand
    assert ledger_mismatches() == []


def test_force_with_nothing_on_hand_backorders_everything_without_an_empty_shipment(
    world, django_capture_on_commit_callbacks
):
    world["web"].stock_policy = StockPolicy.FORCE
    world["web"].save()
    Stock.objects.filter(product=world["b"]).update(on_hand=0)
    order = create(world, django_capture_on_commit_callbacks, lines=(("B", 2),))
    assert not order.shipments.exists()
    assert Backorder.objects.get(order=order).quantity == 2
    assert order.status == OrderStatus.CONFIRMED and not order.on_hold
    assert services.order_route(order_id=order.pk) is None  # waits for the retry, no second backorder
    Stock.objects.filter(location=world["ctu"], product=world["b"]).update(on_hand=5)
    assert routing.backorders_retry() == 1
    order.refresh_from_db()
    assert order.shipments.get().location == world["ctu"] and order.status == OrderStatus.ALLOCATED
    assert not Backorder.objects.filter(resolved_at__isnull=True).exists()


def test_cancelling_closes_open_backorders(world, django_capture_on_commit_callbacks):
    policy("partial", is_default=True, ship_complete=False, allow_split=False)
    order = create(world, django_capture_on_commit_callbacks, lines=(("A", 12),))
    order_cancel(order=order, reason="customer")
    assert not Backorder.objects.filter(resolved_at__isnull=True).exists()
    assert Stock.objects.filter(reserved__gt=0).count() == 0


# ---- reroute ---------------------------------------------------------------------------------------


def test_reroute_moves_the_reservation_with_a_reason(world, django_capture_on_commit_callbacks):
    order = create(world, django_capture_on_commit_callbacks, lines=(("A", 2),))
    assert order.shipments.get().location == world["sha"]
    with pytest.raises(DomainError, match="reason"):
        routing.order_reroute(order=order, location=world["can"], reason="  ")
    decision = routing.order_reroute(order=order, location=world["can"], reason="sha flooded")
    assert (reserved(world["sha"], world["a"]), reserved(world["can"], world["a"])) == (0, 2)
    assert decision.kind == "reroute" and decision.note == "sha flooded" and decision.chosen == world["can"]
    statuses = dict(order.shipments.values_list("location__code", "status"))
    assert statuses == {"sha": ShipmentStatus.CANCELLED, "can": ShipmentStatus.RESERVED}
    event = order.events.filter(kind=EventKind.ROUTED).last()
    assert event.message == "Rerouted from sha to can. Reason: sha flooded"
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED

    best = routing.order_reroute(order=order, reason="try elsewhere")  # best other than can
    assert best.chosen == world["sha"]
    assert ledger_mismatches() == []


def test_reroute_is_refused_once_picking_and_to_a_location_that_cannot(world, django_capture_on_commit_callbacks):
    order = create(world, django_capture_on_commit_callbacks, lines=(("A", 2),))
    Stock.objects.filter(location=world["ctu"], product=world["a"]).update(on_hand=1)
    with pytest.raises(DomainError, match="ctu cannot ship all of it: short of A"):
        routing.order_reroute(order=order, location=world["ctu"], reason="closer to the customer")
    assert reserved(world["sha"], world["a"]) == 2  # all or nothing
    assert order.shipments.get().status == ShipmentStatus.RESERVED
    services.picklist_create(location=world["sha"])
    with pytest.raises(DomainError, match="already being picked"):
        routing.order_reroute(order=order, location=world["can"], reason="late")


def test_reroute_of_a_force_order_never_drops_units(world, django_capture_on_commit_callbacks):
    # Found by the PostgreSQL concurrency test: a reroute must move every unit or nothing, even for a
    # "force" channel (whose routing otherwise takes what one location has).
    world["web"].stock_policy = StockPolicy.FORCE
    world["web"].save()
    Stock.objects.filter(location=world["can"], product=world["b"]).update(on_hand=3)
    Stock.objects.filter(location=world["ctu"], product=world["b"]).update(on_hand=0)
    order = create(world, django_capture_on_commit_callbacks, lines=(("B", 14),))
    assert order.shipments.get().lines.get().quantity == 10
    with pytest.raises(DomainError, match="any other location cannot ship all of it"):
        routing.order_reroute(order=order, reason="try can")
    assert reserved(world["sha"], world["b"]) == 10 and reserved(world["can"], world["b"]) == 0
    assert Backorder.objects.get(order=order, resolved_at__isnull=True).quantity == 4


# ---- dry run and replay write nothing --------------------------------------------------------------


def _snapshot():
    return (
        sorted(Stock.objects.values_list("location_id", "product_id", "on_hand", "reserved")),
        Shipment.objects.count(),
        RoutingDecision.objects.count(),
        StockMovement.objects.count(),
        Backorder.objects.count(),
    )


def test_dry_run_and_replay_reserve_nothing(world, django_capture_on_commit_callbacks):
    routed = [create(world, django_capture_on_commit_callbacks, f"E{i}", lines=(("A", 1), ("B", 1))) for i in range(3)]
    draft = policy("draft", status="draft", weight_distance=0, weight_split=0, ship_complete=False)
    before = _snapshot()

    evaluation = routing.order_dry_run(order=routed[0], policy=draft)
    assert evaluation.best is not None and evaluation.policy.code == "draft"
    today = timezone.localdate()
    replay = RoutingReplay.objects.create(policy=draft, period_start=today - timedelta(days=1), period_end=today)
    routing.replay_run(replay_id=replay.pk)

    assert _snapshot() == before
    replay.refresh_from_db()
    assert replay.status == "done" and replay.orders == 3
    assert replay.results["baseline"]["routed"] == 3 and replay.results["baseline"]["shipments"] == 3
    assert set(replay.results["delta"]) >= {"cost", "shipments", "distance_km", "late_risk"}


def test_late_risk_is_transit_from_distance_against_the_promise_date():
    order = Order(promise_date=timezone.localdate())
    assert routing.late_risk(order, 100) is True  # one working day from today is after today
    order.promise_date = timezone.localdate() + timedelta(days=10)
    assert routing.late_risk(order, 3000) is False
    assert routing.transit_days_estimate(250) == 1 and routing.transit_days_estimate(2000) == 4


# ---- the ready-to-pick queue -----------------------------------------------------------------------


def test_ready_queue_and_pick_lists_follow_priority_then_promise_date(world, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    specs = [
        ("late-p5", 5, None),
        ("p5-soon", 5, today + timedelta(days=2)),
        ("p1", 1, None),
        ("p5-sooner", 5, today + timedelta(days=1)),
    ]
    orders = {
        ext: create(world, django_capture_on_commit_callbacks, ext, priority=p, promise_date=d) for ext, p, d in specs
    }
    expected = [orders[e].pk for e in ("p1", "p5-sooner", "p5-soon", "late-p5")]
    assert [s.order_id for s in selectors.ready_queue(world["sha"])] == expected
    picklist = services.picklist_create(location=world["sha"], limit=2)
    assert set(picklist.shipments.values_list("order_id", flat=True)) == set(expected[:2])


# ---- batch reads -----------------------------------------------------------------------------------


def test_routing_in_a_batch_reads_reference_data_once(
    world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    orders = []
    with django_capture_on_commit_callbacks(execute=False):
        for i in range(4):
            orders.append(
                order_services.order_create(
                    channel=world["web"], data=canonical(f"B{i}", lines=(("A", 1), ("B", 1))), source="test"
                ).order
            )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with routing.routing_batch():
        services.order_route(order_id=orders[0].pk)
        with CaptureQueriesContext(connection) as ctx:
            for order in orders[1:]:
                services.order_route(order_id=order.pk)
    per_order = len(ctx.captured_queries) / 3
    assert not any(
        "inventory_location" in q["sql"] and 'FROM "inventory_location"' in q["sql"] for q in ctx.captured_queries
    )
    assert per_order < 25
