from django.urls import path

from ..views import api, gifts

urlpatterns = [
    path("orders/", api.orders_collection, name="api_orders"),
    path("orders/batch/", api.orders_batch, name="api_orders_batch"),
    path("orders/<str:number>/", api.order_resource, name="api_order"),
    path("inbound/<int:pk>/", api.inbound_resource, name="api_inbound"),
    path("gift-rules/", gifts.gift_rules_collection, name="api_gift_rules"),
]
