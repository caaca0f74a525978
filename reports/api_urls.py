from django.urls import path

from . import api

urlpatterns = [
    path("peak-events/", api.peak_events_collection, name="api_peak_events"),
    path("peak-events/<str:key>/", api.peak_event_resource, name="api_peak_event"),
]
