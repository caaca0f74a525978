"""``/api/v1/`` verbs that are workflow actions (their views live with the app's API, given the action by the
URL): an order's merge group undone (自动合单), a finance review rejection (财审)."""

from django.urls import path

from orders.views import api_finance_review
from orders.views import merge as merge_views

from ..cancel import order_finance_reject
from ..merge import order_merge_undo

urlpatterns = [
    path(
        "orders/<str:number>/merge/undo/",
        merge_views.api_order_merge_undo,
        {"undo": order_merge_undo},
        name="api_order_merge_undo",
    ),
    path(
        "orders/<str:number>/finance/reject/",
        api_finance_review.finance_reject,
        {"reject": order_finance_reject},
        name="api_finance_reject",
    ),
]
