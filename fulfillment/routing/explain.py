"""Why a window routed an order where it did (fulfillment/routing/window.py).

An order the window gave its own lowest-score plan keeps the explanation single-order routing would store
(each candidate's terms, the runner-up's comparison). When the window gave it a dearer plan, the chosen
plan becomes the decision's ``best`` and every lower-scored candidate says why it was not used: the stock
of which SKU at which location went to which orders of the window, or whose shipments took the location's
capacity left today. Each such candidate row also lists those orders in ``taken_by`` (the first ``TAKEN_BY``
per resource; the verdict counts the rest).
"""

from __future__ import annotations

from .scoring import decision_reason, explain_candidates
from .words import WINDOW_CAPACITY, WINDOW_CHOSEN, WINDOW_JOINT, WINDOW_LOWER, WINDOW_REASON, WINDOW_STOCK

NAMED = 5  # orders named in a verdict; the rest are counted
TAKEN_BY = 50  # orders listed in a candidate's ``taken_by`` per resource (a large window's popular SKU: thousands)


def _names(numbers: list[str], count: int | None = None) -> str:
    shown = ", ".join(numbers[:NAMED])
    more = (len(numbers) if count is None else count) - NAMED
    return f"{shown} and {more} more" if more > 0 else shown


class _Users:
    """The window's orders that took a resource: in window order, with what each took (looked up per order
    without walking the list: a popular SKU's list holds thousands of orders in a large window)."""

    __slots__ = ("numbers", "taken", "total")

    def __init__(self) -> None:
        self.numbers: list[str] = []
        self.taken: dict[int, int] = {}  # order pk -> units (or shipments) it took
        self.total = 0

    def add(self, pk: int, number: str, amount: int) -> None:
        if pk not in self.taken:
            self.numbers.append(number)
        self.taken[pk] = self.taken.get(pk, 0) + amount
        self.total += amount

    def others(self, pk: int, own_number: str) -> tuple[int, list[str], int]:
        """Units the other orders took, the first ``TAKEN_BY`` of their numbers, and how many they are."""
        mine = pk in self.taken
        first = [n for n in self.numbers[: TAKEN_BY + 1] if n != own_number][:TAKEN_BY]
        return self.total - self.taken.get(pk, 0), first, len(self.numbers) - (1 if mine else 0)


def explain_window(entries, available, loads, locations) -> None:
    """Rewrite the evaluation (candidates and reason) of each entry whose chosen plan is not its best."""
    code_of = {loc.pk: loc.code for loc in locations}
    capacity_left = {
        loc.pk: max(0, loc.daily_capacity - loads.get(loc.pk, 0)) for loc in locations if loc.daily_capacity is not None
    }
    stock_users: dict[tuple[int, int], _Users] = {}
    site_users: dict[int, _Users] = {}
    for e in entries:
        if e.chosen is None:
            continue
        for loc_id, part in e.chosen.parts.items():
            if part:
                site_users.setdefault(loc_id, _Users()).add(e.order.pk, e.order.number, 1)
            for need, q in part:
                stock_users.setdefault((loc_id, need.product_id), _Users()).add(e.order.pk, e.order.number, q)
    size = len(entries)
    for e in entries:
        if e.chosen is None or e.chosen is e.evaluation.best:
            continue
        _rewrite(e, size, available, capacity_left, stock_users, site_users, code_of)


_NOBODY = _Users()


def _why_not(plan, order, available, capacity_left, stock_users, site_users, code_of) -> tuple[list[str], list[str]]:
    """What the window's other orders took that ``plan`` needed: reasons in words and the orders' numbers."""
    reasons, taken_by = [], []
    for loc_id, part in plan.parts.items():
        for need, q in part:
            users = stock_users.get((loc_id, need.product_id), _NOBODY)
            used, numbers, count = users.others(order.pk, order.number)
            if available.get(loc_id, {}).get(need.product_id, 0) - used < q:
                where = code_of.get(loc_id, loc_id)
                reasons.append(WINDOW_STOCK % {"sku": need.sku, "location": where, "orders": _names(numbers, count)})
                taken_by += numbers
        if part and loc_id in capacity_left:
            used, others, count = site_users.get(loc_id, _NOBODY).others(order.pk, order.number)
            if capacity_left[loc_id] - used < 1:
                where = code_of.get(loc_id, loc_id)
                reasons.append(WINDOW_CAPACITY % {"location": where, "orders": _names(others, count)})
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
        reasons, taken_by = _why_not(plan, e.order, available, capacity_left, stock_users, site_users, code_of)
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
