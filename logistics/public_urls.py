"""Public URLs: no login. Tracking page and carriers' webhooks."""

from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:token>/", views.track_order, name="track_order"),
    path("webhooks/tracking/<slug:provider>/", views.tracking_webhook, name="tracking_webhook"),
    path("bare/", views.bare_view, name="bare"),
]
