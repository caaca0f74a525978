"""Public endpoints of orders: the channels' order webhooks (signed, no login)."""

from django.urls import path

from ..views import care as care_views
from ..views import intake as intake_views

urlpatterns = [
    path("webhooks/orders/<slug:slug>/", intake_views.order_webhook, name="order_webhook"),
    path(
        "notifications/unsubscribe/<str:token>/", care_views.notification_unsubscribe, name="notification_unsubscribe"
    ),
]
