from django.urls import path

from . import floor_views, merge_views, routing_views, views

app_name = "fulfillment"

urlpatterns = [
    path("shipments/", views.ShipmentListView.as_view(), name="shipment_list"),
    path("shipments/merge/", merge_views.merge_suggestions, name="merge_suggestions"),
    path("shipments/merge/new/", merge_views.merge_create, name="merge_create"),
    path("shipments/<str:number>/", views.shipment_detail, name="shipment_detail"),
    path("shipments/<str:number>/unmerge/", merge_views.merge_undo, name="merge_undo"),
    path("shipments/<str:number>/split/", merge_views.shipment_split, name="shipment_split"),
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
    # Routing (fulfillment/routing/, routing_views.py).
    path("routing/", routing_views.policy_list, name="routing_policy_list"),
    path("routing/policies/new/", routing_views.policy_edit, name="routing_policy_create"),
    path("routing/policies/<int:pk>/", routing_views.policy_edit, name="routing_policy_edit"),
    path("routing/dry-run/", routing_views.dry_run, name="routing_dry_run"),
    path("routing/replays/new/", routing_views.replay_create, name="routing_replay_create"),
    path("routing/replays/<int:pk>/", routing_views.replay_detail, name="routing_replay"),
    path("routing/backorders/retry/", routing_views.backorders_retry, name="routing_backorders_retry"),
    path("routing/orders/<str:number>/reroute/", routing_views.order_reroute, name="routing_reroute"),
    path("routing/orders/<str:number>/route-now/", routing_views.order_route_now, name="routing_route_now"),
    path("queue/", routing_views.pick_queue, name="pick_queue"),
]
