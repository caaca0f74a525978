"""The order page's panel of returns, messages and the rating (registered by OrdersConfig.ready)."""

from django.template.loader import render_to_string

from .extensions import register_order_panel


def order_care_panel(request, order) -> str:
    return render_to_string(
        "orders/_care_panel.html",
        {
            "order": order,
            "returns": order.returns.prefetch_related("lines__order_line"),
            "notifications": order.notifications.all()[:20],
            "rating": getattr(order, "rating", None) if hasattr(order, "rating") else None,
            "perms": getattr(request, "user", None) and request.user.get_all_permissions(),
        },
        request=request,
    )


def register_panels() -> None:
    register_order_panel(order_care_panel, position=60)
