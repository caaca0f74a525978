"""Change an order by stage: the address, the lines, the service level; and the re-route those changes need
before picking (orders/rules/stages.py says what each change may do at each stage).

Lock order: the order row (orders.services.order_lock) → the order's open shipments by id
(workflows.release: fulfillment cancels them, logistics voids labels) → stock rows by (location, product) →
for an intercept the shipped shipments by id and their parcels (workflows.intercept).

One transaction per action: orders checks the change against the stage rules and the order (nothing changes
when refused); before picking fulfillment releases the order's shipments and stock; orders applies the
change and writes its CHANGED / ADDRESS_CHANGED event; orders puts the order back to confirmed, classifies
it again and announces it ready, so routing runs after commit. After shipping an address change by a person
becomes an intercept (logistics flags the parcels, opens a case; orders writes the INTERCEPT event).
"""

from django.db import transaction

from orders.intake.canonical import CanonicalAddress
from orders.models import Order
from orders.rules.stages import REROUTE_STAGES, stage_of
from orders.services import (
    address_change_apply,
    address_change_plan,
    lines_change_apply,
    lines_change_check,
    order_lock,
    order_requeue,
    order_service_set,
    reroute_check,
)
from orders.status import ChangeAction, ChangeKind

from .intercept import intercept_request
from .release import shipments_release


def reroute(*, order: Order, user=None, reason: str) -> bool:
    """Before picking: release the order's shipments and stock, classify again, route again after commit.
    The caller holds the order's lock inside its transaction. Returns True when routing was asked to run."""
    reroute_check(order)
    shipments_release(order=order, user=user, reason=f"re-route: {reason}")
    return order_requeue(order, user=user, reason=reason)


@transaction.atomic
def order_change_address(
    *,
    order: Order,
    address: CanonicalAddress,
    user=None,
    source: str = "back office",
    reason: str = "",
    reason_code: str = "",
) -> dict:
    """Change the ship-to address as the stage rule table allows. Returns {field: [old, new]} (empty: no
    change, or an intercept was requested for a shipped order)."""
    order = order_lock(order.pk)
    plan = address_change_plan(order=order, address=address, user=user, source=source, reason_code=reason_code)
    if not plan.changes:
        return {}
    if plan.action == ChangeAction.INTERCEPT:
        intercept_request(
            order=order,
            change=ChangeKind.ADDRESS,
            reason_code=plan.reason_code,
            note=reason,
            user=user,
            data={"address": plan.new_address},
        )
        return {}
    changes = address_change_apply(order=order, address=address, plan=plan, user=user, source=source, reason=reason)
    if plan.action == ChangeAction.REROUTE:
        order.refresh_from_db()
        reroute(order=order, user=user, reason=f"address changed ({plan.reason_code})")
    return changes


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
    order = order_lock(order.pk)
    plan = lines_change_check(order=order, quantities=quantities, add=add, reason_code=reason_code, user=user)
    if plan.releases:
        # Release first: the cancelled shipments' lines must not hold on to the lines that go.
        shipments_release(order=order, user=user, reason=f"re-route: lines changed ({reason_code})")
    changes = lines_change_apply(order=order, plan=plan, reason_code=reason_code, note=note, user=user)
    if plan.stage in REROUTE_STAGES:
        reroute(order=order, user=user, reason=f"lines changed ({reason_code})")
    return changes


@transaction.atomic
def order_change_service(*, order: Order, requested_service: str, reason_code: str, note: str = "", user=None) -> str:
    """Change the requested service level; before picking the order is classified and routed again,
    later (with approval) the carrier is chosen again at dispatch. Returns the action taken."""
    order = order_lock(order.pk)
    action = order_service_set(
        order=order, requested_service=requested_service, reason_code=reason_code, note=note, user=user
    )
    if stage_of(order) in REROUTE_STAGES:
        reroute(order=order, user=user, reason=f"service level changed ({reason_code})")
    return action
