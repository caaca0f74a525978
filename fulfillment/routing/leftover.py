"""The orders a routing window leaves unrouted, handled set-based (fulfillment/routing/window.py).

Each is scored again, in the window's order, against the stock and capacity the window left (what
``order_route`` would read after the window's reservations), under its own policy and channel:

- a plan that ships something (a policy that ships what is available, a "force" channel, or stock the joint
  choice left over): reserved with the others in one ``stock_reserve_batch`` call, then written with the
  window's writer (shipments, lines, decisions, events, status: one statement per table) plus its
  ``Backorder`` rows in one INSERT and a BACKORDERED event each: what ``order_route`` writes for it;
- nothing to ship (ship complete and no location has all of it): a decision with every candidate and why,
  a ROUTING_FAILED event and the stock-short hold (``orders_hold_many``), one statement per table;
- a "force" channel's order with nothing on hand anywhere (all of it backordered, no shipment): handed back
  to the window for ``order_route`` (rare).

An order whose reservation fails here (stock changed since the snapshot) waits for the next window, with
nothing written, as in the window itself.
"""

from __future__ import annotations

from django.utils import timezone

from orders.services import order_event_rows_record, orders_hold_many
from orders.status import EventKind, HoldReason

from .decide import short_note
from .policies import channel_force
from .scoring import evaluate
from .words import routing_reason
from .writes import decision_row, decisions_insert


def stock_left(available: dict, loads: dict, entries) -> tuple[dict, dict]:
    """The snapshot less what the window's routed entries took: stock per location and today's loads."""
    left = {loc: dict(stock) for loc, stock in available.items()}
    loads_left = dict(loads)
    for e in entries:
        for loc_id, part in e.chosen.parts.items():
            if part:
                loads_left[loc_id] = loads_left.get(loc_id, 0) + 1
            stock = left.setdefault(loc_id, {})
            for need, q in part:
                stock[need.product_id] = stock.get(need.product_id, 0) - q
    return left, loads_left


def route_leftovers(entries, available: dict, loads: dict, locations, user, *, reserve, write) -> dict:
    """Route ``entries`` (the window's unrouted, in window order) against ``available``/``loads`` (what the
    window left; both are used up as the entries take stock). ``reserve(pairs) -> reserved ids`` and
    ``write(entries) -> {order pk: decision}`` are the window's own. Returns counts and the ids left waiting."""
    shipping, held, single = [], [], []
    for e in entries:
        force = channel_force(e.order.channel_id)
        ev = evaluate(
            e.order, e.needs, e.evaluation.policy, available=available, loads=loads, locations=locations, force=force
        )
        e.evaluation = ev
        if ev.best is not None and not ev.best.shipped_units:
            e.chosen = None  # a "force" channel with nothing on hand: all backordered, no shipment (order_route)
            single.append(e)
        elif ev.best is not None:
            e.chosen = ev.best
            for loc_id, part in ev.best.parts.items():
                if part:
                    loads[loc_id] = loads.get(loc_id, 0) + 1
                stock = available.setdefault(loc_id, {})
                for need, q in part:
                    stock[need.product_id] = stock.get(need.product_id, 0) - q
            shipping.append(e)
        else:
            e.chosen = None
            held.append(e)
    outcome = {"routed": 0, "backordered": 0, "held": 0, "left_ids": [], "single": [e.order.pk for e in single]}
    if shipping:
        reserved = reserve([(e.order, e.chosen) for e in shipping])
        written = [e for e in shipping if e.order.pk in reserved]
        outcome["left_ids"] = [e.order.pk for e in shipping if e.order.pk not in reserved]
        if written:
            write(written)
        outcome["routed"] = len(written)
        outcome["backordered"] = sum(1 for e in written if e.chosen.missing)
    if held:
        _hold(held, user)
        outcome["held"] = len(held)
    return outcome


def _hold(entries, user) -> None:
    """No location can ship them: a decision each, ROUTING_FAILED and the stock-short hold (set-based, as tuples)."""
    user_id = getattr(user, "pk", None)
    user = user if user_id else None
    now = timezone.now()
    decisions = decisions_insert(
        [decision_row(e.order, e.evaluation, None, user_id, kind=e.evaluation.kind) for e in entries], now
    )
    events = [
        {
            "order": e.order,
            "kind": EventKind.ROUTING_FAILED,
            "message": routing_reason(e.evaluation.reason),
            "data": {"decision": decision},
        }
        for e, decision in zip(entries, decisions, strict=True)
    ]
    holds = [(e.order, short_note(e.evaluation.candidates)) for e in entries]
    events += orders_hold_many(holds=holds, reason=HoldReason.STOCK_SHORT, user=user)
    events.sort(key=lambda row: (row["order"].pk, row["kind"] != EventKind.ROUTING_FAILED))
    order_event_rows_record(events, user=user)
