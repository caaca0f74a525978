"""Changes and cancellation by stage, the order-local steps: each asks the stage rule table
(orders.rules.stages.decide) what this change may do now, applies the order's own part, and writes one
event with the reason code. The caller holds the order's lock.

The cross-app verbs that use these steps (release shipments and stock, void labels, open intercept cases,
route again) are the workflow actions in ``workflows/`` (workflows.changes, workflows.cancel,
workflows.partial_cancel, workflows.intercept): orders does not reach upward.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError, TransitionNotAllowed

from ..models import Order, OrderLine
from ..rules import stages as stage_rules
from ..rules.stages import ChangeRefused
from ..selectors import products_for_channel
from ..status import ChangeAction, ChangeKind, ChangeReason, EventKind, OrderStatus, Stage
from ..wording import msg, msg_list
from .core import order_announce_ready, order_classify, order_event_record, order_status_set
from .gifts import order_gifts_reapply

SERVICE_LEVELS = ("", "express", "standard", "economy")


def change_decide(order: Order, change: str, user, reason_code: str) -> str:
    """What the stage rule table lets ``change`` do to ``order`` now (a ChangeAction); raises
    TransitionNotAllowed when refused or the reason code is unknown."""
    try:
        stage_rules.check_reason_code(reason_code)
        return stage_rules.decide(order, change, user)
    except ChangeRefused as exc:
        raise TransitionNotAllowed(str(exc)) from None


def has_active_shipments(order: Order) -> bool:
    # A query through the reverse relation (fulfillment sits above orders): not an import.
    return order.shipments.exclude(status="cancelled").exists()


def reroute_check(order: Order) -> None:
    """Raise when the order is past the stages in which a change routes it again."""
    if stage_rules.stage_of(order) not in stage_rules.REROUTE_STAGES:
        raise TransitionNotAllowed(
            gettext("Order %(order_number)s is %(order_status)s: too late to re-route.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )


def order_requeue(order: Order, *, user=None, reason: str) -> bool:
    """The order's part of a re-route, after fulfillment released its shipments and stock: back to
    confirmed, classified again and announced ready (routing runs again after commit). The caller holds the
    lock. Returns True when routing was asked to run again."""
    if order.status == OrderStatus.ALLOCATED:
        order_status_set(order, OrderStatus.CONFIRMED, user=user, note=f"re-route: {reason}")
    order_gifts_reapply(order, user=user, why=reason)  # only for an order never routed (services/gifts.py)
    order_classify(order, user=user)
    order.refresh_from_db()
    if order.status == OrderStatus.CONFIRMED and not order.on_hold:
        order_announce_ready(order)
        return True
    return False


def _record(order: Order, *, change: str, action: str, reason_code: str, note: str, message: str, user, **data):
    order_event_record(
        order=order,
        kind=EventKind.CHANGED,
        user=user,
        message=msg(
            gettext_noop("%(change)s — %(reason)s"), change=message, reason=ChangeReason.describe(reason_code, note)
        ),
        data={
            "change": change,
            "action": action,
            "stage": stage_rules.stage_of(order) or "",
            "reason_code": reason_code,
            "note": note,
            **data,
        },
    )


@dataclass
class LinesPlan:
    """A checked change of an order's lines (``lines_change_check``), applied by ``lines_change_apply``."""

    action: str
    stage: str
    quantities: dict[int, int]
    add: list[tuple[str, int]]
    lines: dict
    products: dict
    changes: dict[str, list[int]] = field(default_factory=dict)
    active: bool = False  # the order has shipments that are not cancelled

    @property
    def releases(self) -> bool:
        """True when the order's shipments must be released first (a re-route, or shipments still open)."""
        return self.action == ChangeAction.REROUTE or self.active


def lines_change_check(
    *,
    order: Order,
    quantities: dict[int, int] | None = None,
    add: list[tuple[str, int]] | None = None,
    reason_code: str,
    user=None,
) -> LinesPlan:
    """Check a change of line quantities ({order line id: new quantity}, 0 removes the line) and added
    lines ([(sku, quantity)]) against the stage rules and the order; changes nothing."""
    action = change_decide(order, ChangeKind.LINES, user, reason_code)
    stage = stage_rules.stage_of(order)
    active = has_active_shipments(order)
    if active and stage not in stage_rules.REROUTE_STAGES:
        raise TransitionNotAllowed(
            gettext("Order %(order_number)s: picked goods cannot change; cancel the order instead.")
            % {"order_number": order.number}
        )
    lines = {line.pk: line for line in order.lines.select_related("product")}
    quantities = quantities or {}
    add = [(sku.strip(), qty) for sku, qty in (add or []) if sku and sku.strip()]
    changes: dict[str, list[int]] = {}
    for line_id, qty in quantities.items():
        line = lines.get(int(line_id))
        if line is None:
            raise DomainError(
                gettext("Order %(order_number)s has no line %(line_id)s.")
                % {"order_number": order.number, "line_id": line_id}
            )
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise DomainError(
                gettext("%(line_sku)s: the quantity must be a whole number, 0 or more.") % {"line_sku": line.sku}
            )
        if qty != line.quantity:
            changes[line.sku] = [line.quantity, qty]
    products = products_for_channel(order.channel, {sku for sku, _ in add})
    for sku, qty in add:
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise DomainError(gettext("%(sku)s: the quantity to add must be more than zero.") % {"sku": sku})
        if products.get(sku) is None:
            raise DomainError(gettext("Unknown SKU %(sku)s: map it or add the product first.") % {"sku": sku})
    remaining = sum(q for pk, line in lines.items() for q in [quantities.get(pk, line.quantity)]) + sum(
        q for _, q in add
    )
    if not changes and not add:
        raise DomainError(gettext("Nothing to change."))
    if remaining <= 0:
        raise DomainError(
            gettext("Order %(order_number)s would have no lines left: cancel it instead.")
            % {"order_number": order.number}
        )
    return LinesPlan(
        action=action,
        stage=stage,
        quantities=quantities,
        add=add,
        lines=lines,
        products=products,
        changes=changes,
        active=active,
    )


def lines_change_apply(*, order: Order, plan: LinesPlan, reason_code: str, note: str = "", user=None) -> dict:
    """Apply a checked line change (after fulfillment released the shipments when ``plan.releases``) and
    write its event. Returns {sku: [old, new]}."""
    quantities, lines, changes = plan.quantities, plan.lines, dict(plan.changes)
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
                raise DomainError(gettext("%(line_sku)s is on a shipment that is still open.") % {"line_sku": line.sku})
            line.delete()
        else:
            line.quantity = qty
            line.save(update_fields=["quantity"])
    next_no = max((line.line_no for line in lines.values()), default=0)
    by_sku = {line.sku: line for line in order.lines.all()}
    for sku, qty in plan.add:
        product = plan.products[sku]
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
        action=plan.action,
        reason_code=reason_code,
        note=note,
        user=user,
        message=msg(
            gettext_noop("Lines changed: %(changes)s"),
            changes=", ".join(f"{sku} {old}→{new}" for sku, (old, new) in sorted(changes.items())),
        ),
        changes=changes,
    )
    return changes


def order_service_set(*, order: Order, requested_service: str, reason_code: str, note: str = "", user=None) -> str:
    """The order's part of a service level change (the caller holds the lock; before picking
    workflows.changes.order_change_service routes the order again). Returns the action taken."""
    requested_service = (requested_service or "").strip()
    if requested_service not in SERVICE_LEVELS:
        raise DomainError(
            gettext("Unknown service level %(requested_service)r; use express, standard or economy.")
            % {"requested_service": requested_service}
        )
    if requested_service == order.requested_service:
        raise DomainError(gettext("The order already asks for that service level."))
    action = change_decide(order, ChangeKind.SERVICE, user, reason_code)
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
        message=msg(
            gettext_noop("Service level %(old)s → %(new)s"),
            old=old or msg(gettext_noop("any")),
            new=requested_service or msg(gettext_noop("any")),
        ),
        changes={"requested_service": [old, requested_service]},
    )
    return action


def intercept_record(
    order: Order, *, change: str, reason_code: str, note: str, done: list[str], user=None, data=None
) -> None:
    """The order's event for an intercept request; ``done`` is what logistics did (empty: nobody could, a
    person asks the carrier by hand). workflows.intercept.intercept_request is the verb."""
    what = (
        msg(gettext_noop("stop the parcel"))
        if change == ChangeKind.CANCEL
        else msg(gettext_noop("redirect the parcel"))
    )
    reason = ChangeReason.describe(reason_code, note)
    order_event_record(
        order=order,
        kind=EventKind.INTERCEPT,
        user=user,
        message=(
            msg(
                gettext_noop("Intercept requested (%(what)s) — %(reason)s. %(done)s"),
                what=what,
                reason=reason,
                done=msg_list(done, "; "),
            )
            if done
            else msg(
                gettext_noop("Intercept requested (%(what)s) — %(reason)s. Ask the carrier by hand."),
                what=what,
                reason=reason,
            )
        ),
        data={"change": change, "reason_code": reason_code, "note": note, "handled": done, **(data or {})},
    )


def cancel_text(*, reason_code: str, note: str, source: str) -> str:
    return msg(gettext_noop("%(reason)s (%(source)s)"), reason=ChangeReason.describe(reason_code, note), source=source)


# Shipment statuses, read through the reverse relation (fulfillment sits above orders: no import).
_OPEN_SHIPMENT = {"packed": Stage.PACKED, "picking": Stage.PICKING, "reserved": Stage.ALLOCATED}


@dataclass
class PartialCancelPlan:
    """How a partly shipped order's cancellation goes (``partial_cancel_plan``): every part decided first."""

    open_rows: list[tuple[str, str]]  # (shipment number, status) not shipped yet
    sent_rows: list[tuple[str, str]]  # shipped or delivered
    open_action: str
    sent_action: str
    delivered: bool
    text: str

    @property
    def shipped(self) -> list[str]:
        return [n for n, _ in self.sent_rows]


def partial_cancel_plan(order: Order, *, reason_code: str, note: str, user, source: str) -> PartialCancelPlan:
    """Some shipments have left, others not. Each part follows the stage rule of its own stage, all or
    nothing (every part is decided here, before anything changes):

    - the shipments not shipped yet: the rule of the furthest of them (packed, picking or allocated); when
      it allows the cancellation they are cancelled and the order moves on to shipped/delivered;
    - the shipped ones: the rule of the shipped stage (intercept request; "allowed" or "approval" there
      also mean an intercept, a parcel cannot be un-shipped) or, when all of them are delivered, of the
      delivered stage (a return request for their lines).

    Raises TransitionNotAllowed when a part is refused; changes nothing."""
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
                state=gettext("partly shipped and %(shipment)s is %(stage)s")
                % {"shipment": furthest, "stage": str(_OPEN_SHIPMENT[dict(open_rows)[furthest]].label).lower()},
            )
            if open_action not in (ChangeAction.ALLOWED, ChangeAction.APPROVAL, ChangeAction.REROUTE):
                raise ChangeRefused(
                    gettext("Order %(order_number)s: the shipments not shipped yet cannot be cancelled now.")
                    % {"order_number": order.number}
                )
        sent_action = stage_rules.decide(
            order,
            ChangeKind.CANCEL,
            user,
            stage=sent_stage,
            state=(
                gettext("partly shipped (%(shipments)s delivered)")
                if delivered
                else gettext("partly shipped (%(shipments)s shipped)")
            )
            % {"shipments": ", ".join(n for n, _ in sent_rows)},
        )
    except ChangeRefused as exc:
        raise TransitionNotAllowed(str(exc)) from None
    if sent_action == ChangeAction.REFUSED:  # pragma: no cover - decide() raised already
        raise TransitionNotAllowed(
            gettext("Order %(order_number)s: cannot be cancelled now.") % {"order_number": order.number}
        )
    return PartialCancelPlan(
        open_rows=open_rows,
        sent_rows=sent_rows,
        open_action=open_action,
        sent_action=sent_action,
        delivered=delivered,
        text=cancel_text(reason_code=reason_code, note=note, source=source),
    )


def partial_cancel_record(
    order: Order, *, plan: PartialCancelPlan, cancelled: list[str], reason_code: str, note: str, user
) -> None:
    """The order's event for the cancelled part of a partly shipped order."""
    _record(
        order,
        change=ChangeKind.CANCEL,
        action=plan.open_action,
        reason_code=reason_code,
        note=note,
        user=user,
        message=msg(
            gettext_noop("Partly shipped: cancelled what had not shipped yet (%(cancelled)s); shipped: %(shipped)s"),
            cancelled=", ".join(cancelled) or msg(gettext_noop("nothing")),
            shipped=", ".join(plan.shipped),
        ),
        changes={"cancelled": cancelled, "shipped": plan.shipped},
    )


def delivered_lines(order: Order) -> dict[int, int]:
    """{order line id: quantity} on the order's delivered shipments (what a return may cover)."""
    shipped_lines: dict[int, int] = {}
    for line_id, qty in order.shipments.filter(status="delivered").values_list(
        "lines__order_line_id", "lines__quantity"
    ):
        if line_id:
            shipped_lines[line_id] = shipped_lines.get(line_id, 0) + qty
    return shipped_lines


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
    "LinesPlan",
    "PartialCancelPlan",
    "Stage",
    "cancel_text",
    "change_decide",
    "delivered_lines",
    "has_active_shipments",
    "intercept_record",
    "lines_change_apply",
    "lines_change_check",
    "order_requeue",
    "order_service_set",
    "partial_cancel_plan",
    "partial_cancel_record",
    "reroute_check",
    "stage_summary",
]
