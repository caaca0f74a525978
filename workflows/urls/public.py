"""``public:`` — the customer's address change and cancellation on the tracking page, then logistics' public
patterns."""

from django.urls import path

from logistics import self_service
from logistics.public_urls import urlpatterns as public_urlpatterns

from ..cancel import order_cancel
from ..changes import order_change_address

app_name = "public"

urlpatterns = [
    path(
        "track/<str:token>/address/",
        self_service.track_change_address,
        {"change_address": order_change_address},
        name="track_change_address",
    ),
    path("track/<str:token>/cancel/", self_service.track_cancel, {"cancel": order_cancel}, name="track_cancel"),
    *public_urlpatterns,
]
