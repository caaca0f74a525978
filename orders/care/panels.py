"""The order page's panel of returns, messages and the rating (registered by OrdersConfig.ready)."""

from django.template.loader import render_to_string

from ..extensions import register_order_panel


def order_care_panel(request, order) -> str:
    user = getattr(request, "user", None)
    # The messages list shows where each went (e-mail, phone): only for roles that may see customers' messages.
    may_see_messages = bool(user and user.has_perm("orders.view_notification"))
    return render_to_string(
        "orders/_care_panel.html",
        {
            "order": order,
            "returns": order.returns.prefetch_related("lines__order_line"),
            "notifications": order.notifications.all()[:20] if may_see_messages else [],
            "rating": getattr(order, "rating", None) if hasattr(order, "rating") else None,
            "perms": getattr(request, "user", None) and request.user.get_all_permissions(),
        },
        request=request,
    )


def register_panels() -> None:
    register_order_panel(order_care_panel, position=60)
