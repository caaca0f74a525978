"""Changes and cancellation by stage: each service locks the order, asks the stage rule table
(orders.stage_rules.decide) what this change may do now, applies it, and writes one event with the
reason code. Address changes go through ``changes.order_change_address`` (which asks the same table).

Before picking a change re-routes: ``order_reroute`` (fulfillment releases shipments and stock), the order
goes back to confirmed, is classified again and announced ready, so routing runs again after commit.
"""

from django.db import transaction

from oms.errors import DomainError, TransitionNotAllowed

from .. import stage_rules
from ..models import Order, OrderLine
from ..selectors import products_for_channel
from ..signals import order_intercept_requested, order_open_shipments_cancel, order_reroute
from ..stage_rules import ChangeRefused
from ..status import ChangeAction, ChangeKind, ChangeReason, EventKind, OrderStatus, Stage
from .core import _announce_ready, _classify, _lock, _set_status, order_cancel, order_event_record

SERVICE_LEVELS = ("", "express", "standard", "economy")


def _decide(order: Order, change: str, user, reason_code: str) -> str:
    try:
        stage_rules.check_reason_code(reason_code)
        return stage_rules.decide(order, change, user)
    except ChangeRefused as exc:
        raise TransitionNotAllowed(str(exc)) from None


def _has_active_shipments(order: Order) -> bool:
    # A query through the reverse relation (fulfillment sits above orders): not an import.
    return order.shipments.exclude(status="cancelled").exists()


def reroute(order: Order, *, user=None, reason: str) -> bool:
    """Before picking: release shipments and stock, classify again, route again after commit.
    The caller holds the order's lock. Returns True when routing was asked to run again."""
    if stage_rules.stage_of(order) not in stage_rules.REROUTE_STAGES:
        raise TransitionNotAllowed(f"Order {order.number} is {order.get_status_display()}: too late to re-route.")
    order_reroute.send(sender=Order, order=order, user=user, reason=reason)
    if order.status == OrderStatus.ALLOCATED:
        _set_status(order, OrderStatus.CONFIRMED, user=user, note=f"re-route: {reason}")
    _classify(order, user=user)
    order.refresh_from_db()
    if order.status == OrderStatus.CONFIRMED and not order.on_hold:
        _announce_ready(order)
        return True
    return False


def _record(order: Order, *, change: str, action: str, reason_code: str, note: str, message: str, user, **data):
    order_event_record(
        order=order,
        kind=EventKind.CHANGED,
        user=user,
        message=f"{message} — {ChangeReason.describe(reason_code, note)}",
        data={
            "change": change,
            "action": action,
            "stage": stage_rules.stage_of(order) or "",
            "reason_code": reason_code,
            "note": note,
            **data,
        },
    )


@transaction.atomic
def order_change_lines(
    *,
    order: Order,
    quantities: dict[int, int] | None = None,
    add: list[tuple[str, int]] | None = None,
    reason_code: str,
    note: str = "",
    user=None,
) -> dict:
    """Change line quantities ({order line id: new quantity}, 0 removes the line) and add lines
    ([(sku, quantity)]). Returns {sku: [old, new]}. Before picking the order is re-routed."""
    order = _lock(order)
    action = _decide(order, ChangeKind.LINES, user, reason_code)
    stage = stage_rules.stage_of(order)
    if _has_active_shipments(order) and stage not in stage_rules.REROUTE_STAGES:
        raise TransitionNotAllowed(f"Order {order.number}: picked goods cannot change; cancel the order instead.")
    lines = {line.pk: line for line in order.lines.select_related("product")}
    quantities = quantities or {}
    add = [(sku.strip(), qty) for sku, qty in (add or []) if sku and sku.strip()]
    changes: dict[str, list[int]] = {}
    for line_id, qty in quantities.items():
        line = lines.get(int(line_id))
        if line is None:
            raise DomainError(f"Order {order.number} has no line {line_id}.")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise DomainError(f"{line.sku}: the quantity must be a whole number, 0 or more.")
        if qty != line.quantity:
            changes[line.sku] = [line.quantity, qty]
    products = products_for_channel(order.channel, {sku for sku, _ in add})
    for sku, qty in add:
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise DomainError(f"{sku}: the quantity to add must be more than zero.")
        if products.get(sku) is None:
            raise DomainError(f"Unknown SKU {sku}: map it or add the product first.")
    remaining = sum(q for pk, line in lines.items() for q in [quantities.get(pk, line.quantity)]) + sum(
        q for _, q in add
    )
    if not changes and not add:
        raise DomainError("Nothing to change.")
    if remaining <= 0:
        raise DomainError(f"Order {order.number} would have no lines left: cancel it instead.")
    if action == ChangeAction.REROUTE or _has_active_shipments(order):
        # Release first: the cancelled shipments' lines must not hold on to the lines that go.
        order_reroute.send(sender=Order, order=order, user=user, reason=f"lines changed ({reason_code})")
    delta_total = 0
    for line_id, qty in quantities.items():
        line = lines[int(line_id)]
        if qty == line.quantity:
            continue
        delta_total += (qty - line.quantity) * line.unit_price
        if qty == 0:
            # Lines of cancelled shipments point at it: they go with it (the ledger keeps the history).
            line.shipment_lines.filter(shipment__status="cancelled").delete()
            if line.shipment_lines.exists():
                raise DomainError(f"{line.sku} is on a shipment that is still open.")
            line.delete()
        else:
            line.quantity = qty
            line.save(update_fields=["quantity"])
    next_no = max((line.line_no for line in lines.values()), default=0)
    by_sku = {line.sku: line for line in order.lines.all()}
    for sku, qty in add:
        product = products[sku]
        existing = by_sku.get(sku)
        if existing is not None:
            changes[sku] = [existing.quantity, existing.quantity + qty]
            existing.quantity += qty
            existing.save(update_fields=["quantity"])
            delta_total += qty * existing.unit_price
            continue
        next_no += 1
        line = OrderLine.objects.create(
            order=order,
            line_no=next_no,
            product=product,
            sku=sku,
            name=product.name,
            quantity=qty,
            unit_price=product.price,
        )
        changes[sku] = [0, qty]
        delta_total += qty * line.unit_price
    if delta_total:
        order.total = max(order.total + delta_total, 0)
        order.save(update_fields=["total", "updated_at"])
    _record(
        order,
        change=ChangeKind.LINES,
        action=action,
        reason_code=reason_code,
        note=note,
        user=user,
        message="Lines changed: " + ", ".join(f"{sku} {old}→{new}" for sku, (old, new) in sorted(changes.items())),
        changes=changes,
    )
    if stage in stage_rules.REROUTE_STAGES:
        reroute(order, user=user, reason=f"lines changed ({reason_code})")
    return changes


@transaction.atomic
def order_change_service(*, order: Order, requested_service: str, reason_code: str, note: str = "", user=None) -> str:
    """Change the requested service level; before picking the order is classified and routed again,
    later (with approval) the carrier is chosen again at dispatch. Returns the action taken."""
    order = _lock(order)
    requested_service = (requested_service or "").strip()
    if requested_service not in SERVICE_LEVELS:
        raise DomainError(f"Unknown service level {requested_service!r}; use express, standard or economy.")
    if requested_service == order.requested_service:
        raise DomainError("The order already asks for that service level.")
    action = _decide(order, ChangeKind.SERVICE, user, reason_code)
    old = order.requested_service
    order.requested_service = requested_service
    order.save(update_fields=["requested_service", "updated_at"])
    _record(
        order,
        change=ChangeKind.SERVICE,
        action=action,
        reason_code=reason_code,
        note=note,
        user=user,
        message=f"Service level {old or 'any'} → {requested_service or 'any'}",
        changes={"requested_service": [old, requested_service]},
    )
    if stage_rules.stage_of(order) in stage_rules.REROUTE_STAGES:
        reroute(order, user=user, reason=f"service level changed ({reason_code})")
    return action


def intercept_request(order: Order, *, change: str, reason_code: str, note: str, user=None, data=None) -> list[str]:
    """Ask the carrier to stop (cancel) or redirect (address) shipped parcels. The caller holds the lock.
    logistics listens (logistics/voids.py); without a listener a person asks the carrier by hand."""
    replies = order_intercept_requested.send(
        sender=Order, order=order, user=user, reason=note, reason_code=reason_code, change=change, data=data or {}
    )
    done = [str(reply) for _receiver, reply in replies if reply]
    what = "stop the parcel" if change == ChangeKind.CANCEL else "redirect the parcel"
    order_event_record(
        order=order,
        kind=EventKind.INTERCEPT,
        user=user,
        message=f"Intercept requested ({what}) — {ChangeReason.describe(reason_code, note)}"
        + (". " + "; ".join(done) if done else ". Ask the carrier by hand."),
        data={"change": change, "reason_code": reason_code, "note": note, "handled": done, **(data or {})},
    )
    return done


@transaction.atomic
def order_cancel_request(*, order: Order, reason_code: str, note: str = "", user=None, source: str = "back office"):
    """Cancel by stage: before shipping the order is cancelled (off the pick list, stock released, labels
    voided); after shipping it becomes an intercept request; after delivery a return request.
    Returns ("cancelled" | "intercept" | "return", the order or the return request)."""
    order = _lock(order)
    if order.status == OrderStatus.PARTIALLY_SHIPPED:
        return _cancel_partly_shipped(order, reason_code=reason_code, note=note, user=user, source=source)
    action = _decide(order, ChangeKind.CANCEL, user, reason_code)
    text = f"{ChangeReason.describe(reason_code, note)} ({source})"
    if action in (ChangeAction.ALLOWED, ChangeAction.APPROVAL, ChangeAction.REROUTE):
        if action == ChangeAction.APPROVAL:
            text += f", approved by {user}"
        return "cancelled", order_cancel(order=order, reason=text, user=user, reason_code=reason_code)
    if action == ChangeAction.INTERCEPT:
        intercept_request(order, change=ChangeKind.CANCEL, reason_code=reason_code, note=note, user=user)
        return "intercept", order
    if action == ChangeAction.RETURN:
        return "return", _return_request(order, reason_code=reason_code, text=text, source=source, user=user)
    raise TransitionNotAllowed(f"Order {order.number}: cannot be cancelled now.")


def _return_request(order: Order, *, reason_code: str, text: str, source: str, user, only=None):
    """A return request for what is left to return (``only``: {order line id: quantity} caps it)."""
    from ..models import ReturnReason
    from ..returns import return_create, returnable_quantities  # returns imports this package

    lines = {pk: q for pk, q in returnable_quantities(order).items() if q > 0}
    if only is not None:
        lines = {pk: min(q, only.get(pk, 0)) for pk, q in lines.items() if only.get(pk, 0) > 0}
    if not lines:
        raise DomainError(f"Order {order.number}: everything is already being returned.")
    reason = ReturnReason.CHANGED_MIND if reason_code == ChangeReason.CUSTOMER_REQUEST else ReturnReason.OTHER
    return return_create(
        order=order,
        lines=lines,
        reason=reason,
        note=f"Cancellation after delivery: {text}"[:500],
        source=source,
        user=user,
    )


# Shipment statuses, read through the reverse relation (fulfillment sits above orders: no import).
_OPEN_SHIPMENT = {"packed": Stage.PACKED, "picking": Stage.PICKING, "reserved": Stage.ALLOCATED}


def _cancel_partly_shipped(order: Order, *, reason_code: str, note: str, user, source: str):
    """Some shipments have left, others not. Each part follows the stage rule of its own stage, all or
    nothing (every part is decided before anything changes):

    - the shipments not shipped yet: the rule of the furthest of them (packed, picking or allocated); when
      it allows the cancellation they are cancelled (stock released, off the pick list, labels voided,
      fulfillment through ``order_open_shipments_cancel``) and the order moves on to shipped/delivered;
    - the shipped ones: the rule of the shipped stage (intercept request; "allowed" or "approval" there
      also mean an intercept, a parcel cannot be un-shipped) or, when all of them are delivered, of the
      delivered stage (a return request for their lines).

    Returns ("partial", {"cancelled": [numbers], "shipped": [numbers], "outcome": "intercept"|"return",
    "return": the return request or None})."""
    try:
        stage_rules.check_reason_code(reason_code)
    except ChangeRefused as exc:
        raise TransitionNotAllowed(str(exc)) from None
    rows = list(order.shipments.exclude(status="cancelled").order_by("pk").values_list("number", "status"))
    open_rows = [(n, st) for n, st in rows if st in _OPEN_SHIPMENT]
    sent_rows = [(n, st) for n, st in rows if st not in _OPEN_SHIPMENT]
    open_stage = next((stage for st, stage in _OPEN_SHIPMENT.items() if any(s == st for _, s in open_rows)), None)
    delivered = bool(sent_rows) and all(st == "delivered" for _, st in sent_rows)
    sent_stage = Stage.DELIVERED if delivered else Stage.SHIPPED
    open_action = ChangeAction.ALLOWED
    try:
        if open_rows:
            furthest = next(n for n, st in open_rows if _OPEN_SHIPMENT[st] == open_stage)
            open_action = stage_rules.decide(
                order,
                ChangeKind.CANCEL,
                user,
                stage=open_stage,
                state=f"partly shipped and {furthest} is {dict(open_rows)[furthest]}",
            )
            if open_action not in (ChangeAction.ALLOWED, ChangeAction.APPROVAL, ChangeAction.REROUTE):
                raise ChangeRefused(f"Order {order.number}: the shipments not shipped yet cannot be cancelled now.")
        sent_action = stage_rules.decide(
            order,
            ChangeKind.CANCEL,
            user,
            stage=sent_stage,
            state=f"partly shipped ({', '.join(n for n, _ in sent_rows)} {'delivered' if delivered else 'shipped'})",
        )
    except ChangeRefused as exc:
        raise TransitionNotAllowed(str(exc)) from None
    text = f"{ChangeReason.describe(reason_code, note)} ({source})"
    cancelled: list[str] = []
    if open_rows:
        replies = order_open_shipments_cancel.send(sender=Order, order=order, user=user, reason=f"cancelled: {text}")
        cancelled = [number for _receiver, numbers in replies for number in (numbers or [])]
        order.refresh_from_db()
        _record(
            order,
            change=ChangeKind.CANCEL,
            action=open_action,
            reason_code=reason_code,
            note=note,
            user=user,
            message="Partly shipped: cancelled what had not shipped yet ("
            + (", ".join(cancelled) or "nothing")
            + f"); shipped: {', '.join(n for n, _ in sent_rows)}",
            changes={"cancelled": cancelled, "shipped": [n for n, _ in sent_rows]},
        )
    summary = {"cancelled": cancelled, "shipped": [n for n, _ in sent_rows], "return": None}
    if sent_action == ChangeAction.RETURN and delivered:
        # The shipped lines only: what was cancelled never left.
        shipped_lines: dict[int, int] = {}
        for line_id, qty in order.shipments.filter(status="delivered").values_list(
            "lines__order_line_id", "lines__quantity"
        ):
            if line_id:
                shipped_lines[line_id] = shipped_lines.get(line_id, 0) + qty
        summary["return"] = _return_request(
            order, reason_code=reason_code, text=text, source=source, user=user, only=shipped_lines
        )
        summary["outcome"] = "return"
    elif sent_action == ChangeAction.REFUSED:  # pragma: no cover - decide() raised already
        raise TransitionNotAllowed(f"Order {order.number}: cannot be cancelled now.")
    else:
        intercept_request(order, change=ChangeKind.CANCEL, reason_code=reason_code, note=note, user=user)
        summary["outcome"] = "intercept"
    return "partial", summary


def stage_summary(order: Order) -> list[dict]:
    """For the order page: what each change kind would do now."""
    stage = stage_rules.stage_of(order)
    table = stage_rules.rule_table()
    rows = []
    for change in ChangeKind:
        action = table.get((stage, change)) if stage else ChangeAction.REFUSED
        rows.append(
            {"change": change, "label": change.label, "action": action, "action_label": ChangeAction(action).label}
        )
    return rows


__all__ = [
    "Stage",
    "intercept_request",
    "order_cancel_request",
    "order_change_lines",
    "order_change_service",
    "reroute",
    "stage_summary",
]
