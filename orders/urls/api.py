from django.urls import path

from ..views import api, presale_api

urlpatterns = [
    path("orders/", api.orders_collection, name="api_orders"),
    path("orders/batch/", api.orders_batch, name="api_orders_batch"),
    path("orders/<str:number>/", api.order_resource, name="api_order"),
    path("inbound/<int:pk>/", api.inbound_resource, name="api_inbound"),
    path("presale/", presale_api.presale_resource, name="api_presale"),
]
