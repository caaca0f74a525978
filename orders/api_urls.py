from django.urls import path

from . import api

urlpatterns = [
    path("orders/", api.orders_collection, name="api_orders"),
    path("orders/<str:number>/", api.order_resource, name="api_order"),
]
