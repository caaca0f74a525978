from django.urls import path

from . import views

app_name = "connectors"

urlpatterns = [
    path("channels/<slug:slug>/", views.channel_sync, name="channel_sync"),
    path("channels/<slug:slug>/connection/", views.connection_update, name="connection_update"),
    path("channels/<slug:slug>/pull/", views.channel_pull, name="channel_pull"),
    path("channels/<slug:slug>/retry/", views.channel_retry, name="channel_retry"),
    path("channels/<slug:slug>/reconcile/", views.channel_reconcile, name="channel_reconcile"),
    path("channels/<slug:slug>/confirm-again/", views.channel_confirm_again, name="channel_confirm_again"),
]
