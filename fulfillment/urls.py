from django.urls import path

from . import views

app_name = "fulfillment"

urlpatterns = [
    path("shipments/", views.ShipmentListView.as_view(), name="shipment_list"),
    path("shipments/<str:number>/", views.shipment_detail, name="shipment_detail"),
    path("shipments/<str:number>/pack/", views.shipment_pack, name="shipment_pack"),
    path("picklists/", views.PickListListView.as_view(), name="picklist_list"),
    path("picklists/new/", views.picklist_create, name="picklist_create"),
    path("picklists/<int:pk>/", views.picklist_detail, name="picklist_detail"),
    path("picklists/<int:pk>/pdf/", views.picklist_pdf_view, name="picklist_pdf"),
]
