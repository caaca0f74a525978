"""The fulfillment panel on the order page (registered in apps.py)."""

from django.template.loader import render_to_string

from oms.background import open_failures
from orders.status import OrderStatus

from . import selectors
from .routing import reroute_blocker
from .routing_views import RerouteForm


def order_shipments_panel(request, order) -> str:
    shipments = selectors.shipments_for_order(order)
    decision = selectors.latest_decision(order)
    context = {"order": order, "shipments": shipments, "decision": decision}
    context["candidates"] = selectors.decision_candidates(decision)
    # Routing (fulfillment/routing/): reroute and dry run for staff who may route, open backorders.
    context["backorders"] = order.backorders.filter(resolved_at__isnull=True).select_related("product")
    # Routing that never happened or failed (a lost or failed task): said here, with "Route now".
    live = [s for s in shipments if s.status != "cancelled"]
    # A presale order waiting for its day is not stuck: its own panel says when it is routed.
    waiting = order.status == OrderStatus.CONFIRMED and not order.on_hold and not order.presale_waiting
    if waiting and not live and not context["backorders"]:
        context["unrouted"] = True
        context["routing_failure"] = open_failures(subject=f"order:{order.pk}").first()
        context["can_route_now"] = request is not None and request.user.has_perm("orders.change_order")
    if request is not None and request.user.has_perm("fulfillment.route_orders"):
        context["can_route"] = True
        context["reroute_blocker"] = reroute_blocker(order)
        context["reroute_form"] = RerouteForm() if context["reroute_blocker"] is None else None
    return render_to_string("fulfillment/_order_shipments.html", context, request=request)
