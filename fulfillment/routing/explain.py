"""Why a window routed an order where it did (fulfillment/routing/window.py).

An order the window gave its own lowest-score plan keeps the explanation single-order routing would store
(each candidate's terms, the runner-up's comparison). When the window gave it a dearer plan, the chosen
plan becomes the decision's ``best`` and every lower-scored candidate says why it was not used: the stock
of which SKU at which location went to which orders of the window, or whose shipments took the location's
capacity left today. Each such candidate row also lists those orders in ``taken_by``.
"""

from __future__ import annotations

from .scoring import decision_reason, explain_candidates
from .words import WINDOW_CAPACITY, WINDOW_CHOSEN, WINDOW_JOINT, WINDOW_LOWER, WINDOW_REASON, WINDOW_STOCK

NAMED = 5  # orders named in a verdict; the rest are counted


def _names(numbers: list[str]) -> str:
    shown = ", ".join(numbers[:NAMED])
    more = len(numbers) - NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def explain_window(entries, available, loads, locations) -> None:
    """Rewrite the evaluation (candidates and reason) of each entry whose chosen plan is not its best."""
    code_of = {loc.pk: loc.code for loc in locations}
    capacity_left = {
        loc.pk: max(0, loc.daily_capacity - loads.get(loc.pk, 0)) for loc in locations if loc.daily_capacity is not None
    }
    stock_users: dict[tuple[int, int], list[tuple[int, str, int]]] = {}
    site_users: dict[int, list[tuple[int, str]]] = {}
    for e in entries:
        if e.chosen is None:
            continue
        for loc_id, part in e.chosen.parts.items():
            if part:
                site_users.setdefault(loc_id, []).append((e.order.pk, e.order.number))
            for need, q in part:
                stock_users.setdefault((loc_id, need.product_id), []).append((e.order.pk, e.order.number, q))
    size = len(entries)
    for e in entries:
        if e.chosen is None or e.chosen is e.evaluation.best:
            continue
        _rewrite(e, size, available, capacity_left, stock_users, site_users, code_of)


def _why_not(plan, order_pk, available, capacity_left, stock_users, site_users, code_of) -> tuple[list[str], list[str]]:
    """What the window's other orders took that ``plan`` needed: reasons in words and the orders' numbers."""
    reasons, taken_by = [], []
    for loc_id, part in plan.parts.items():
        for need, q in part:
            others = [(num, used) for pk, num, used in stock_users.get((loc_id, need.product_id), []) if pk != order_pk]
            if available.get(loc_id, {}).get(need.product_id, 0) - sum(u for _, u in others) < q:
                numbers = [num for num, _ in others]
                reasons.append(
                    WINDOW_STOCK % {"sku": need.sku, "location": code_of.get(loc_id, loc_id), "orders": _names(numbers)}
                )
                taken_by += numbers
        if part and loc_id in capacity_left:
            others = [num for pk, num in site_users.get(loc_id, []) if pk != order_pk]
            if capacity_left[loc_id] - len(others) < 1:
                reasons.append(WINDOW_CAPACITY % {"location": code_of.get(loc_id, loc_id), "orders": _names(others)})
                taken_by += others
    return reasons, list(dict.fromkeys(taken_by))


def _rewrite(e, size, available, capacity_left, stock_users, site_users, code_of) -> None:
    ev = e.evaluation
    chosen = e.chosen
    ordered = [chosen] + [p for p in ev.plans if p is not chosen]
    candidates = explain_candidates(e.order, ev.singles, ordered, chosen, True, chosen.shipped_units)
    by_codes = {tuple(p.codes): p for p in e.options}
    first_reason = ""
    first_codes = ""
    for row in candidates:
        plan = by_codes.get(tuple(row["locations"]))
        if row["chosen"] or plan is None or plan.score >= chosen.score:
            continue
        reasons, taken_by = _why_not(plan, e.order.pk, available, capacity_left, stock_users, site_users, code_of)
        if not reasons:
            reasons = [WINDOW_JOINT]
        row["verdict"] = WINDOW_LOWER % {"score": f"{plan.score:g}", "reasons": "; ".join(reasons)}
        row["taken_by"] = taken_by
        if not first_reason:
            first_reason, first_codes = reasons[0], " + ".join(plan.codes)
    for row in candidates:
        if row["chosen"] and first_reason:
            row["verdict"] = WINDOW_CHOSEN % {
                "size": size,
                "score": f"{chosen.score:g}",
                "codes": first_codes,
                "reason": first_reason,
            }
    ev.candidates = candidates
    ev.best = chosen
    ev.kind = "split" if len(chosen.locations) > 1 else "auto"
    reason = decision_reason(e.order, ev.policy, chosen, True, ordered, ev.force)
    if first_reason:
        reason = WINDOW_REASON % {"reason": reason.rstrip("."), "codes": first_codes, "why": first_reason}
    ev.reason = reason[:255]
