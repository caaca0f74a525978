"""Confirmed orders that were never routed (a lost or failed ``route_order``): found, listed on the
Background work page and routed again by the sweep (oms/background.py). Registered in apps.py."""

from dataclasses import replace
from datetime import datetime

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from oms.background import Probe, StuckItem, open_failures, paused_subjects, register_probe, stuck_items
from orders.models import Order
from orders.selectors import merge_wait_condition

from .models import Backorder, Shipment, ShipmentStatus
from .tasks import route_orders

ROUTE_CHUNK = 250


def orders_unrouted(*, older_than: datetime):
    """Confirmed orders, not on hold, with no live shipment and no open backorder, last changed before
    ``older_than``: routing should have placed or held them by now."""
    live = Shipment.objects.filter(order=OuterRef("pk")).exclude(status=ShipmentStatus.CANCELLED)
    waiting = Backorder.objects.filter(order=OuterRef("pk"), resolved_at__isnull=True)
    queryset = (
        Order.objects.awaiting_allocation()
        .filter(updated_at__lt=older_than)
        .exclude(Exists(live))
        .exclude(Exists(waiting))
        .order_by("updated_at", "pk")
    )
    partner = merge_wait_condition()  # still waiting for a merge partner (自动合单): not stuck
    return queryset.exclude(partner) if partner is not None else queryset


def _find(cutoff: datetime, limit: int) -> tuple[int, list[StuckItem]]:
    count, items = stuck_items(
        orders_unrouted(older_than=cutoff),
        limit,
        ("pk", "number", "updated_at"),
        lambda pk, number, at: StuckItem(number, at, reverse("orders:order_detail", args=[number]), f"order:{pk}"),
    )
    subjects = [item.detail for item in items]  # the failure's subject, replaced by its error below
    errors = dict(open_failures().filter(subject__in=subjects).values_list("subject", "error"))
    return count, [replace(item, detail=errors.get(item.detail, "")) for item in items]


def _resend(cutoff: datetime) -> int:
    paused = {int(s.split(":", 1)[1]) for s in paused_subjects("order")}
    ids = [pk for pk in orders_unrouted(older_than=cutoff).values_list("pk", flat=True)[:5000] if pk not in paused]
    for start in range(0, len(ids), ROUTE_CHUNK):
        route_orders.delay(ids[start : start + ROUTE_CHUNK])
    return len(ids)


def register() -> None:
    register_probe(
        Probe(
            key="unrouted_orders",
            label=_("Confirmed orders never routed"),
            help=_("Routing should have placed each of these or put it on hold. The sweep routes them again."),
            find=_find,
            resend=_resend,
        )
    )
