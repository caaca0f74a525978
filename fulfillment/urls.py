from django.urls import path

from . import floor_views, views

app_name = "fulfillment"

urlpatterns = [
    path("shipments/", views.ShipmentListView.as_view(), name="shipment_list"),
    path("shipments/<str:number>/", views.shipment_detail, name="shipment_detail"),
    path("shipments/<str:number>/pack/", views.shipment_pack, name="shipment_pack"),
    path("picklists/", views.PickListListView.as_view(), name="picklist_list"),
    path("picklists/new/", views.picklist_create, name="picklist_create"),
    path("picklists/<int:pk>/", views.picklist_detail, name="picklist_detail"),
    path("picklists/<int:pk>/pdf/", views.picklist_pdf_view, name="picklist_pdf"),
    path("waves/new/", floor_views.wave_create, name="wave_create"),
    path("shipments/<str:number>/picklist/", floor_views.shipment_picklist, name="shipment_picklist"),
    path("pack/", floor_views.pack_station, name="pack_station"),
    path("pack/<str:number>/", floor_views.pack_shipment_station, name="pack_shipment_station"),
    path("pack/<str:number>/scan/", floor_views.pack_scan, name="pack_scan"),
    path("pack/<str:number>/reset/", floor_views.pack_reset, name="pack_reset"),
    path("pack/<str:number>/short/", floor_views.pack_short, name="pack_short"),
]
