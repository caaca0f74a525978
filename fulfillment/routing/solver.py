"""The joint choice of a routing window: which option (a whole-order plan) each order takes.

A small assignment MILP solved by HiGHS (``highspy``): a binary ``x[k]`` per option ``k`` of an order,
``u[i]`` per order (left unrouted, at ``penalty[i]``), ``sum_k x[k] + u[i] = 1`` per order, and each
resource (stock of a SKU at a location, today's capacity left at a location) used at most up to what
there is. The objective is the sum of the chosen options' scores plus the penalties of unrouted orders.

``greedy`` is the one-order-at-a-time answer (orders in the window's order: priority, promise, age;
each takes its lowest-score option that still fits): the warm start handed to HiGHS (``setSolution``)
and the fallback when HiGHS raises, finds nothing, or returns something that does not fit. Every
answer is checked against the resources here before it is used.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Problem:
    """``options[k] = (order index, cost, [(resource index, amount), ...])``, grouped by order, each order's
    options best first; ``limits[r]`` what resource ``r`` holds; ``penalty[i]`` an unrouted order's cost."""

    penalty: list[float]
    options: list[tuple[int, float, list[tuple[int, float]]]]
    limits: list[float]
    by_order: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.by_order:
            self.by_order = [[] for _ in self.penalty]
            for k, (i, _, _) in enumerate(self.options):
                self.by_order[i].append(k)


@dataclass
class Solution:
    choice: list[int | None]  # the option index each order takes, None: unrouted
    objective: float
    method: str  # "highs" (proven optimal), "highs-limit" (time limit, best found), "greedy"
    bound: float | None = None  # HiGHS's proven lower bound on the objective, when it ran
    greedy_objective: float = 0.0
    seconds: float = 0.0
    note: str = ""

    @property
    def gap_percent(self) -> float | None:
        """How far this answer is at most from the optimum (against the proven bound), in percent."""
        if self.bound is None:
            return None
        return 100.0 * (self.objective - self.bound) / abs(self.objective) if self.objective else 0.0


def problem_from_plans(
    option_lists: list[list], available: dict, capacity_left: dict, penalty: list[float]
) -> tuple[Problem, list]:
    """The problem of orders whose options are routing plans (``scoring.Plan``: ``parts`` {location_id:
    [(need, quantity)]} and ``score``), each order's list best first: stock per (location, product) from
    ``available`` {location_id: {product_id: units}}, one shipment of capacity per location a plan ships
    from, for the locations in ``capacity_left`` {location_id: shipments left}. Returns the problem and the
    plan of each option."""
    resources: dict[tuple, int] = {}
    limits: list[float] = []

    def resource(key: tuple, limit: float) -> int:
        r = resources.get(key)
        if r is None:
            r = resources[key] = len(limits)
            limits.append(limit)
        return r

    options, plans = [], []
    for i, plan_list in enumerate(option_lists):
        for plan in plan_list:
            uses: dict[int, float] = {}
            for loc_id, part in plan.parts.items():
                for need, q in part:
                    r = resource(("stock", loc_id, need.product_id), available.get(loc_id, {}).get(need.product_id, 0))
                    uses[r] = uses.get(r, 0) + q
                if part and loc_id in capacity_left:
                    r = resource(("capacity", loc_id), capacity_left[loc_id])
                    uses[r] = uses.get(r, 0) + 1
            options.append((i, plan.score, sorted(uses.items())))
            plans.append(plan)
    return Problem(penalty=list(penalty), options=options, limits=limits), plans


def objective(problem: Problem, choice: list[int | None]) -> float:
    return sum(problem.penalty[i] if k is None else problem.options[k][1] for i, k in enumerate(choice))


def fits(problem: Problem, choice: list[int | None]) -> bool:
    """Whether the choice uses no resource beyond its limit and gives each order at most its own option."""
    used = [0.0] * len(problem.limits)
    for i, k in enumerate(choice):
        if k is None:
            continue
        if problem.options[k][0] != i:
            return False
        for r, amount in problem.options[k][2]:
            used[r] += amount
    return all(u <= limit + 1e-6 for u, limit in zip(used, problem.limits, strict=True))


def greedy(problem: Problem) -> list[int | None]:
    """Order by order (the window's order), each takes its first option that still fits."""
    left = list(problem.limits)
    choice: list[int | None] = []
    for ks in problem.by_order:
        taken = None
        for k in ks:
            uses = problem.options[k][2]
            if all(left[r] >= amount - 1e-9 for r, amount in uses):
                for r, amount in uses:
                    left[r] -= amount
                taken = k
                break
        choice.append(taken)
    return choice


def solve(problem: Problem, *, time_limit: float, gap: float = 1e-4) -> Solution:
    """The best answer found within ``time_limit`` seconds, and HiGHS's proven bound on the optimum.

    1. The greedy answer (warm start and fallback).
    2. The LP relaxation (fast even for thousands of orders): its value is a proven lower bound; its answer
       rounded (options by LP value, then greedy for the rest) and improved by local search (``improve``).
    3. When that is not within ``gap`` (relative) of the bound, the MILP (branch and bound, ``mip_rel_gap`` =
       ``gap``) for the time left, warm started with the best answer so far. An answer within ``gap`` stops
       here: the window's routing needs a good answer proven good, not the last 0.1 %.

    Any failure of HiGHS leaves the best answer so far (at worst the greedy one); every answer is checked
    against the resources before it is used."""
    started = time.perf_counter()
    warm = greedy(problem)
    warm_objective = objective(problem, warm)
    best = Solution(warm, warm_objective, "greedy", greedy_objective=warm_objective)
    if not problem.options or _uncontended(problem, warm):
        best.bound = warm_objective  # every order got its own best option: nothing can do better
        best.method = "highs" if problem.options else "greedy"
        best.note = "no contention"
        best.seconds = time.perf_counter() - started
        return best
    try:
        import highspy  # noqa: F401  (a missing solver is a failure like any other: greedy)

        lp_bound, rounded = _lp_round(problem, time_limit=time_limit)
        if lp_bound is not None:
            best.bound = lp_bound
        if rounded is not None:
            # Its own budget (a quarter of the limit, at least a second): the LP of a large window may have
            # used the first quarter, and this step is what brings the rounded answer near the bound.
            rounded = improve(problem, rounded, deadline=time.perf_counter() + max(time_limit / 4, 1.0))
        if rounded is not None and fits(problem, rounded) and objective(problem, rounded) < best.objective - 1e-9:
            best.choice, best.objective, best.method = rounded, objective(problem, rounded), "highs-lp"
        if _within(best, gap):
            best.method = "highs"
        else:
            left = time_limit - (time.perf_counter() - started)
            if left > 0.05:
                mip = _highs(problem, best.choice, time_limit=left, gap=gap)
                if mip.bound is not None:
                    best.bound = max(best.bound or mip.bound, mip.bound)
                adopted = mip.choice is not None and fits(problem, mip.choice)
                if adopted and mip.objective <= best.objective + 1e-9:
                    best.choice, best.objective = mip.choice, mip.objective
                best.note = mip.note
                if (adopted and mip.method == "highs") or _within(best, gap):
                    best.method = "highs"
                elif adopted or best.method != "greedy":
                    best.method = "highs-limit"
            else:
                best.method, best.note = "highs-limit", "time limit"
    except Exception as exc:  # noqa: BLE001 (any solver failure: the best answer so far routes the window)
        logger.warning("routing window: HiGHS failed, %s answer used: %s", best.method, exc, exc_info=True)
        best.note = f"solver failed: {type(exc).__name__}: {exc}"[:200]
    best.seconds = time.perf_counter() - started
    return best


def _within(solution: Solution, gap: float) -> bool:
    if solution.bound is None:
        return False
    return solution.objective - solution.bound <= gap * max(abs(solution.objective), 1e-9) + 1e-9


def _uncontended(problem: Problem, warm: list[int | None]) -> bool:
    """Every order took its own first (best) option: the greedy answer is the optimum."""
    return all(ks and warm[i] == ks[0] for i, ks in enumerate(problem.by_order))


def _model(problem: Problem, *, integer: bool):
    import highspy
    import numpy as np

    n, nk, nr = len(problem.penalty), len(problem.options), len(problem.limits)
    # Columns: x[k] for each option, then u[i] for each order. Rows: one per order (== 1), one per resource.
    starts, index, value = [0], [], []
    for i, _, uses in problem.options:
        index.append(i)
        value.append(1.0)
        for r, amount in uses:
            index.append(n + r)
            value.append(float(amount))
        starts.append(len(index))
    for i in range(n):
        index.append(i)
        value.append(1.0)
        starts.append(len(index))
    lp = highspy.HighsLp()
    lp.num_col_ = nk + n
    lp.num_row_ = n + nr
    lp.col_cost_ = np.array([c for _, c, _ in problem.options] + list(problem.penalty), dtype=np.double)
    lp.col_lower_ = np.zeros(nk + n, dtype=np.double)
    lp.col_upper_ = np.ones(nk + n, dtype=np.double)
    lp.row_lower_ = np.array([1.0] * n + [-highspy.kHighsInf] * nr, dtype=np.double)
    lp.row_upper_ = np.array([1.0] * n + [float(x) for x in problem.limits], dtype=np.double)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.double)
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * nk + [highspy.HighsVarType.kContinuous] * n
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    return h


def _lp_round(problem: Problem, *, time_limit: float) -> tuple[float | None, list[int | None] | None]:
    """The LP relaxation's value (a proven lower bound) and its answer rounded to a whole assignment:
    options by their LP value, then greedy for the orders still open."""
    import highspy

    h = _model(problem, integer=False)
    h.setOptionValue("time_limit", float(time_limit))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None, None
    bound = float(h.getInfo().objective_function_value)
    x = h.getSolution().col_value
    left = list(problem.limits)
    choice: list[int | None] = [None] * len(problem.penalty)

    def take(k: int) -> bool:
        uses = problem.options[k][2]
        if all(left[r] >= amount - 1e-9 for r, amount in uses):
            for r, amount in uses:
                left[r] -= amount
            choice[problem.options[k][0]] = k
            return True
        return False

    ranked = sorted((k for k in range(len(problem.options)) if x[k] > 1e-6), key=lambda k: (-x[k], k))
    for k in ranked:
        if choice[problem.options[k][0]] is None:
            take(k)
    for i, ks in enumerate(problem.by_order):  # what the LP left unrouted or could not place: greedy
        if choice[i] is None:
            for k in ks:
                if take(k):
                    break
    return bound, choice


def improve(problem: Problem, choice: list[int | None], *, deadline: float) -> list[int | None]:
    """Local search on a whole assignment (until nothing improves or ``deadline``, a ``time.perf_counter()``):
    an order moves to a cheaper option that fits; an unrouted order takes an option that fits, or one whose
    single short resource another order frees by moving to its own other option, when that costs less
    than leaving the order unrouted. Every step keeps the assignment within the resources."""
    choice = list(choice)
    opts = problem.options
    left = list(problem.limits)
    users: dict[int, set[int]] = {}
    for i, k in enumerate(choice):
        if k is not None:
            for r, amount in opts[k][2]:
                left[r] -= amount
                users.setdefault(r, set()).add(i)

    def usage(k: int | None) -> dict[int, float]:
        return dict(opts[k][2]) if k is not None else {}

    def cost(i: int, k: int | None) -> float:
        return problem.penalty[i] if k is None else opts[k][1]

    def move(i: int, k: int | None) -> None:
        old = choice[i]
        for r, amount in usage(old).items():
            left[r] += amount
            users[r].discard(i)
        for r, amount in usage(k).items():
            left[r] -= amount
            users.setdefault(r, set()).add(i)
        choice[i] = k

    def fits_after(i: int, k: int, extra: dict[int, float] | None = None) -> bool:
        freed = usage(choice[i])
        return all(left[r] + freed.get(r, 0) + (extra or {}).get(r, 0) >= a - 1e-9 for r, a in opts[k][2])

    changed = True
    while changed and time.perf_counter() < deadline:
        changed = False
        for i, ks in enumerate(problem.by_order):
            current = cost(i, choice[i])
            for k in ks:  # best first: the first that fits and costs less
                if opts[k][1] >= current - 1e-9:
                    break
                if fits_after(i, k):
                    move(i, k)
                    changed = True
                    break
            if choice[i] is not None or time.perf_counter() >= deadline:
                continue
            best = None  # (saving, j, k2, k)
            for k in ks:
                short = [(r, a - left[r]) for r, a in opts[k][2] if left[r] < a - 1e-9]
                if len(short) != 1:
                    continue
                r, missing = short[0]
                for j in users.get(r, ()):
                    kj = choice[j]
                    for k2 in problem.by_order[j]:
                        if k2 == kj or dict(opts[k2][2]).get(r, 0) > usage(kj).get(r, 0) - missing + 1e-9:
                            continue
                        if not fits_after(j, k2):
                            continue
                        # after j moves: does k fit (on every resource it uses)?
                        freed, taken = usage(kj), dict(opts[k2][2])
                        if any(left[r2] + freed.get(r2, 0) - taken.get(r2, 0) < a2 - 1e-9 for r2, a2 in opts[k][2]):
                            continue
                        saving = problem.penalty[i] - opts[k][1] - (opts[k2][1] - opts[kj][1])
                        if saving > 1e-9 and (best is None or saving > best[0]):
                            best = (saving, j, k2, k)
            if best is not None:
                _, j, k2, k = best
                move(j, k2)
                move(i, k)
                changed = True
            elif _repair(i, ks, problem, choice, left, users, move, deadline):
                changed = True
    return choice


REPAIR_USERS = 100  # orders looked at per short resource by ``_repair`` (a location's capacity has thousands)


def _repair(i: int, ks: list[int], problem: Problem, choice, left, users, move, deadline: float) -> bool:
    """An unrouted order ``i`` takes one of its options although several of that option's resources are short
    (a location's stock of two SKUs, or its stock and its capacity left): each short resource is freed by
    moving one other order to its own other option, the cheapest such move that fits, one after the other.
    Kept when the whole costs less than leaving ``i`` unrouted, else every move is undone. Returns whether it
    changed the assignment. At most ``REPAIR_USERS`` orders are looked at per resource, and none after ``deadline``."""
    opts = problem.options
    for k in ks:
        if time.perf_counter() >= deadline:
            return False
        if opts[k][1] >= problem.penalty[i] - 1e-9:
            break  # options are best first: the rest cost no less than the penalty
        short = [r for r, a in opts[k][2] if left[r] < a - 1e-9]
        if len(short) < 2 or len(short) > 3:
            continue  # one short resource: ``improve``'s own swap; more than three: not worth the search
        done: list[tuple[int, int | None]] = []  # (order, its option before) in the order moved
        extra = 0.0
        for r in short:
            need = dict(opts[k][2])[r]
            pick = None  # (added cost, j, k2)
            for j in itertools.islice(users.get(r, ()), REPAIR_USERS):
                kj = choice[j]
                if j == i or kj is None or any(j == m for m, _ in done):
                    continue
                held = dict(opts[kj][2])
                for k2 in problem.by_order[j]:
                    if k2 == kj:
                        continue
                    uses2 = dict(opts[k2][2])
                    if left[r] + held.get(r, 0) - uses2.get(r, 0) < need - 1e-9:
                        continue  # moving j would not free enough of r
                    if any(left[r2] + held.get(r2, 0) < a2 - 1e-9 for r2, a2 in opts[k2][2]):
                        continue  # j's other option does not fit
                    added = opts[k2][1] - opts[kj][1]
                    if pick is None or added < pick[0]:
                        pick = (added, j, k2)
            if pick is None:
                break
            done.append((pick[1], choice[pick[1]]))
            move(pick[1], pick[2])
            extra += pick[0]
        fits_now = all(left[r] >= a - 1e-9 for r, a in opts[k][2])
        if fits_now and problem.penalty[i] - opts[k][1] - extra > 1e-9:
            move(i, k)
            return True
        for j, kj in reversed(done):
            move(j, kj)
    return False


def _highs(problem: Problem, warm: list[int | None], *, time_limit: float, gap: float) -> Solution:
    import highspy

    n, nk = len(problem.penalty), len(problem.options)
    h = _model(problem, integer=True)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    start = highspy.HighsSolution()
    values = [0.0] * (nk + n)
    for i, k in enumerate(warm):
        if k is None:
            values[nk + i] = 1.0
        else:
            values[k] = 1.0
    start.col_value = values
    start.value_valid = True
    h.setSolution(start)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    bound = float(info.mip_dual_bound) if info.mip_dual_bound is not None else None
    if bound is not None and not (abs(bound) < 1e300):
        bound = None
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        return Solution(None, 0.0, "highs", bound=bound, note=f"HiGHS: {h.modelStatusToString(status)}")
    col = h.getSolution().col_value
    if len(col) != nk + n:
        return Solution(None, 0.0, "highs", bound=bound, note="HiGHS returned no solution")
    choice: list[int | None] = [None] * n
    for k in range(nk):
        if col[k] > 0.5:
            i = problem.options[k][0]
            if choice[i] is not None:
                return Solution(None, 0.0, "highs", bound=bound, note="HiGHS gave an order two options")
            choice[i] = k
    optimal = status == highspy.HighsModelStatus.kOptimal
    return Solution(
        choice,
        objective(problem, choice),
        "highs" if optimal else "highs-limit",
        bound=bound,
        note="" if optimal else "time limit",
    )
