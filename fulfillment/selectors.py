"""Reads of shipments, pick lists and routing decisions."""

from datetime import timedelta

from django.db.models import Count, F, QuerySet

from orders.models import Order

from .models import PickList, RoutingDecision, Shipment
from .routing import explanation
from .status import ShipmentStatus


def shipment_list() -> QuerySet[Shipment]:
    return Shipment.objects.select_related("order", "location")


def shipments_for_order(order) -> QuerySet[Shipment]:
    return order.shipments.select_related("location").prefetch_related("lines__product", "parcels__service__carrier")


def latest_decision(order) -> RoutingDecision | None:
    return order.routing_decisions.select_related("chosen").first()


def decision_candidates(decision: RoutingDecision | None) -> list[dict]:
    """Every candidate of a decision as a row in words (``routing.explanation.rows``); the orders a routing
    window's explanation names are read in one query."""
    if decision is None:
        return []
    ids = explanation.order_ids(decision.candidates)
    numbers = dict(Order.objects.filter(pk__in=ids).values_list("pk", "number")) if ids else {}
    return explanation.rows(decision.candidates, numbers)


def picklist_list() -> QuerySet[PickList]:
    return PickList.objects.select_related("location", "created_by").annotate(shipment_count=Count("shipments"))


def ready_counts_by_location() -> dict[int, int]:
    rows = (
        Shipment.objects.ready_to_pick().values("location_id").annotate(n=Count("id")).values_list("location_id", "n")
    )
    return dict(rows)


# The one order of the ready-to-pick queue (pick lists, waves, the queue page): priority (1 first), then
# the promise date (none last), then the oldest.
PICK_ORDER = ("order__priority", F("order__promise_date").asc(nulls_last=True), "created_at", "pk")


def ready_queue(location) -> QuerySet[Shipment]:
    return Shipment.objects.ready_to_pick().filter(location=location).select_related("order").order_by(*PICK_ORDER)


def late_shipments(now) -> QuerySet[Shipment]:
    """Shipments reserved or picking for more than a day."""
    return Shipment.objects.filter(
        status__in=[ShipmentStatus.RESERVED, ShipmentStatus.PICKING, ShipmentStatus.PACKED],
        created_at__lt=now - timedelta(days=1),
    ).select_related("order", "location")
