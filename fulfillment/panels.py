"""The fulfillment panel on the order page (registered in apps.py)."""

from django.template.loader import render_to_string

from . import selectors


def order_shipments_panel(request, order) -> str:
    shipments = selectors.shipments_for_order(order)
    context = {"order": order, "shipments": shipments, "decision": selectors.latest_decision(order)}
    # Routing (fulfillment/routing/): reroute and dry run for staff who may route, open backorders.
    context["backorders"] = order.backorders.filter(resolved_at__isnull=True).select_related("product")
    if request is not None and request.user.has_perm("fulfillment.route_orders"):
        from .routing import reroute_blocker
        from .routing_views import RerouteForm

        context["can_route"] = True
        context["reroute_blocker"] = reroute_blocker(order)
        context["reroute_form"] = RerouteForm() if context["reroute_blocker"] is None else None
    return render_to_string("fulfillment/_order_shipments.html", context, request=request)
