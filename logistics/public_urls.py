"""Public URLs: no login. Tracking page and carriers' webhooks."""

from django.urls import path

from . import self_service, views

app_name = "public"

# The customer's address change and cancellation are routed by workflows/urls/public.py (same namespace).

urlpatterns = [
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:token>/", views.track_order, name="track_order"),
    path("track/<str:token>/return/", self_service.track_return, name="track_return"),
    path("track/<str:token>/code/send/", self_service.track_code_send, name="track_code_send"),
    path("track/<str:token>/code/", self_service.track_code_verify, name="track_code_verify"),
    path("track/<str:token>/rate/", self_service.track_rate, name="track_rate"),
    path(
        "track/<str:token>/returns/<str:number>/label.pdf", self_service.track_return_label, name="track_return_label"
    ),
    path("webhooks/tracking/<slug:provider>/", views.tracking_webhook, name="tracking_webhook"),
    path("bare/", views.bare_view, name="bare"),
]
