from django.urls import path

from . import views

app_name = "logistics"

urlpatterns = [
    path("parcels/", views.ParcelListView.as_view(), name="parcel_list"),
    path("parcels/<int:pk>/label/", views.parcel_label, name="parcel_label"),
    path("shipments/<str:number>/dispatch/", views.shipment_dispatch, name="shipment_dispatch"),
    path("tracking/record/", views.tracking_record, name="tracking_record"),
]
