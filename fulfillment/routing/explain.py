"""Why a window routed an order where it did (fulfillment/routing/window.py).

An order the window gave its own lowest-score plan keeps the explanation single-order routing would store
(each candidate's terms, the runner-up's comparison). When the window gave it a dearer plan, the chosen
plan becomes the decision's ``best`` and every lower-scored candidate says why it was not used: the stock
of which SKU at which location went to which orders of the window, or whose shipments took the location's
capacity left today. Each such candidate row also lists those orders in ``taken_by`` (the first ``TAKEN_BY``
per resource; the verdict counts the rest).

What is stored is compact (``explanation``: per lower-scored plan the resources it lacked and the ids of the
orders that took them); the verdicts' words are made when the order page shows the decision. The decision's
reason (a column of its own, on the timeline too) is written in words here.
"""

from __future__ import annotations

from .explanation import compact, shown_plans, why_words
from .scoring import decision_reason
from .words import WINDOW_REASON

TAKEN_BY = 50  # orders listed in a candidate's ``taken_by`` per resource (a large window's popular SKU: thousands)


class _Users:
    """The window's orders that took a resource: in window order, with what each took (looked up per order
    without walking the list: a popular SKU's list holds thousands of orders in a large window)."""

    __slots__ = ("ids", "taken", "total")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.taken: dict[int, int] = {}  # order pk -> units (or shipments) it took
        self.total = 0

    def add(self, pk: int, amount: int) -> None:
        if pk not in self.taken:
            self.ids.append(pk)
        self.taken[pk] = self.taken.get(pk, 0) + amount
        self.total += amount

    def others(self, pk: int) -> tuple[int, list[int], int]:
        """Units the other orders took, the first ``TAKEN_BY`` of their ids, and how many they are."""
        mine = pk in self.taken
        first = [i for i in self.ids[: TAKEN_BY + 1] if i != pk][:TAKEN_BY]
        return self.total - self.taken.get(pk, 0), first, len(self.ids) - (1 if mine else 0)


def explain_window(entries, available, loads, locations) -> None:
    """Rewrite the evaluation (explanation and reason) of each entry whose chosen plan is not its best."""
    code_of = {loc.pk: loc.code for loc in locations}
    capacity_left = {
        loc.pk: max(0, loc.daily_capacity - loads.get(loc.pk, 0)) for loc in locations if loc.daily_capacity is not None
    }
    stock_users: dict[tuple[int, int], _Users] = {}
    site_users: dict[int, _Users] = {}
    numbers: dict[int, str] = {}
    for e in entries:
        if e.chosen is None:
            continue
        numbers[e.order.pk] = e.order.number
        for loc_id, part in e.chosen.parts.items():
            if part:
                site_users.setdefault(loc_id, _Users()).add(e.order.pk, 1)
            for need, q in part:
                stock_users.setdefault((loc_id, need.product_id), _Users()).add(e.order.pk, q)
    size = len(entries)
    for e in entries:
        if e.chosen is None or e.chosen is e.evaluation.best:
            continue
        _rewrite(e, size, available, capacity_left, stock_users, site_users, code_of, numbers)


_NOBODY = _Users()


def _why_not(plan, order, available, capacity_left, stock_users, site_users, code_of) -> list:
    """What the window's other orders took that ``plan`` needed, as compact reasons (``explanation``)."""
    reasons = []
    for loc_id, part in plan.parts.items():
        for need, q in part:
            users = stock_users.get((loc_id, need.product_id), _NOBODY)
            used, ids, count = users.others(order.pk)
            if available.get(loc_id, {}).get(need.product_id, 0) - used < q:
                reasons.append(["stock", need.sku, code_of.get(loc_id, loc_id), ids, count])
        if part and loc_id in capacity_left:
            used, ids, count = site_users.get(loc_id, _NOBODY).others(order.pk)
            if capacity_left[loc_id] - used < 1:
                reasons.append(["capacity", code_of.get(loc_id, loc_id), ids, count])
    return reasons or [["joint"]]


def _rewrite(e, size, available, capacity_left, stock_users, site_users, code_of, numbers) -> None:
    """The chosen plan becomes the decision's best; every lower-scored plan that ships all of it and is shown
    says (compactly) what the window's other orders took from it; the reason names the first of them."""
    ev = e.evaluation
    chosen = e.chosen
    ordered = [chosen] + [p for p in ev.plans if p is not chosen]
    explanation = compact(ev.singles, ordered, chosen, True, chosen.shipped_units, e.order.currency)
    options = {id(p) for p in e.options}
    shown = shown_plans(ordered, chosen)
    why = {}
    first = None  # (score, label, reasons) of the first lower plan as the page lists it
    for i, plan in enumerate(shown):
        if plan is chosen or id(plan) not in options or plan.score >= chosen.score:
            continue
        reasons = _why_not(plan, e.order, available, capacity_left, stock_users, site_users, code_of)
        why[str(i)] = reasons
        label = " + ".join(plan.codes)
        if first is None or (plan.score, label) < first[:2]:
            first = (plan.score, label, reasons)
    explanation["window"] = {"size": size, "why": why}
    ev.explanation = explanation
    ev._rows = None
    ev.best = chosen
    ev.kind = "split" if len(chosen.locations) > 1 else "auto"
    reason = decision_reason(e.order, ev.policy, chosen, True, ordered, ev.force)
    if first is not None:
        said, _ = why_words(first[2][:1], numbers)
        reason = WINDOW_REASON % {"reason": reason.rstrip("."), "codes": first[1], "why": said[0]}
    ev.reason = reason[:255]
