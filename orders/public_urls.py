"""Public endpoints of orders: the channels' order webhooks (signed, no login)."""

from django.urls import path

from . import care_views, intake_views

urlpatterns = [
    path("webhooks/orders/<slug:slug>/", intake_views.order_webhook, name="order_webhook"),
    path(
        "notifications/unsubscribe/<str:token>/", care_views.notification_unsubscribe, name="notification_unsubscribe"
    ),
]
