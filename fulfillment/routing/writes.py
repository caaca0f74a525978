"""The routing window's writes as tuples (fulfillment/routing/window.py, issue 15).

Shipments, shipment lines, decisions, backorders and timeline rows of a window go in one statement per table
through ``oms.statements`` (``insert_rows`` / ``insert_rows_returning``: on PostgreSQL prepared, one array per
column), built as tuples: no model instance is made in the window's path. The columns a statement does not
name get the value the model would give them (``row_defaults``: each field's default, ``auto_now_add`` the
window's one timestamp), worked out once per statement, not per row.

Shipment numbers (``SH`` + 100000 + id) are written with the row: on PostgreSQL the ids are taken from the
table's sequence first (one statement), so no UPDATE follows the INSERT; elsewhere the rows are inserted,
then numbered in one UPDATE.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_noop

from oms import statements
from orders.services import order_event_rows_record, orders_set_progress
from orders.status import EventKind, OrderStatus
from orders.wording import msg

from ..models import Backorder, RoutingDecision, Shipment, ShipmentLine
from ..status import ShipmentStatus, derive_order_status
from .scoring import plan_json, plan_totals
from .words import routing_reason

BACKORDERED = EventKind.BACKORDERED


def row_defaults(model, given: Sequence[str], now) -> tuple[list[str], list]:
    """The fields a statement naming ``given`` leaves out, and the value the model gives each (its default;
    ``auto_now``/``auto_now_add``: ``now``); fields whose value is NULL are left to the database."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in given or f.attname in given:
            continue
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        if value is None:
            continue
        names.append(f.name)
        values.append(value)
    return names, values


def insert(model, fields: Sequence[str], rows: list[tuple], now, *, returning: bool = False):
    """``rows`` (one value per field of ``fields``) with the model's values for every other column, in one
    statement; the new keys in row order when ``returning``."""
    extra, values = row_defaults(model, fields, now)
    names = [*fields, *extra]
    tail = tuple(values)
    full = [(*row, *tail) for row in rows] if tail else rows
    if returning:
        return statements.insert_rows_returning(model, names, full)
    return statements.insert_rows(model, names, full)


def _next_ids(model, n: int) -> list[int]:
    """``n`` new keys from the table's sequence (PostgreSQL), in ascending order."""
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, n],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


def shipments_insert(rows: list[tuple[int, int]], now) -> list[tuple[int, str]]:
    """Reserved shipments for ``rows`` ``(order id, location id)``: ``(id, number)`` of each, in row order."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        ids = _next_ids(Shipment, len(rows))
        numbered = [(pk, f"SH{100000 + pk}") for pk in ids]
        fields = ("id", "number", "order", "location", "status")
        values = [
            (pk, number, o, loc, ShipmentStatus.RESERVED) for (pk, number), (o, loc) in zip(numbered, rows, strict=True)
        ]
        insert(Shipment, fields, values, now)
        return numbered
    ids = insert(
        Shipment, ("order", "location", "status"), [(*r, ShipmentStatus.RESERVED) for r in rows], now, returning=True
    )
    numbered = [(pk, f"SH{100000 + pk}") for pk in ids]
    statements.update_rows(Shipment, ["number"], numbered)
    return numbered


DECISION_FIELDS = (
    "order",
    "policy",
    "policy_ref",
    "kind",
    "chosen",
    "candidates",
    "plan",
    "score",
    "totals",
    "reason",
    "user",
)


def decision_row(order, evaluation, plan, user_id, *, kind: str) -> tuple:
    """A ``RoutingDecision`` as a tuple of ``DECISION_FIELDS`` (``plan`` None: nothing chosen)."""
    return (
        order.pk,
        evaluation.policy.code,
        evaluation.policy.pk,
        kind,
        plan.locations[0].location.pk if plan is not None else None,
        evaluation.explanation,
        plan_json(plan) if plan is not None else [],
        Decimal(str(plan.score)) if plan is not None else None,
        plan_totals(plan, order),
        evaluation.reason[:255],
        user_id,
    )


def decisions_insert(rows: list[tuple], now) -> list[int]:
    return insert(RoutingDecision, DECISION_FIELDS, rows, now, returning=True)


def _routed_message(evaluation, made: list[tuple[str, str]]) -> str:
    """``decide.routed_message`` from (location name, shipment number) pairs."""
    reason = routing_reason(evaluation.reason)
    if len(made) > 1:
        names = ", ".join(f"{name} ({number})" for name, number in made)
        return msg(gettext_noop("Split over %(names)s. %(reason)s"), names=names, reason=reason)
    return msg(gettext_noop("Routed to %(location)s. %(reason)s"), location=made[0][0], reason=reason)


def window_write(entries, user) -> None:
    """Each entry's chosen plan (``entry.chosen``, reserved already): its shipments, their lines, its decision, its
    backorders, its ROUTED (and BACKORDERED) row and its status, one statement per table."""
    user_id = getattr(user, "pk", None)
    now = timezone.now()
    owners: list[tuple] = []
    for e in entries:
        for s in e.chosen.locations:
            if e.chosen.parts[s.location.pk]:
                owners.append((e, s.location))
    numbered = shipments_insert([(e.order.pk, loc.pk) for e, loc in owners], now)
    lines, made = [], {}
    for (pk, number), (e, loc) in zip(numbered, owners, strict=True):
        made.setdefault(e.order.pk, []).append((loc.name, number))
        lines += [(pk, n.order_line_id, n.product_id, q) for n, q in e.chosen.parts[loc.pk]]
    statements.insert_rows(ShipmentLine, ["shipment", "order_line", "product", "quantity"], lines)
    rows = []
    for e in entries:
        kind = "backorder" if e.chosen.missing else "split" if len(e.chosen.locations) > 1 else "auto"
        rows.append(decision_row(e.order, e.evaluation, e.chosen, user_id, kind=kind))
    decisions = decisions_insert(rows, now)
    events = []
    backorders = []
    for e, decision in zip(entries, decisions, strict=True):
        mine = made[e.order.pk]
        numbers = [number for _, number in mine]
        events.append(
            {
                "order": e.order,
                "kind": EventKind.ROUTED,
                "message": _routed_message(e.evaluation, mine),
                "data": {"decision": decision, "shipment": numbers[0], "shipments": numbers},
            }
        )
        if e.chosen.missing:  # what order_route writes for a backorder (decide._backorder)
            backorders += [(e.order.pk, n.order_line_id, n.product_id, q) for n, q in e.chosen.missing]
            summary = ", ".join(f"{n.sku} x{q}" for n, q in e.chosen.missing)
            events.append(
                {
                    "order": e.order,
                    "kind": BACKORDERED,
                    "message": msg(
                        gettext_noop("Backordered %(summary)s: no location has it now; it ships when stock arrives."),
                        summary=summary,
                    ),
                    "data": {"decision": decision, "backordered": {n.sku: q for n, q in e.chosen.missing}},
                }
            )
    insert(Backorder, ("order", "order_line", "product", "quantity"), backorders, now)
    target = derive_order_status([ShipmentStatus.RESERVED])
    events += orders_set_progress(
        targets=[(e.order, target) for e in entries if e.order.status == OrderStatus.CONFIRMED]
    )
    # The ROUTED row of each order, its BACKORDERED row, then its status row: single-order routing's order.
    rank = {EventKind.ROUTED: 0, BACKORDERED: 1}
    events.sort(key=lambda row: (row["order"].pk, rank.get(row["kind"], 2)))
    order_event_rows_record(events, user=user)
