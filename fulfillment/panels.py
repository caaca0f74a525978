"""The fulfillment panel on the order page (registered in apps.py)."""

from django.template.loader import render_to_string

from . import selectors


def order_shipments_panel(request, order) -> str:
    return render_to_string(
        "fulfillment/_order_shipments.html",
        {"shipments": selectors.shipments_for_order(order), "decision": selectors.latest_decision(order)},
        request=request,
    )
