from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("new/", views.order_create, name="order_create"),
    path("holds/", views.HoldQueueView.as_view(), name="hold_queue"),
    path("intake/", views.InboundListView.as_view(), name="inbound_list"),
    path("intake/<int:pk>/", views.inbound_detail, name="inbound_detail"),
    path("<str:number>/", views.order_detail, name="order_detail"),
    path("<str:number>/hold/", views.order_hold, name="order_hold"),
    path("<str:number>/release/", views.order_release, name="order_release"),
    path("<str:number>/cancel/", views.order_cancel, name="order_cancel"),
]
