"""Routing in windows (fulfillment/routing/window.py): the joint choice, its writes, explanations, the
solver's fallback, and no oversell when stock changes between the snapshot and the write."""

import json
import time

import pytest

from fulfillment import routing
from fulfillment.models import RoutingDecision, RoutingPolicy, Shipment, ShipmentLine
from fulfillment.routing import solver, window
from fulfillment.selectors import decision_candidates
from inventory.models import Stock, StockMovement
from inventory.selectors import ledger_mismatches
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderLine
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two locations; A at both (1 unit each), B only in Shanghai (1 unit). No splits."""
    sha = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    can = LocationFactory(
        code="can", name="Guangzhou DC", city="Guangzhou", province="Guangdong", latitude=23.13, longitude=113.26
    )
    a, b = ProductFactory(sku="A"), ProductFactory(sku="B")
    stock(sha, a, 1)
    stock(can, a, 1)
    stock(sha, b, 1)
    web = ChannelFactory(slug="web")
    RoutingPolicy.objects.create(
        code="whole", name="Whole", status="live", is_default=True, ship_complete=True, allow_split=False
    )
    return {"sha": sha, "can": can, "a": a, "b": b, "web": web}


def waiting(world, capture, external_id, lines, priority=5):
    """A confirmed order waiting for routing (its routing announcement is dropped)."""
    with capture(execute=False):
        order = order_services.order_create(
            channel=world["web"], data=canonical(external_id, lines=lines), source="test"
        ).order
    Order.objects.filter(pk=order.pk).update(priority=priority)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED and not order.shipments.exists()
    return order


def where(order):
    return sorted((s.location.code, ln.product.sku, ln.quantity) for s in order.shipments.all() for ln in s.lines.all())


def test_the_joint_choice_serves_the_order_greedy_routing_strands(world, django_capture_on_commit_callbacks):
    # First in line (priority 1) wants A only: Shanghai is nearer. Second wants A and B: only Shanghai has B.
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)

    result = routing.route_window()

    assert (result.claimed, result.routed, result.single, result.left) == (2, 2, 0, 0)
    assert result.method == "highs"
    assert result.objective == pytest.approx(result.bound)
    assert result.objective < result.greedy_objective  # greedy leaves the second order unrouted
    assert where(first) == [("can", "A", 1)]
    assert where(second) == [("sha", "A", 1), ("sha", "B", 1)]
    for order in (first, second):
        order.refresh_from_db()
        assert order.status == OrderStatus.ALLOCATED
        assert not order.on_hold
    assert Stock.objects.filter(reserved__gt=0).count() == 3
    assert set(Stock.objects.values_list("on_hand", "reserved")) == {(1, 1)}
    assert ledger_mismatches() == []
    assert [s.number for s in Shipment.objects.order_by("pk")] == [
        f"SH{100000 + pk}" for pk in Shipment.objects.order_by("pk").values_list("pk", flat=True)
    ]
    kinds = list(first.events.order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.ROUTED, EventKind.STATUS]


def test_greedy_routing_one_by_one_strands_the_second_order(world, django_capture_on_commit_callbacks):
    """The same world through single-order routing: what the window avoids."""
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    routing.order_route(order_id=first.pk)
    routing.order_route(order_id=second.pk)
    second.refresh_from_db()
    assert where(first) == [("sha", "A", 1)]
    assert second.on_hold and second.holds.get().reason == HoldReason.STOCK_SHORT


def test_the_decision_says_whose_orders_took_the_cheaper_stock(world, django_capture_on_commit_callbacks):
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    routing.route_window()

    decision = first.routing_decisions.get()
    rows = {c["location"]: c for c in decision_candidates(decision)}
    assert decision.chosen == world["can"]
    assert rows["can"]["chosen"] is True
    assert rows["sha"]["chosen"] is False
    assert rows["sha"]["score"] < rows["can"]["score"]
    assert rows["sha"]["verdict"] == (
        f"score {rows['sha']['score']:g}, lower, but stock of A at sha went to orders {second.number}"
    )
    assert rows["sha"]["taken_by"] == [second.number]
    assert rows["can"]["verdict"] == (
        f"chosen in a window of 2 orders: score {rows['can']['score']:g}, the lowest left for this order "
        f"(sha: stock of A at sha went to orders {second.number})"
    )
    assert decision.reason.endswith(f"; sha not used: stock of A at sha went to orders {second.number}.")
    assert decision.reason.startswith("can: lowest score")  # the single-order wording, then the window's why
    # The second order got its own best plan: its explanation is the one single-order routing writes.
    other = second.routing_decisions.get()
    assert other.chosen == world["sha"]
    assert {c["location"]: c["verdict"] for c in decision_candidates(other)}["can"] == "short of B"
    routed = first.events.get(kind=EventKind.ROUTED)
    assert routed.message.startswith("Routed to Guangzhou DC.")
    assert routed.data["decision"] == decision.pk


def test_the_order_page_shows_the_windows_explanation(world, django_capture_on_commit_callbacks, admin_client):
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    routing.route_window()
    response = admin_client.get(f"/orders/{first.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"stock of A at sha went to orders {second.number}" in html
    assert "chosen in a window of 2 orders" in html


def test_an_unrouted_order_is_held_by_its_policys_rules(world, django_capture_on_commit_callbacks):
    # Three orders want the one B: one gets it, the other two are held stock short as single routing would.
    orders = [
        waiting(world, django_capture_on_commit_callbacks, f"E{i}", (("B", 1),), priority=i + 1) for i in range(3)
    ]
    result = routing.route_window()
    assert (result.claimed, result.routed, result.single) == (3, 1, 2)
    for order in orders:
        order.refresh_from_db()
    assert where(orders[0]) == [("sha", "B", 1)]
    assert [o.on_hold for o in orders] == [False, True, True]
    assert orders[1].holds.get().reason == HoldReason.STOCK_SHORT
    assert orders[1].events.filter(kind=EventKind.ROUTING_FAILED).count() == 1


def test_an_order_the_window_cannot_take_goes_through_single_routing(world, django_capture_on_commit_callbacks):
    odd = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),))
    OrderLine.objects.filter(order=odd).update(product=None)  # a line whose product is unknown to routing
    fine = waiting(world, django_capture_on_commit_callbacks, "E2", (("B", 1),))
    result = routing.route_window()
    assert (result.claimed, result.routed, result.single) == (2, 1, 1)
    odd.refresh_from_db()
    assert odd.on_hold and odd.holds.get().reason == HoldReason.UNKNOWN_SKU
    assert not odd.shipments.exists()
    assert where(fine) == [("sha", "B", 1)]


def test_nothing_waiting_is_a_no_op(world):
    result = routing.route_window()
    assert (result.claimed, result.routed) == (0, 0)
    assert RoutingDecision.objects.count() == 0


# ---- the solver's fallback ------------------------------------------------------------------------------


def test_when_highs_raises_the_greedy_answer_routes_the_window(world, django_capture_on_commit_callbacks, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(solver, "_model", broken)  # every use of HiGHS (LP and MILP) builds its model here
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    result = routing.route_window()
    assert result.method == "greedy"
    assert result.note == "solver failed: RuntimeError: solver exploded"
    assert (result.routed, result.single) == (1, 1)
    second.refresh_from_db()
    assert where(first) == [("sha", "A", 1)]
    assert second.on_hold and second.holds.get().reason == HoldReason.STOCK_SHORT
    assert ledger_mismatches() == []


def test_when_highs_runs_out_of_time_the_best_answer_so_far_is_used(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    def no_lp(problem, **kwargs):  # the LP relaxation ran out of time too
        return None, None

    def timed_out(problem, warm, **kwargs):  # what the MILP returns at its time limit with nothing better
        return solver.Solution(None, 0.0, "highs-limit", bound=None, note="time limit")

    monkeypatch.setattr(solver, "_lp_round", no_lp)
    monkeypatch.setattr(solver, "_highs", timed_out)
    waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    result = routing.route_window()
    assert (result.method, result.note, result.bound) == ("greedy", "time limit", None)
    assert result.routed == 1


def test_the_lp_relaxation_alone_proves_an_integral_answer():
    problem = solver.Problem(
        penalty=[100, 100], options=[(0, 1.0, [(0, 1)]), (0, 2.0, [(1, 1)]), (1, 1.0, [(0, 1)])], limits=[1, 1]
    )
    bound, choice = solver._lp_round(problem, time_limit=10)
    assert (bound, choice) == (3.0, [1, 2])


def test_a_solver_answer_that_oversells_is_refused():
    problem = solver.Problem(penalty=[100, 100], options=[(0, 1.0, [(0, 1)]), (1, 1.0, [(0, 1)])], limits=[1])
    assert solver.fits(problem, [0, None]) is True
    assert solver.fits(problem, [0, 1]) is False
    assert solver.fits(problem, [1, None]) is False  # order 0 cannot take order 1's option


def test_the_solver_proves_its_optimum_on_a_known_problem():
    # Order 0 may use resource 0 (cost 1) or 1 (cost 2); order 1 only resource 0 (cost 1). One unit each.
    problem = solver.Problem(
        penalty=[100, 100], options=[(0, 1.0, [(0, 1)]), (0, 2.0, [(1, 1)]), (1, 1.0, [(0, 1)])], limits=[1, 1]
    )
    assert solver.greedy(problem) == [0, None]
    solution = solver.solve(problem, time_limit=10)
    assert (solution.choice, solution.method, solution.objective, solution.bound) == ([1, 2], "highs", 3.0, 3.0)
    assert solution.greedy_objective == 101.0


def _short_of_two(penalty: list[float]) -> solver.Problem:
    """Order 2's only option needs resources 0 and 1, the first options of orders 0 and 1; each of them has another
    option (resources 2 and 3, one point dearer). One unit of each resource."""
    return solver.Problem(
        penalty=penalty,
        options=[
            (0, 1.0, [(0, 1)]),
            (0, 2.0, [(2, 1)]),
            (1, 1.0, [(1, 1)]),
            (1, 2.0, [(3, 1)]),
            (2, 1.0, [(0, 1), (1, 1)]),
        ],
        limits=[1, 1, 1, 1],
    )


def test_local_search_routes_an_order_whose_option_is_short_of_two_resources_by_moving_two_others():
    # Order 2's only option needs resources 0 and 1, which orders 0 and 1 took first; each of them has another
    # option (resources 2 and 3, one point dearer). Greedy leaves order 2 unrouted; moving both costs 2 < 100.
    problem = _short_of_two(penalty=[100, 100, 100])
    assert solver.greedy(problem) == [0, 2, None]
    choice = solver.improve(problem, [0, 2, None], deadline=time.perf_counter() + 30)
    assert choice == [1, 3, 4]
    assert solver.fits(problem, choice) and solver.objective(problem, choice) == 5.0
    # Not worth it when the moves cost more than leaving the order unrouted: nothing changes.
    dear = _short_of_two(penalty=[100, 100, 2.5])
    assert solver.improve(dear, [0, 2, None], deadline=time.perf_counter() + 30) == [0, 2, None]


# ---- the guarded UPDATE is the last word ------------------------------------------------------------------


def test_stock_gone_between_snapshot_and_write_leaves_the_order_waiting(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    real = window._snapshot

    def stale(product_ids):
        snapshot = real(product_ids)
        # Someone else takes Shanghai's B after the window read the stock (a real write, committed first).
        Stock.objects.filter(location=world["sha"], product=world["b"]).update(reserved=1)
        return snapshot

    monkeypatch.setattr(window, "_snapshot", stale)
    movements = StockMovement.objects.count()
    result = routing.route_window()

    assert (result.routed, result.left, result.left_ids) == (1, 1, [second.pk])
    assert where(first) == [("can", "A", 1)]
    second.refresh_from_db()
    assert second.status == OrderStatus.CONFIRMED and not second.on_hold
    assert not second.shipments.exists()
    assert not second.routing_decisions.exists()
    assert not second.events.filter(kind__in=[EventKind.ROUTED, EventKind.ROUTING_FAILED]).exists()
    assert Stock.objects.get(location=world["sha"], product=world["a"]).reserved == 0  # nothing half-written
    assert StockMovement.objects.count() == movements + 1  # first's reservation only
    assert ShipmentLine.objects.filter(shipment__order=second).count() == 0
    # The next window sees the stock as it is: the second order is held stock short.
    monkeypatch.setattr(window, "_snapshot", real)
    again = routing.route_window()
    second.refresh_from_db()
    assert (again.claimed, again.single) == (1, 1)
    assert second.on_hold


def test_windows_take_the_most_urgent_orders_first(world, django_capture_on_commit_callbacks):
    late = waiting(world, django_capture_on_commit_callbacks, "E1", (("B", 1),), priority=9)
    urgent = waiting(world, django_capture_on_commit_callbacks, "E2", (("B", 1),), priority=1)
    result = routing.route_window(limit=1)
    assert result.claimed == 1
    assert where(urgent) == [("sha", "B", 1)]
    assert not late.shipments.exists()
    assert list(routing.waiting_orders().values_list("pk", flat=True)) == [late.pk]


def test_route_waiting_routes_every_window(world, django_capture_on_commit_callbacks, settings):
    settings.ROUTING_WINDOW_SIZE = 1
    orders = [waiting(world, django_capture_on_commit_callbacks, f"E{i}", (("A", 1),)) for i in range(3)]
    results = routing.route_waiting()
    assert [r.claimed for r in results] == [1, 1, 1, 0]
    assert sum(r.routed for r in results) == 2
    assert OrderEvent.objects.filter(order__in=orders, kind=EventKind.ROUTED).count() == 2
    assert Order.objects.filter(pk__in=[o.pk for o in orders], on_hold=True).count() == 1


# ---- wiring: the task, the nudge after intake ----------------------------------------------------------


def test_a_new_order_is_routed_by_the_window_task(world, django_capture_on_commit_callbacks, monkeypatch):
    windows = []
    real = window.route_window

    def counted(**kwargs):
        result = real(**kwargs)
        windows.append(result.claimed)
        return result

    monkeypatch.setattr(window, "route_window", counted)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=world["web"], data=canonical("N1", lines=(("B", 1),)), source="test"
        ).order
    order.refresh_from_db()
    assert windows == [1]
    assert order.status == OrderStatus.ALLOCATED
    assert where(order) == [("sha", "B", 1)]


def test_one_bad_order_fails_alone_and_is_left_out_of_later_windows(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    from fulfillment import tasks
    from fulfillment.routing import scoring
    from oms.models import TaskFailure

    good = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),))
    bad = waiting(world, django_capture_on_commit_callbacks, "E2", (("B", 1),))
    real = scoring.estimate_cost

    def flaky(location, order, weight_g, memo):
        if order.pk == bad.pk:
            raise RuntimeError("no rate for this address")
        return real(location, order, weight_g, memo)

    monkeypatch.setattr(scoring, "estimate_cost", flaky)
    assert tasks.route_window.apply().get() == 2  # the window failed; both orders were tried one by one
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == OrderStatus.ALLOCATED
    assert bad.status == OrderStatus.CONFIRMED and not bad.shipments.exists()
    failure = TaskFailure.objects.get(subject=f"order:{bad.pk}")
    assert (failure.task_name, failure.error) == ("fulfillment.route_order", "RuntimeError: no rate for this address")
    assert routing.window_failed_ids() == [bad.pk]
    assert routing.route_window().claimed == 0  # left to the sweep and the Route now button


# ---- replay: the gap to the optimum of the period ------------------------------------------------------


def test_a_replay_shows_the_gap_to_the_optimum_of_its_period(world, django_capture_on_commit_callbacks, admin_client):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from fulfillment.models import RoutingReplay

    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    score = {
        (o.pk, p.codes[0]): p.score
        for o in (first, second)
        for p in routing.order_dry_run(order=o).plans
        if not p.missing
    }
    policy = RoutingPolicy.objects.get(code="whole")
    today = timezone.localdate()
    replay = RoutingReplay.objects.create(policy=policy, period_start=today - timedelta(days=1), period_end=today)
    routing.replay_run(replay_id=replay.pk)
    replay.refresh_from_db()
    gap = replay.results["optimum"]

    one_by_one = score[(first.pk, "sha")] + 100.0  # the first takes Shanghai's A, the second is left unrouted
    best = score[(first.pk, "can")] + score[(second.pk, "sha")]
    assert gap["one_by_one"]["score"] == round(one_by_one, 2)
    assert gap["optimum"]["score"] == round(best, 2)
    assert (gap["one_by_one"]["unrouted"], gap["optimum"]["unrouted"]) == (1, 0)
    assert gap["proven"] is True and gap["method"] == "highs"
    assert gap["gap_percent"] == round(100.0 * (one_by_one - best) / best, 2)

    page = admin_client.get(reverse("fulfillment:routing_replay", args=[replay.pk])).content.decode()
    assert "Gap to the optimum of the period" in page
    assert f"Gap: {gap['gap_percent']} %" in page


def test_local_search_lets_an_unrouted_order_in_when_another_can_move_aside():
    problem = solver.Problem(
        penalty=[100, 100], options=[(0, 1.0, [(0, 1)]), (0, 2.0, [(1, 1)]), (1, 1.0, [(0, 1)])], limits=[1, 1]
    )
    assert solver.improve(problem, [0, None], deadline=float("inf")) == [1, 2]
    assert solver.improve(problem, [1, 2], deadline=float("inf")) == [1, 2]  # nothing better: unchanged


# ---- the orders a window leaves unrouted, set-based (routing/leftover.py) ------------------------------


def test_an_unrouted_order_under_a_ship_available_policy_is_backordered_in_the_window(
    world, django_capture_on_commit_callbacks
):
    from fulfillment.models import Backorder

    RoutingPolicy.objects.update(ship_complete=False)
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("B", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)

    result = routing.route_window()

    assert (result.claimed, result.routed, result.single, result.backordered, result.held) == (2, 1, 1, 1, 0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert where(first) == [("sha", "B", 1)]
    assert [(sku, q) for _, sku, q in where(second)] == [("A", 1)]
    backorder = Backorder.objects.get(order=second)
    assert (backorder.product, backorder.quantity, backorder.resolved_at) == (world["b"], 1, None)
    decision = second.routing_decisions.get()
    assert decision.kind == "backorder"
    assert second.status == OrderStatus.ALLOCATED and not second.on_hold
    kinds = list(second.events.filter(kind__in=[EventKind.ROUTED, EventKind.BACKORDERED]).values_list("kind", "data"))
    assert [k for k, _ in kinds] == [EventKind.ROUTED, EventKind.BACKORDERED]
    assert kinds[1][1] == {"decision": decision.pk, "backordered": {"B": 1}}
    for row in Stock.objects.all():
        assert 0 <= row.reserved <= row.on_hand
    assert sum(Stock.objects.values_list("reserved", flat=True)) == 2
    assert ledger_mismatches() == []


def test_a_force_channels_order_with_nothing_left_is_backordered_whole_without_a_shipment(
    world, django_capture_on_commit_callbacks
):
    from fulfillment.models import Backorder
    from orders.models import StockPolicy

    world["web"].stock_policy = StockPolicy.FORCE
    world["web"].save()
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("B", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("B", 1),), priority=5)

    result = routing.route_window()

    assert (result.claimed, result.routed, result.single, result.held) == (2, 1, 1, 0)
    second.refresh_from_db()
    assert where(first) == [("sha", "B", 1)]
    assert not second.shipments.exists() and not second.on_hold
    assert Backorder.objects.get(order=second).quantity == 1


def test_the_held_orders_of_a_window_get_their_decision_events_and_hold_in_one_go(
    world, django_capture_on_commit_callbacks
):
    orders = [
        waiting(world, django_capture_on_commit_callbacks, f"E{i}", (("B", 1),), priority=i + 1) for i in range(6)
    ]
    result = routing.route_window()
    assert (result.routed, result.single, result.held) == (1, 5, 5)
    for order in orders[1:]:
        order.refresh_from_db()
        assert order.on_hold and order.holds.get().reason == HoldReason.STOCK_SHORT
        decision = order.routing_decisions.get()
        assert decision.chosen is None and decision_candidates(decision)
        failed = order.events.get(kind=EventKind.ROUTING_FAILED)
        assert failed.data == {"decision": decision.pk}
        held = order.events.get(kind=EventKind.HELD)
        assert held.pk > failed.pk and held.message.startswith("On hold: ")
    assert Shipment.objects.count() == 1


def test_orders_hold_many_holds_each_once_and_leaves_the_others_as_they_are(world, django_capture_on_commit_callbacks):
    from orders.models import OrderHold

    one = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),))
    two = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1),))
    order_services.order_hold(order=two, reason=HoldReason.STOCK_SHORT, note="earlier")
    two.refresh_from_db()
    rows = order_services.orders_hold_many(holds=[(one, "short"), (two, "again")], reason=HoldReason.STOCK_SHORT)
    assert [(r["order"].pk, r["kind"], r["message"]) for r in rows] == [
        (one.pk, EventKind.HELD, f"On hold: {HoldReason.STOCK_SHORT.label}. short")
    ]
    assert sorted(OrderHold.objects.values_list("order_id", "note")) == sorted([(one.pk, "short"), (two.pk, "earlier")])
    one.refresh_from_db()
    assert one.on_hold
    from oms.errors import DomainError

    with pytest.raises(DomainError):
        order_services.orders_hold_many(holds=[(one, "x")], reason="nonsense")
    assert OrderHold.objects.count() == 2


@pytest.mark.parametrize(("ahead", "first_from", "second_held"), [(0, "sha", True), (1, "can", False)])
def test_a_window_smaller_than_the_backlog_leaves_later_orders_the_stock_they_need(
    world, django_capture_on_commit_callbacks, settings, ahead, first_from, second_held
):
    # Windows of one order. The first wants A (Shanghai nearer, Guangzhou has one too); the second wants A and B
    # (only Shanghai has B). Seeing the second ahead, the first window takes Guangzhou's A.
    settings.ROUTING_WINDOW_LOOKAHEAD = ahead
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)

    one = routing.route_window(limit=1)
    assert (one.claimed, one.routed, one.ahead) == (1, 1, ahead)
    assert where(first) == [(first_from, "A", 1)]
    assert not second.shipments.exists()  # the look-ahead's orders get nothing written

    routing.route_window(limit=1)
    second.refresh_from_db()
    assert second.on_hold == second_held
    assert where(second) == ([] if second_held else [("sha", "A", 1), ("sha", "B", 1)])
    for row in Stock.objects.all():
        assert 0 <= row.reserved <= row.on_hand


def test_a_decision_stores_compact_values_and_the_words_are_made_when_read(world, django_capture_on_commit_callbacks):
    first = waiting(world, django_capture_on_commit_callbacks, "E1", (("A", 1),), priority=1)
    second = waiting(world, django_capture_on_commit_callbacks, "E2", (("A", 1), ("B", 1)), priority=5)
    routing.route_window()
    stored = first.routing_decisions.get().candidates
    assert stored["v"] == 2 and stored["best"] == 0
    assert sorted(s[1] for s in stored["singles"]) == ["can", "sha"]
    assert stored["window"]["why"] == {"1": [["stock", "A", "sha", [second.pk], 1]]}
    text = json.dumps(stored)
    assert "verdict" not in text and "went to orders" not in text and second.number not in text
    rows = {c["location"]: c for c in decision_candidates(first.routing_decisions.get())}
    assert rows["sha"]["taken_by"] == [second.number]
