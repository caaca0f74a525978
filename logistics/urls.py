from django.urls import path

from . import dispatch_views, self_service, views
from .cases import views as case_views

app_name = "logistics"

# A case's address correction (it may re-route the order) is routed by workflows/urls/logistics.py.

urlpatterns = [
    path("parcels/", views.ParcelListView.as_view(), name="parcel_list"),
    path("parcels/<int:pk>/label/", views.parcel_label, name="parcel_label"),
    path("shipments/<str:number>/dispatch/", views.shipment_dispatch, name="shipment_dispatch"),
    path("tracking/record/", views.tracking_record, name="tracking_record"),
    path("returns/<str:number>/label.pdf", self_service.return_label, name="return_label"),
    path("parcels/<int:pk>/label.zpl", dispatch_views.parcel_label_zpl, name="parcel_label_zpl"),
    path("pack/<str:number>/ship/", dispatch_views.pack_and_ship, name="pack_and_ship"),
    path("shipments/<str:number>/ship-external/", dispatch_views.ship_external, name="ship_external"),
    path("shipments/<str:number>/service/", dispatch_views.service_override, name="service_override"),
    path("picklists/<int:pk>/labels/", dispatch_views.wave_labels, name="wave_labels"),
    path("manifests/", dispatch_views.manifest_list, name="manifest_list"),
    path("manifests/close/", dispatch_views.manifest_close, name="manifest_close"),
    path("manifests/<int:pk>/pdf/", dispatch_views.manifest_pdf, name="manifest_pdf"),
    path("manifests/<int:pk>/csv/", dispatch_views.manifest_csv, name="manifest_csv"),
    path("rate-cards/import/", dispatch_views.ratecard_import, name="ratecard_import"),
    # Exception cases and the knowledge base (logistics/cases/)
    path("cases/", case_views.CaseListView.as_view(), name="case_list"),
    path("cases/scan/", case_views.case_scan, name="case_scan"),
    path("cases/open/<str:order_number>/", case_views.case_open, name="case_open"),
    path("cases/claims/<int:pk>/", case_views.claim_update, name="claim_update"),
    path("cases/claims/<int:pk>/evidence/", case_views.claim_evidence_upload, name="claim_evidence_upload"),
    path("cases/evidence/<int:pk>/", case_views.claim_evidence_download, name="claim_evidence_download"),
    path("cases/<str:number>/", case_views.case_detail, name="case_detail"),
    path("cases/<str:number>/assign/", case_views.case_assign, name="case_assign"),
    path("cases/<str:number>/status/", case_views.case_status, name="case_status"),
    path("cases/<str:number>/resolve/", case_views.case_resolve, name="case_resolve"),
    path("cases/<str:number>/reship/", case_views.case_reship, name="case_reship"),
    path("cases/<str:number>/refund/", case_views.case_refund, name="case_refund"),
    path("cases/<str:number>/claim/", case_views.case_claim, name="case_claim"),
    path("cases/<str:number>/compensate/", case_views.case_compensate, name="case_compensate"),
    path("cases/<str:number>/redelivery/", case_views.case_redelivery, name="case_redelivery"),
    path("cases/<str:number>/contact/", case_views.case_contact, name="case_contact"),
    path("cases/<str:number>/note/", case_views.case_note, name="case_note"),
    path("playbooks/", case_views.playbook_list, name="playbook_list"),
    path("playbooks/<slug:case_type>/", case_views.playbook_detail, name="playbook_detail"),
]
