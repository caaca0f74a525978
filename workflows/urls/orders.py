"""``orders:`` — the order page's cancel and change-by-stage verbs, then orders' own patterns."""

from types import SimpleNamespace

from django.urls import path

from orders.urls import urlpatterns as orders_urlpatterns
from orders.views import finance as finance_views
from orders.views import merge as merge_views
from orders.views import orders as views
from orders.views import stage_rules as stage_rule_views

from ..cancel import order_cancel, order_cancel_request, order_finance_reject
from ..changes import order_change_address, order_change_lines, order_change_service
from ..merge import order_merge_undo

app_name = "orders"

CHANGE_ACTIONS = SimpleNamespace(
    order_cancel_request=order_cancel_request,
    order_change_address=order_change_address,
    order_change_lines=order_change_lines,
    order_change_service=order_change_service,
)

urlpatterns = [
    path("<str:number>/cancel/", views.order_cancel, {"cancel": order_cancel}, name="order_cancel"),
    path(
        "<str:number>/finance-reject/",
        finance_views.finance_reject,
        {"reject": order_finance_reject},
        name="finance_reject",
    ),
    path(
        "<str:number>/change/<str:change>/",
        stage_rule_views.order_change_apply,
        {"actions": CHANGE_ACTIONS},
        name="order_change_apply",
    ),
    path("<str:number>/merge/undo/", merge_views.order_merge_undo, {"undo": order_merge_undo}, name="order_merge_undo"),
    *orders_urlpatterns,
]
