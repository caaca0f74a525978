"""What may change at each stage of an order: the stage rule table.

A cell is (stage, change kind) -> action. ``DEFAULTS`` below are the shipped rules; staff override single
cells in the back office (``orders.StageRule`` rows, the "Change rules" page); a cell without a row uses
the default. The steps that change an order (orders.services.stage_changes and changes, used by the
workflow actions in workflows/) ask ``decide`` first, under the order's lock, so every page and the
channel updates obey the same table.

Actions:
- ``allowed``: applied as asked;
- ``reroute``: applied, then the order's shipments and stock are released, the order is classified again
  and routed again (only before picking);
- ``approval``: applied only by a user with ``orders.approve_change``; refused for everybody else
  (customers on the tracking page, channel updates);
- ``intercept``: the parcel has left: a cancellation becomes an intercept request to the carrier;
- ``return``: delivered: a cancellation becomes a return request (orders.care.returns);
- ``refused``: not possible at this stage; the message says so.
"""

from __future__ import annotations

from django.utils.translation import gettext

from ..models import Order, StageRule
from ..status import ChangeAction, ChangeKind, ChangeReason, OrderStatus, Stage

A, C, S = ChangeAction, ChangeKind, Stage

DEFAULTS: dict[tuple[str, str], str] = {
    # Nothing is reserved yet: change anything.
    (S.RECEIVED, C.ADDRESS): A.ALLOWED,
    (S.RECEIVED, C.LINES): A.ALLOWED,
    (S.RECEIVED, C.SERVICE): A.ALLOWED,
    (S.RECEIVED, C.CANCEL): A.ALLOWED,
    (S.CONFIRMED, C.ADDRESS): A.ALLOWED,
    (S.CONFIRMED, C.LINES): A.ALLOWED,
    (S.CONFIRMED, C.SERVICE): A.ALLOWED,
    (S.CONFIRMED, C.CANCEL): A.ALLOWED,
    # Stock reserved at a location, not picked: the nearest location may differ now.
    (S.ALLOCATED, C.ADDRESS): A.REROUTE,
    (S.ALLOCATED, C.LINES): A.REROUTE,
    (S.ALLOCATED, C.SERVICE): A.REROUTE,
    (S.ALLOCATED, C.CANCEL): A.ALLOWED,
    # On a pick list: the label is made at dispatch, so the address may still change; lines may not.
    (S.PICKING, C.ADDRESS): A.ALLOWED,
    (S.PICKING, C.LINES): A.REFUSED,
    (S.PICKING, C.SERVICE): A.APPROVAL,
    (S.PICKING, C.CANCEL): A.ALLOWED,
    # Packed and weighed: the parcel is closed.
    (S.PACKED, C.ADDRESS): A.APPROVAL,
    (S.PACKED, C.LINES): A.REFUSED,
    (S.PACKED, C.SERVICE): A.APPROVAL,
    (S.PACKED, C.CANCEL): A.APPROVAL,
    # With the carrier.
    (S.SHIPPED, C.ADDRESS): A.INTERCEPT,
    (S.SHIPPED, C.LINES): A.REFUSED,
    (S.SHIPPED, C.SERVICE): A.REFUSED,
    (S.SHIPPED, C.CANCEL): A.INTERCEPT,
    (S.DELIVERED, C.ADDRESS): A.REFUSED,
    (S.DELIVERED, C.LINES): A.REFUSED,
    (S.DELIVERED, C.SERVICE): A.REFUSED,
    (S.DELIVERED, C.CANCEL): A.RETURN,
}

# Which actions make sense for which change (the back-office form offers only these).
ACTIONS_FOR: dict[str, tuple[str, ...]] = {
    C.ADDRESS: (A.ALLOWED, A.REROUTE, A.APPROVAL, A.INTERCEPT, A.REFUSED),
    C.LINES: (A.ALLOWED, A.REROUTE, A.APPROVAL, A.REFUSED),
    C.SERVICE: (A.ALLOWED, A.REROUTE, A.APPROVAL, A.REFUSED),
    C.CANCEL: (A.ALLOWED, A.APPROVAL, A.INTERCEPT, A.RETURN, A.REFUSED),
}
# Re-routing is only possible while nothing is picked.
REROUTE_STAGES = frozenset({S.RECEIVED, S.CONFIRMED, S.ALLOCATED})

_STAGE_OF_STATUS = {
    OrderStatus.RECEIVED: S.RECEIVED,
    OrderStatus.CONFIRMED: S.CONFIRMED,
    OrderStatus.ALLOCATED: S.ALLOCATED,
    OrderStatus.PICKING: S.PICKING,
    OrderStatus.PACKED: S.PACKED,
    OrderStatus.PARTIALLY_SHIPPED: S.SHIPPED,
    OrderStatus.SHIPPED: S.SHIPPED,
    OrderStatus.DELIVERED: S.DELIVERED,
}


class ChangeRefused(Exception):
    """Internal: carries the refusal text; services turn it into TransitionNotAllowed."""


def stage_of(order: Order) -> str | None:
    """The order's stage, or None for a cancelled order (nothing changes any more)."""
    return _STAGE_OF_STATUS.get(order.status)


def rule_table() -> dict[tuple[str, str], str]:
    """Every cell: the defaults with the back office's rows laid over them."""
    table = dict(DEFAULTS)
    for stage, change, action in StageRule.objects.values_list("stage", "change", "action"):
        table[(stage, change)] = action
    return table


def action_for(stage: str, change: str) -> str:
    row = StageRule.objects.filter(stage=stage, change=change).values_list("action", flat=True).first()
    return row or DEFAULTS[(stage, change)]


def can_approve(user) -> bool:
    return user is not None and user.is_authenticated and user.has_perm("orders.approve_change")


def decide(order: Order, change: str, user=None, *, stage: str | None = None, state: str = "") -> str:
    """The action for this change of this order now, or raises ``ChangeRefused`` with a clear message.

    ``approval`` comes back as ``approval`` only for a user who may approve; otherwise it is refused.
    ``stage`` asks for one part of the order (a partly shipped order: the stage of the shipments not
    shipped yet, then of the shipped ones); ``state`` then says what that part is, for the message.
    """
    stage = stage or stage_of(order)
    what = ChangeKind(change).label.lower()
    if stage is None:
        raise ChangeRefused(
            gettext("Order %(order_number)s is %(status)s: nothing can change any more.")
            % {"order_number": order.number, "status": order.get_status_display()}
        )
    state = state or order.get_status_display()
    action = action_for(stage, change)
    if action == A.REROUTE and stage not in REROUTE_STAGES:
        action = A.APPROVAL  # a stored rule cannot re-route picked goods
    staff = user is not None and getattr(user, "is_authenticated", False)
    if action == A.REFUSED or (action == A.APPROVAL and not staff):  # customers and channels: simply refused
        raise ChangeRefused(
            (
                gettext("Order %(order_number)s is %(state)s: the %(what)s can no longer be changed.")
                if change != C.CANCEL
                else gettext("Order %(order_number)s is %(state)s and can no longer be cancelled.")
            )
            % {"order_number": order.number, "state": state, "what": what}
        )
    if action == A.APPROVAL and not can_approve(user):
        raise ChangeRefused(
            (
                gettext("Order %(order_number)s is %(state)s: changing the %(what)s needs a manager's approval.")
                if change != C.CANCEL
                else gettext("Order %(order_number)s is %(state)s: cancelling it needs a manager's approval.")
            )
            % {"order_number": order.number, "state": state, "what": what}
        )
    return action


def check_reason_code(code: str) -> str:
    if code not in ChangeReason.values:
        raise ChangeRefused(gettext("Choose a reason code (%(codes)s).") % {"codes": ", ".join(ChangeReason.values)})
    return code


def rule_set(*, stage: str, change: str, action: str, note: str = "", user=None) -> StageRule | None:
    """Set one cell; setting it back to the default deletes the row. Raises ValueError on a bad cell."""
    if stage not in Stage.values or change not in ChangeKind.values:
        raise ValueError(f"Unknown cell {stage}/{change}.")
    if action not in ACTIONS_FOR[change]:
        raise ValueError(
            f"{ChangeAction(action).label if action in ChangeAction.values else action!r} is not "
            f"possible for {ChangeKind(change).label.lower()}."
        )
    if action == A.REROUTE and stage not in REROUTE_STAGES:
        raise ValueError("Re-routing is possible only before picking.")
    if action == DEFAULTS[(stage, change)] and not note:
        StageRule.objects.filter(stage=stage, change=change).delete()
        return None
    row, _ = StageRule.objects.update_or_create(
        stage=stage, change=change, defaults={"action": action, "note": note[:200], "updated_by": user}
    )
    return row
