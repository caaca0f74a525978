"""Routing benchmark (issues #5 and #15): a backlog of confirmed orders routed through the window router
(``fulfillment.routing.route_window``, what the ``fulfillment.route_window`` task runs), and the quality of
those decisions against the optimum.

(a) **Decisions per second**: 10,000 confirmed orders (1-3 lines, 500 SKUs, destinations drawn from
    ``fulfillment/data/places.csv``) over 5 bench locations with daily capacities, routed window after window
    (claim, one read of lines/stock/loads, the policy's scores, the joint choice by HiGHS, reservations,
    then shipments, decisions and events set-based; orders left unrouted are held or backordered,
    set-based). By default one window holds the whole backlog (``ROUTING_BENCH_WINDOW`` to change it;
    smaller windows look ahead ``ROUTING_WINDOW_LOOKAHEAD`` orders) and the solver gets at most
    ``ROUTING_BENCH_SOLVER_SECONDS`` (120; the window's own limit, ``ROUTING_WINDOW_SECONDS_PER_ORDER`` per
    order, and its gap, ``ROUTING_WINDOW_GAP``, usually stop it first). Reservations are one
    ``stock_reserve_batch`` per window: the figure's ``reserve_seconds`` says how much of the time they take.
    Baseline: a raw guarded ``UPDATE stock SET reserved = reserved + q WHERE ... AND on_hand - reserved
    >= q`` per line, one transaction per order, on one connection, no decision, shipment, event or ledger row.
(b) **Shipping cost gap to the optimum**: the total shipping cost of those decisions (the sum of each
    shipment's estimate in ``RoutingDecision.plan``, the same ``logistics.routing_cost`` model routing
    scored with) plus ``UNROUTED_PENALTY`` per order left unrouted, against ``scipy.optimize.milp`` (HiGHS)
    for the same batch and the same starting stock: binary ``x[order, location]`` (the whole order from one
    location) and ``u[order]`` (unrouted), one per order, stock per (location, SKU), capacity per location,
    given ``ROUTING_BENCH_MILP_SECONDS`` (300). The gap is measured against HiGHS's proven dual bound: at
    optimality (``proven_optimal``) that is the optimum, otherwise the true gap is at most the figure.
    The bench routes under a live "cost only" policy for the bench channel (weight cost 1, distance 0, load
    0, balance 0, no split, ship complete), so both sides solve the same problem (whole orders, the same
    costs and limits); the window's own objective differs only by ``ROUTING_WINDOW_URGENCY`` (up to 5 % more
    penalty for the first orders in line).

Set-up (untimed) uses ``bulk_create`` for products, stock (with their ledger rows), orders and lines.
Other active locations are switched off for the run and switched back on afterwards; the bench's
own locations are left inactive, so later modules never route to them. ``--quick``: 1,000 orders,
100 SKUs.
"""

from __future__ import annotations

import math
import os
import random
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path

if __name__ == "__main__":  # standalone: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Report, require_postgresql  # noqa: E402

NEEDS = ("postgresql",)
FULL = {"orders": 10_000, "skus": 500}
QUICK = {"orders": 1_000, "skus": 100}
PHASES = ("claim", "score", "problem", "explain", "write")  # a window's parts (WindowResult.phases)
UNROUTED_PENALTY = 100.0  # currency units per order left unrouted, in both totals
SITES = [  # code, city, province, latitude, longitude
    ("sha", "Shanghai", "Shanghai", 31.2304, 121.4737),
    ("pek", "Beijing", "Beijing", 39.9042, 116.4074),
    ("can", "Guangzhou", "Guangdong", 23.1291, 113.2644),
    ("ctu", "Chengdu", "Sichuan", 30.5728, 104.0668),
    ("wuh", "Wuhan", "Hubei", 30.5928, 114.3055),
]
ZONE_PRICES = {"Z0": 6, "Z1": 8, "Z2": 11, "Z3": 14, "Z4": 18, "INTL": 60}


def run(report: Report, quick: bool) -> None:
    require_postgresql()
    sizes = QUICK if quick else FULL
    from inventory.models import Location

    run_id = secrets.token_hex(3)
    others = list(Location.objects.filter(active=True).exclude(code__startswith="rb-").values_list("pk", flat=True))
    Location.objects.filter(pk__in=others).update(active=False)
    try:
        world = _setup(run_id, sizes, random.Random(5))
        report.note(
            f"{len(world['orders'])} orders ({world['lines']} lines), {sizes['skus']} SKUs, 5 locations "
            f"(capacity {world['capacity']}/day each), stock {world['stock_units']} units for "
            f"{world['demand_units']} ordered"
        )
        _decisions_per_second(report, world)
        _cost_gap(report, world)
    finally:
        Location.objects.filter(pk__in=others).update(active=True)
        Location.objects.filter(code__startswith=f"rb-{run_id}-").update(active=False)
        from fulfillment import routing

        routing.routing_cache_clear()


# ---- set-up ------------------------------------------------------------------------------------------


def _setup(run_id: str, sizes: dict, rnd: random.Random) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from fulfillment import geo
    from fulfillment.models import RoutingPolicy
    from inventory.models import Location, MovementKind, Product, Stock, StockMovement
    from logistics.models import Carrier, RateCardRow, ServiceLevel
    from orders.models import Channel, Order, OrderLine
    from orders.status import OrderStatus

    n_orders, n_skus = sizes["orders"], sizes["skus"]
    capacity = math.ceil(n_orders * 0.3)
    with transaction.atomic():
        locations = [
            Location.objects.create(
                code=f"rb-{run_id}-{code}", name=f"Bench {city}", city=city, province=province,
                latitude=lat, longitude=lon, daily_capacity=capacity, cold_chain=True, handles_bulky=True,
            )
            for code, city, province, lat, lon in SITES
        ]  # fmt: skip
        carrier = Carrier.objects.create(code=f"rb-{run_id}", name="Bench Express")
        service = ServiceLevel.objects.create(carrier=carrier, code="std", name="Bench standard", transit_days=2)
        RateCardRow.objects.bulk_create(
            RateCardRow(service=service, zone=zone, max_weight_g=band, price=Decimal(price + extra),
                        extra_per_kg=Decimal("3"), transit_days=2)
            for zone, price in ZONE_PRICES.items()
            for band, extra in ((1000, 0), (3000, 4), (10000, 10))
        )  # fmt: skip
        channel = Channel.objects.create(slug=f"rb-{run_id}", name=f"Bench routing {run_id}")
        policy = RoutingPolicy.objects.create(
            code=f"rb-{run_id}", name="Bench cost only", status="live", rank=1, weight_distance=0, weight_cost=1,
            weight_split=10, weight_load=0, ship_complete=True, allow_split=False, max_locations=1,
            weight_balance=float(os.environ.get("ROUTING_BENCH_BALANCE", "0")),
        )  # fmt: skip
        policy.channels.set([channel])
        products = Product.objects.bulk_create(
            Product(sku=f"RB-{run_id}-{i:04d}", name=f"Bench SKU {i}", weight_g=rnd.choice([200, 400, 800, 1500]))
            for i in range(n_skus)
        )
        places = [p for p in geo._places()[0] if p.country == "CN"]
        popularity = [1.0 / (i + 1) ** 0.8 for i in range(n_skus)]
        now = timezone.now()
        orders, lines, demand = [], [], {}
        for i in range(n_orders):
            place = rnd.choice(places)
            orders.append(
                Order(
                    number=f"RB{run_id}{i:06d}",
                    channel=channel,
                    external_id=f"rb-{i}",
                    status=OrderStatus.CONFIRMED,
                    ship_name="Bench",
                    ship_country="CN",
                    ship_province=place.province,
                    ship_city=place.city,
                    ship_address1="1 Bench Road",
                    ship_postcode=place.postcode_prefix + "0000",
                    placed_at=now,
                    priority=rnd.randint(1, 9),
                )  # fmt: skip
            )
        Order.objects.bulk_create(orders, batch_size=2000)
        for order in orders:
            picked = set()
            for no in range(rnd.choice([1, 1, 2, 2, 3])):
                index = rnd.choices(range(n_skus), weights=popularity)[0]
                if index in picked:
                    continue
                picked.add(index)
                qty = rnd.choice([1, 1, 1, 2, 3])
                demand[index] = demand.get(index, 0) + qty
                lines.append(OrderLine(order=order, line_no=no + 1, product=products[index], sku=products[index].sku,
                                       quantity=qty, unit_price=Decimal("20")))  # fmt: skip
        OrderLine.objects.bulk_create(lines, batch_size=5000)
        # Stock: 1.3 x demand per SKU, spread unevenly (one location holds most), so greedy routing runs
        # its nearest-cheapest location dry and later orders pay more: room for the optimum to do better.
        stock_rows, ledger = [], []
        units = 0
        for index, product in enumerate(products):
            total = math.ceil(demand.get(index, 0) * 1.3) + 2
            shares = [rnd.random() ** 2 for _ in locations]
            scale = sum(shares) or 1
            for location, share in zip(locations, shares, strict=True):
                qty = int(total * share / scale)
                if qty <= 0:
                    continue
                units += qty
                stock_rows.append(Stock(location=location, product=product, on_hand=qty))
                ledger.append(StockMovement(location=location, product=product, kind=MovementKind.RECEIPT,
                                            on_hand_delta=qty, reason="bench", reason_code="other"))  # fmt: skip
        Stock.objects.bulk_create(stock_rows, batch_size=5000)
        StockMovement.objects.bulk_create(ledger, batch_size=5000)
    start_stock = {(s.location_id, s.product_id): s.on_hand for s in stock_rows}
    return {
        "run_id": run_id, "orders": [o.pk for o in orders], "lines": len(lines), "locations": locations,
        "capacity": capacity, "stock": start_stock, "stock_units": units, "demand_units": sum(demand.values()),
        "channel": channel, "service": service,
    }  # fmt: skip


# ---- (a) decisions per second ---------------------------------------------------------------------


def _decisions_per_second(report: Report, world: dict) -> None:
    from django.db import connection, transaction

    from fulfillment import routing
    from fulfillment.models import RoutingDecision

    order_ids = world["orders"]
    # One window for the whole backlog by default (the reference optimum knows the whole backlog too);
    # ROUTING_BENCH_WINDOW=500 shows what smaller windows cost. The solver gets ROUTING_BENCH_SOLVER_SECONDS.
    size = int(os.environ.get("ROUTING_BENCH_WINDOW", str(len(order_ids))))
    solver_limit = float(os.environ.get("ROUTING_BENCH_SOLVER_SECONDS", "120"))
    windows = []
    profile_path = os.environ.get("ROUTING_BENCH_PROFILE")  # a cProfile dump of the windows (pstats file)
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    while True:  # the window router, as the route_window task runs it: window after window until none is left
        result = routing.route_window(limit=size, order_ids=order_ids, time_limit=solver_limit)
        if not result.claimed:
            break
        windows.append(result)
    mine = len(order_ids) / (time.perf_counter() - started)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_path)
    decisions = RoutingDecision.objects.filter(order_id__in=order_ids)
    routed = decisions.exclude(chosen=None).count()
    split = decisions.filter(kind="split").count()

    # Baseline: the reservation alone, as raw guarded UPDATEs, on a copy of the stock (a separate location).
    from inventory.models import Location, Stock
    from orders.models import OrderLine

    copy = Location.objects.create(code=f"rb-{world['run_id']}-raw", name="Bench raw", active=False)
    product_ids = {pid for (_, pid) in world["stock"]}
    Stock.objects.bulk_create(Stock(location=copy, product_id=pid, on_hand=10**6) for pid in product_ids)
    by_order: dict[int, list[tuple[int, int]]] = {}
    for order_id, product_id, qty in OrderLine.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "product_id", "quantity"
    ):
        by_order.setdefault(order_id, []).append((product_id, qty))
    sql = (
        "UPDATE inventory_stock SET reserved = reserved + %s WHERE location_id = %s AND product_id = %s "
        "AND on_hand - reserved >= %s"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for order_id in order_ids:
            with transaction.atomic():
                for product_id, qty in sorted(by_order.get(order_id, [])):
                    cursor.execute(sql, [qty, copy.pk, product_id, qty])
    raw = len(order_ids) / (time.perf_counter() - started)
    Stock.objects.filter(location=copy).delete()
    copy.delete()
    solver_seconds = sum(w.solver_seconds for w in windows)
    methods = sorted({w.method for w in windows if w.method})
    report.figure(
        "routing decisions", mine, "/s", baseline=("raw guarded UPDATE per order", raw),
        orders=len(order_ids), routed=routed, split=split, windows=len(windows), window_size=size,
        solver_seconds=round(solver_seconds, 2), methods=methods, left=sum(w.left for w in windows),
        reserve_seconds=round(sum(w.reserve_seconds for w in windows), 2),
        held=sum(w.held for w in windows), backordered=sum(w.backordered for w in windows),
        lookahead=max((w.ahead for w in windows), default=0),
        phases={k: round(sum(w.phases.get(k, 0.0) for w in windows), 2) for k in PHASES},
    )  # fmt: skip
    report.note(
        f"{routed} of {len(order_ids)} orders routed ({split} split), the rest held stock short; "
        f"{len(windows)} windows of up to {size} orders, solver {solver_seconds:.1f} s in all ({', '.join(methods)}), "
        f"reservations (stock_reserve_batch per window) {sum(w.reserve_seconds for w in windows):.1f} s, "
        f"by part {', '.join(f'{k} {sum(w.phases.get(k, 0.0) for w in windows):.1f} s' for k in PHASES)}, "
        f"largest window gap to HiGHS's bound {max((_window_gap(w) for w in windows), default=0):.3f} %"
    )


def _window_gap(window) -> float:
    """A window's answer against HiGHS's proven bound for that window, in percent (0 when proven optimal)."""
    if window.bound is None or not window.objective:
        return 0.0
    return 100.0 * (window.objective - window.bound) / abs(window.objective)


# ---- (b) cost gap to the optimum ------------------------------------------------------------------


def _cost_gap(report: Report, world: dict) -> None:
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    from fulfillment import routing
    from fulfillment.models import RoutingDecision
    from orders.models import Order

    order_ids = world["orders"]
    locations = world["locations"]
    heuristic_cost = 0.0
    routed = set()
    for order_id, plan in (
        RoutingDecision.objects.filter(order_id__in=order_ids).exclude(chosen=None).values_list("order_id", "plan")
    ):
        routed.add(order_id)
        heuristic_cost += sum(part["cost"] or 0 for part in plan)
    heuristic_unrouted = len(order_ids) - len(routed)
    heuristic = heuristic_cost + UNROUTED_PENALTY * heuristic_unrouted

    orders = list(Order.objects.filter(pk__in=order_ids).prefetch_related("lines__product").order_by("pk"))
    n, m = len(orders), len(locations)
    cost = np.zeros((n, m))
    with routing.routing_batch():
        memo = routing.cost_memo()
        for i, order in enumerate(orders):
            weight = sum(ln.product.weight_g * ln.quantity for ln in order.lines.all())
            for j, location in enumerate(locations):
                value = routing.estimate_cost(location, order, weight, memo)
                cost[i, j] = value if value is not None else 1e4
    # Variables: x[i, j] at i * m + j, then u[i] at n * m + i.
    nx = n * m
    c = np.concatenate([cost.ravel(), np.full(n, UNROUTED_PENALTY)])
    rows, cols, vals = [], [], []
    for i in range(n):  # each order once: sum_j x[i, j] + u[i] = 1
        for j in range(m):
            rows.append(i), cols.append(i * m + j), vals.append(1)
        rows.append(i), cols.append(nx + i), vals.append(1)
    assign = LinearConstraint(coo_matrix((vals, (rows, cols)), shape=(n, nx + n)), 1, 1)
    # Stock per (location, product) and capacity per location.
    keys: dict[tuple[int, int], int] = {}
    rows, cols, vals, upper = [], [], [], []
    for i, order in enumerate(orders):
        for line in order.lines.all():
            for j, location in enumerate(locations):
                key = (location.pk, line.product_id)
                if key not in keys:
                    keys[key] = len(upper)
                    upper.append(world["stock"].get(key, 0))
                rows.append(keys[key]), cols.append(i * m + j), vals.append(line.quantity)
    for j, location in enumerate(locations):
        for i in range(n):
            rows.append(len(upper)), cols.append(i * m + j), vals.append(1)
        upper.append(location.daily_capacity)
    limits = LinearConstraint(coo_matrix((vals, (rows, cols)), shape=(len(upper), nx + n)), -np.inf, upper)
    limit = float(os.environ.get("ROUTING_BENCH_MILP_SECONDS", "300"))
    started = time.perf_counter()
    result = milp(
        c, constraints=[assign, limits], integrality=np.ones(nx + n), bounds=Bounds(0, 1),
        options={"time_limit": limit, "mip_rel_gap": 1e-4},
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.x is None:
        report.note(f"MILP found no solution in {seconds:.0f} s: {result.message}")
        return
    best_found = float(result.fun)
    optimum_unrouted = int(round(result.x[nx:].sum()))
    # Proven: HiGHS's dual bound (no assignment costs less). Solved to optimality (status 0, within
    # mip_rel_gap 0.01 %) it is the optimum; at a time limit the gap against it is an upper bound of the gap.
    bound = getattr(result, "mip_dual_bound", None)
    bound = float(bound) if bound is not None and math.isfinite(bound) else best_found
    proven = result.status == 0
    gap = 100.0 * (heuristic - bound) / bound if bound else 0.0
    report.figure(
        "shipping cost of routing's decisions", heuristic, "",
        baseline=("MILP optimum (HiGHS)" if proven else "MILP proven lower bound (HiGHS)", bound),
        gap_percent=round(gap, 2), unrouted=heuristic_unrouted, optimum_unrouted=optimum_unrouted,
        milp_seconds=round(seconds, 1), milp_status=result.message, milp_best=round(best_found, 2),
        milp_bound=round(bound, 2), proven_optimal=proven,
    )  # fmt: skip
    report.figure(
        "gap to the optimum", gap, " %", heuristic=round(heuristic, 2), optimum=round(best_found, 2),
        bound=round(bound, 2), proven_optimal=proven,
    )  # fmt: skip
    report.note(
        f"cost {heuristic_cost:,.2f} + {heuristic_unrouted} unrouted x {UNROUTED_PENALTY:g} vs the MILP's proven "
        f"{'optimum' if proven else 'lower bound'} {bound:,.2f} (best found {best_found:,.2f}, "
        f"{optimum_unrouted} unrouted); MILP {seconds:.1f} s, {result.message}"
    )


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    django.setup()
    run(Report(quick="--quick" in sys.argv), "--quick" in sys.argv)
