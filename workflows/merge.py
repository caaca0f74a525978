"""Undo an automatic order merge (自动合单, orders/services/merge.py) while nothing is picked.

Lock order: the group's orders by id (orders.services.orders_lock) → their shipments (fulfillment.merge,
which locks the orders again and then the shipments) → the group row (orders.services.merge_group_dissolve).

One transaction: fulfillment takes each of the group's shipments out of the group's parcel
(``shipment_unmerge``: an UNMERGED event on both orders), then orders undoes the group (an ORDER_UNMERGED event
on each order; an order not yet routed is announced ready and routed on its own). Refused, changing nothing,
once a shipment of the group is on a pick list or further, or an order is past allocation.
"""

from django.db import transaction
from django.utils.translation import gettext

from fulfillment.merge import shipment_unmerge
from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from oms.errors import DomainError
from orders.models import OrderMergeGroup
from orders.selectors import merge_group_orders
from orders.services import merge_group_dissolve, orders_lock
from orders.status import ChangeReason, OrderStatus

UNDOABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.ALLOCATED, OrderStatus.CANCELLED})


@transaction.atomic
def order_merge_undo(*, group: OrderMergeGroup, user=None, note: str = "") -> list:
    """Split the merge group again (see the module docstring). Returns its orders."""
    if group.undone_at is not None:
        raise DomainError(gettext("Merge group %(group)s is already undone.") % {"group": group.number})
    orders = merge_group_orders(group)
    locked = orders_lock([o.pk for o in orders])
    for order in locked.values():
        if order.status not in UNDOABLE:
            raise DomainError(
                gettext("Order %(order)s is %(status)s: a merge can only be undone before picking.")
                % {"order": order.number, "status": order.get_status_display()}
            )
    shipments = list(
        Shipment.objects.filter(order_id__in=list(locked)).exclude(status=ShipmentStatus.CANCELLED).order_by("pk")
    )
    for s in shipments:
        if s.status != ShipmentStatus.RESERVED or s.picklist_id:
            raise DomainError(
                gettext("Shipment %(number)s is already being picked: a merge can only be undone before picking.")
                % {"number": s.number}
            )
    ours = {s.pk for s in shipments}
    for s in shipments:
        if s.merged_into_id in ours:
            shipment_unmerge(shipment=s, user=user, reason_code=ChangeReason.OTHER, note=note or "merge undone")
    return merge_group_dissolve(group=group, user=user, note=note)
