from django.urls import path

from . import api

urlpatterns = [
    path("shipments/<str:number>/ship-external/", api.shipment_ship_external, name="api_shipment_ship_external"),
]
