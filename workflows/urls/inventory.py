"""``inventory:`` — the receive page with the receipt action (it releases waiting presale orders), then
inventory's own patterns."""

from django.urls import path

from inventory import views as inventory_views
from inventory.urls import urlpatterns as inventory_urlpatterns

from ..receipts import stock_receipt

app_name = "inventory"

urlpatterns = [
    path("stock/receive/", inventory_views.stock_receive, {"receive": stock_receipt}, name="stock_receive"),
    *inventory_urlpatterns,
]
