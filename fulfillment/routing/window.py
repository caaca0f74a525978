"""Routing in windows: the orders waiting for routing, routed together (issue 15, docs/routing.md).

``route_window`` takes up to ``ROUTING_WINDOW_SIZE`` confirmed orders waiting for routing (on PostgreSQL
claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``, so two workers never take the same order), most urgent
first (priority, promise date, age), and in one transaction:

1. reads the window once, set-based: its lines and products, the stock snapshot of those products, today's
   loads; the policies, locations and channels come from routing's caches;
2. scores every order's candidates with the same code and policy as single-order routing (``evaluate``:
   hard constraints, weights, split sets where the policy allows, force channels), which gives each order
   its options: the plans that ship all of it;
3. chooses the assignment for the whole window jointly (``solver``: HiGHS under
   ``ROUTING_WINDOW_TIME_LIMIT`` seconds, the greedy answer as warm start and fallback): stock per
   (location, SKU) and capacity per location hold, an unrouted order costs ``ROUTING_WINDOW_UNROUTED_PENALTY``
   score points (at least one more than its dearest option, so an order that can ship alone is never left
   for nothing), up to ``ROUTING_WINDOW_URGENCY`` (5 %) more for the window's most urgent orders: on a tie,
   scarce stock goes to the order first in line;
4. writes set-based: reservations (``reserve_orders``: the guarded stock UPDATE stays the last word; an
   order whose reservation fails is left waiting for the next window, with nothing written), shipments,
   shipment lines, decisions and events with one statement per table, the orders' status in one UPDATE;
5. the orders the window leaves unrouted are scored again against the stock the window left and handled
   set-based (``leftover``): held stock short, or backordered, by exactly the rules of their policy and
   channel, one statement per table. Orders routing cannot take as a set (a line with no product) go
   through single-order routing (``order_route``) in the same transaction.

**Look-ahead.** A window smaller than the backlog would spend the cheapest stock on its own orders though
later orders need it. The next ``ROUTING_WINDOW_LOOKAHEAD`` waiting orders (read, not locked) are scored
too and join the joint choice after the window's orders (less urgent): the window's orders take what the
best answer for both gives them; nothing is written for the look-ahead's (the next window routes them).
An order of the window the joint choice leaves out for a later one is still routed from what is left
(``leftover``): the look-ahead steers which location serves an order, never whether it is served.

Orders in a merge group (自动合单, orders/services/merge.py) are not claimed: after the window's transaction
``route_groups`` routes each waiting group as one demand at one location (``group``), in its own transaction.
With ``MergeSettings.wait_minutes`` a new order is not claimed until it is that old (a partner may still come).

Each decision keeps every candidate's terms; when a lower-scored candidate was not used, its verdict says
why: whose orders its stock or capacity went to in the window (``explain``).
"""

from __future__ import annotations

import gc
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef

from inventory.selectors import available_by_location
from inventory.services import StockRequest, stock_reserve_batch
from oms.background import open_failures
from orders.models import Order, OrderLine
from orders.selectors import in_merge_group, merge_group_ids, merge_groups_waiting, merge_wait_condition

from ..models import Backorder, Shipment
from ..shipments import lock_stock_rows
from ..status import ShipmentStatus
from .candidates import Need, today_loads
from .decide import ROUTE_TASK, order_route
from .explain import explain_window
from .leftover import route_leftovers, stock_left
from .policies import channel_force, policy_for, routing_batch, routing_locations
from .scoring import Evaluation, Plan, evaluate
from .solver import Problem, problem_from_plans, solve
from .writes import window_write

logger = logging.getLogger(__name__)

WINDOW_TASK = "fulfillment.route_window"


def window_size() -> int:
    return int(getattr(settings, "ROUTING_WINDOW_SIZE", 500))


def window_time_limit() -> float:
    return float(getattr(settings, "ROUTING_WINDOW_TIME_LIMIT", 5.0))


def window_gap() -> float:
    """The relative gap to HiGHS's proven bound at which a window's answer is good enough (0.015: 1.5 %)."""
    return float(getattr(settings, "ROUTING_WINDOW_GAP", 0.015))


def window_seconds(orders: int, cap: float | None = None) -> float:
    """The solver's time for a window of ``orders`` orders: ``ROUTING_WINDOW_SECONDS_PER_ORDER`` each, at least
    half a second, at most ``cap`` (``ROUTING_WINDOW_TIME_LIMIT`` unless the caller names one)."""
    per_order = float(getattr(settings, "ROUTING_WINDOW_SECONDS_PER_ORDER", 0.002))
    cap = window_time_limit() if cap is None else cap
    return min(cap, max(0.5, per_order * orders))


def unrouted_penalty() -> float:
    return float(getattr(settings, "ROUTING_WINDOW_UNROUTED_PENALTY", 100.0))


def urgency() -> float:
    """How much more (a fraction) leaving the window's most urgent order unrouted costs than its least
    urgent one: the window's order (priority, promise, age) decides who gets scarce stock on a tie."""
    return float(getattr(settings, "ROUTING_WINDOW_URGENCY", 0.05))


@dataclass
class Entry:
    """One order of the window: its evaluation against the snapshot and its options (full plans)."""

    order: Order
    evaluation: Evaluation
    options: list[Plan]
    products: set[int] = field(default_factory=set)
    chosen: Plan | None = None
    needs: list = field(default_factory=list)


@dataclass
class WindowResult:
    claimed: int = 0
    routed: int = 0  # routed by the window's joint choice
    single: int = 0  # unrouted by the joint choice: held, backordered or routed from what was left (``leftover``)
    held: int = 0  # of those: held stock short
    backordered: int = 0  # of those: shipped what there was, the rest backordered
    left: int = 0  # reservation failed at write time: left waiting for the next window
    groups: int = 0  # merge groups routed after the window (自动合单, ``route_groups``)
    ahead: int = 0  # waiting orders after the window's, counted in its choice (``lookahead``), not routed
    method: str = ""
    objective: float | None = None
    bound: float | None = None
    greedy_objective: float | None = None
    solver_seconds: float = 0.0
    reserve_seconds: float = 0.0
    seconds: float = 0.0
    note: str = ""
    left_ids: list[int] = field(default_factory=list)
    # Seconds per part of the window (claim, score, problem, explain, write; the solver's and the reservations'
    # are above): where a window's time goes.
    phases: dict[str, float] = field(default_factory=dict)


def waiting_orders():
    """Confirmed orders, not on hold, with no live shipment and no open backorder: waiting for routing,
    most urgent first (priority 1 first, earliest promise, oldest)."""
    live = Shipment.objects.filter(order=OuterRef("pk")).exclude(status=ShipmentStatus.CANCELLED)
    waiting = Backorder.objects.filter(order=OuterRef("pk"), resolved_at__isnull=True)
    return (
        Order.objects.awaiting_allocation()
        .exclude(Exists(live))
        .exclude(Exists(waiting))
        .order_by("priority", F("promise_date").asc(nulls_last=True), "pk")
    )


def window_failed_ids() -> list[int]:
    """Orders whose routing failed for good and is not resolved (``TaskFailure`` of ``route_order``): windows
    leave them out; the sweep tries them again on its own schedule (oms/background.py), a person with
    "Route now"."""
    subjects = (
        open_failures().filter(task_name=ROUTE_TASK, subject__startswith="order:").values_list("subject", flat=True)
    )
    return [int(s.split(":", 1)[1]) for s in subjects if s.split(":", 1)[1].isdigit()]


def _claim(limit: int, order_ids=None) -> list[Order]:
    """Lock up to ``limit`` waiting orders; on PostgreSQL rows another worker holds are skipped."""
    queryset = waiting_orders().exclude(in_merge_group())  # a merge group is routed as one, after the window
    wait = merge_wait_condition()  # new orders still waiting for a merge partner (MergeSettings.wait_minutes)
    if wait is not None:
        queryset = queryset.exclude(wait)
    failed = window_failed_ids()
    if failed:
        queryset = queryset.exclude(pk__in=failed)
    if order_ids is not None:
        queryset = queryset.filter(pk__in=list(order_ids))
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    else:
        queryset = queryset.select_for_update()
    orders = list(queryset[:limit])
    if not orders:
        return []
    # Locked now: look again at what another transaction may have committed meanwhile (a single-order route).
    ids = [o.pk for o in orders]
    live = Shipment.objects.filter(order_id__in=ids).exclude(status=ShipmentStatus.CANCELLED)
    open_backorders = Backorder.objects.filter(order_id__in=ids, resolved_at__isnull=True)
    taken = set(live.values_list("order_id", flat=True)) | set(open_backorders.values_list("order_id", flat=True))
    taken |= set(merge_group_ids(ids))  # merged by a review that committed while the claim waited
    return [o for o in orders if o.pk not in taken]


def reserve_orders(plans: list[tuple[Order, Plan]], user) -> set[int]:
    """Reserve each order's plan, all of an order or none of it; returns the ids of the orders reserved.

    The caller has locked the stock rows (``route_window``: in (location, product) order). One call to
    ``inventory.services.stock_reserve_batch``: the window's stock rows read once, the orders served in
    the window's order, then one guarded UPDATE and the ledger rows for all of them (the guard stays the
    last word against oversell). This function is the one place that reserves for a window.
    """
    numbers = {order.pk: order.number for order, _plan in plans}
    requests = [
        (
            order.pk,
            [StockRequest(loc_id, need.product_id, q) for loc_id, part in plan.parts.items() for need, q in part],
        )
        for order, plan in plans
    ]
    reserved = stock_reserve_batch(requests=requests, reference_for=numbers.__getitem__, user=user)
    return {pk for pk, ok in reserved.items() if ok}


def _snapshot(product_ids: set[int]) -> dict[int, dict[int, int]]:
    """Available stock per location of the window's products, read once."""
    return available_by_location(product_ids=product_ids)


def _problem(entries: list[Entry], available, locations, loads) -> tuple[Problem, list[Plan]]:
    capacity_left = {
        loc.pk: max(0, loc.daily_capacity - loads.get(loc.pk, 0)) for loc in locations if loc.daily_capacity is not None
    }
    base, extra, n = unrouted_penalty(), urgency(), len(entries)
    penalty = []
    for i, entry in enumerate(entries):
        worst = max((p.score for p in entry.options), default=0.0)
        penalty.append(max(base, worst + 1.0) * (1.0 + extra * (n - i) / n))
    return problem_from_plans([e.options for e in entries], available, capacity_left, penalty)


def route_groups(*, user=None) -> int:
    """Route the waiting merge groups (自动合单, ``group``), each in its own transaction through one of its
    orders (``order_route`` hands it to its group). Returns how many groups were taken."""
    waiting = merge_groups_waiting()
    for order_id in waiting:
        order_route(order_id=order_id, user=user)
    return len(waiting)


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector paused for a window: a window keeps tens of thousands of objects alive
    (orders, their plans and rows) and every full collection walks all of them, again and again as the window
    allocates; what the window leaves is collected once at the end."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def route_window(*, limit: int | None = None, user=None, order_ids=None, time_limit: float | None = None):
    """Route one window of waiting orders (see the module docstring), then the waiting merge groups.
    Returns what happened."""
    started = time.perf_counter()
    with collector_paused():
        result = _route_window(limit=limit, user=user, order_ids=order_ids, time_limit=time_limit)
    result.groups = route_groups(user=user)
    result.seconds = time.perf_counter() - started
    return result


def _route_window(*, limit, user, order_ids, time_limit) -> WindowResult:
    started = time.perf_counter()
    limit = limit or window_size()
    result = WindowResult()
    with transaction.atomic(), routing_batch():
        orders = _claim(limit, order_ids)
        result.phases["claim"] = time.perf_counter() - started
        result.claimed = len(orders)
        if not orders:
            return result
        ahead = _ahead(orders, order_ids) if len(orders) == limit else []  # a short claim took all there was
        mark = time.perf_counter()
        entries, single, snapshot = _evaluate(orders + ahead)
        result.phases["score"] = time.perf_counter() - mark
        claimed = {o.pk for o in orders}
        single = [o for o in single if o.pk in claimed]
        later = [e for e in entries if e.order.pk not in claimed]  # the look-ahead: scored, never written
        entries = [e for e in entries if e.order.pk in claimed]
        result.ahead = len(later)
        if entries:
            _decide_and_write(entries, snapshot, user, result, time_limit, later)
        for order in single:  # a line without a product, or no lines: single-order routing's rules (a hold)
            order_route(order_id=order.pk, user=user)
            result.single += 1
    result.seconds = time.perf_counter() - started
    return result


def lookahead() -> int:
    """How many waiting orders after the window's a window also scores and counts in its joint choice, without
    routing them (``ROUTING_WINDOW_LOOKAHEAD``): the window leaves them the stock they are likely to need."""
    return int(getattr(settings, "ROUTING_WINDOW_LOOKAHEAD", 500))


def _ahead(orders: list[Order], order_ids) -> list[Order]:
    """The next waiting orders in line after the window's (read, not locked: nothing is written for them)."""
    n = lookahead()
    if n <= 0:
        return []
    claimed = [o.pk for o in orders]
    queryset = waiting_orders().exclude(in_merge_group())
    if connection.vendor == "postgresql":  # one array parameter each, not thousands of placeholders
        table = Order._meta.db_table
        where, params = [f'NOT ("{table}"."id" = ANY(%s))'], [claimed]
        if order_ids is not None:
            where.append(f'"{table}"."id" = ANY(%s)')
            params.append(list(order_ids))
        queryset = queryset.extra(where=where, params=params)  # noqa: S610 (names from the model, values as parameters)
    else:
        queryset = queryset.exclude(pk__in=claimed)
        if order_ids is not None:
            queryset = queryset.filter(pk__in=list(order_ids))
    return list(queryset[:n])


def _evaluate(orders: list[Order]) -> tuple[list[Entry], list[Order], tuple]:
    # The window's lines as values (no model instance per line): what routing needs of each, None for a line
    # without a product (single-order routing holds such an order).
    by_order: dict[int, list[Need | None]] = {o.pk: [] for o in orders}
    lines = (
        OrderLine.objects.filter(order_id__in=list(by_order))
        .order_by("order_id", "line_no", "pk")
        .values_list("pk", "order_id", "product_id", "sku", "quantity", "product__weight_g", "product__handling_class")
    )
    for pk, order_id, product_id, sku, quantity, weight_g, handling_class in lines:
        need = Need(pk, product_id, sku, quantity, weight_g or 0, handling_class) if product_id is not None else None
        by_order[order_id].append(need)
    single_ids = {pk for pk, needs in by_order.items() if not needs or any(n is None for n in needs)}
    single = [o for o in orders if o.pk in single_ids]
    batch = [o for o in orders if o.pk not in single_ids]
    locations = routing_locations()
    available = _snapshot({n.product_id for o in batch for n in by_order[o.pk]})
    loads = today_loads([loc.pk for loc in locations if loc.daily_capacity is not None])
    entries = []
    for order in batch:
        policy = policy_for(order)
        force = channel_force(order.channel_id)
        needs = by_order[order.pk]
        evaluation = evaluate(order, needs, policy, available=available, loads=loads, locations=locations, force=force)
        full = [p for p in evaluation.plans if not p.missing and p.shipped_units]
        full.sort(key=lambda p: (p.score, len(p.locations), p.codes))
        entries.append(Entry(order, evaluation, full, {n.product_id for n in needs}, needs=needs))
    return entries, single, (available, loads, locations)


def _decide_and_write(
    entries: list[Entry], snapshot: tuple, user, result: WindowResult, time_limit, later: list[Entry] = ()
) -> None:
    available, loads, locations = snapshot
    # The look-ahead's orders come after the window's (less urgent); their choices only steer the window's.
    mark = time.perf_counter()
    problem, plans = _problem(entries + list(later), available, locations, loads)
    result.phases["problem"] = time.perf_counter() - mark
    seconds = window_seconds(len(entries) + len(later), time_limit)
    solution = solve(problem, time_limit=seconds, gap=window_gap())
    result.method, result.note = solution.method, solution.note
    result.objective, result.bound = solution.objective, solution.bound
    result.greedy_objective, result.solver_seconds = solution.greedy_objective, solution.seconds
    for i, k in enumerate(solution.choice[: len(entries)]):
        entries[i].chosen = plans[k] if k is not None else None
    chosen = [e for e in entries if e.chosen is not None]
    started = time.perf_counter()
    # Every stock row the window may write (its products at every routing location, also for the orders
    # single-order routing takes afterwards), locked first in the one lock order ((location, product)): the
    # reservations go order by order and must never wait on another writer in a cycle.
    lock_stock_rows([loc.pk for loc in locations], {p for e in entries for p in e.products})
    reserved = reserve_orders([(e.order, e.chosen) for e in chosen], user)
    result.reserve_seconds = time.perf_counter() - started
    for e in chosen:
        if e.order.pk not in reserved:
            result.left_ids.append(e.order.pk)
            e.chosen = None  # nothing written for it: it waits for the next window
    result.left = len(result.left_ids)
    written = [e for e in chosen if e.chosen is not None]
    if written:
        mark = time.perf_counter()
        explain_window(entries, available, loads, locations)
        result.phases["explain"] = time.perf_counter() - mark
        mark = time.perf_counter()
        window_write(written, user)
        result.phases["write"] = time.perf_counter() - mark
    result.routed = len(written)
    rest = [e for e in entries if e.chosen is None and e.order.pk not in result.left_ids]
    if rest:  # held, backordered or routed from what the window left, set-based (``leftover``)
        left, loads_left = stock_left(available, loads, written)
        outcome = route_leftovers(
            rest,
            left,
            loads_left,
            locations,
            user,
            reserve=lambda pairs: reserve_orders(pairs, user),
            write=lambda done: window_write(done, user),
        )
        for order_id in outcome["single"]:
            order_route(order_id=order_id, user=user)
        result.single += len(rest) - len(outcome["left_ids"])
        result.held += outcome["held"]
        result.backordered += outcome["backordered"]
        result.left_ids += outcome["left_ids"]
        result.left = len(result.left_ids)


def route_waiting(*, user=None, max_windows: int = 1000) -> list[WindowResult]:
    """Route every waiting order, window by window, until a window finds nothing more to route (the task)."""
    results = []
    for _ in range(max_windows):
        result = route_window(user=user)
        results.append(result)
        if result.claimed < window_size() or result.routed + result.single == 0:
            break
    return results
