from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("stock/", views.StockListView.as_view(), name="stock_list"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("locations/", views.LocationListView.as_view(), name="location_list"),
]
