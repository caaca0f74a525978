from django.urls import path

from . import bin_views, presale_views, views

app_name = "inventory"

urlpatterns = [
    path("stock/", views.StockListView.as_view(), name="stock_list"),
    path("stock/receive/", views.stock_receive, name="stock_receive"),
    path("stock/adjust/", views.stock_adjust, name="stock_adjust"),
    path("stock/count/", views.stock_count, name="stock_count"),
    path("stock/write-off/", views.stock_write_off, name="stock_write_off"),
    path("stock/import/", views.stock_import, name="stock_import"),
    path("stock/import/template/<slug:kind>.csv", views.import_template, name="import_template"),
    path("ledger/", views.MovementListView.as_view(), name="movement_list"),
    path("transfers/", views.TransferListView.as_view(), name="transfer_list"),
    path("transfers/new/", views.transfer_create, name="transfer_create"),
    path("transfers/<str:number>/", views.transfer_detail, name="transfer_detail"),
    path("transfers/<str:number>/receive/", views.transfer_receive, name="transfer_receive"),
    path("rules/", views.StockRuleListView.as_view(), name="rule_list"),
    path("rules/edit/", views.stock_rule_edit, name="rule_edit"),
    path("replenishment/", views.replenishment_view, name="replenishment"),
    path("low-stock/", views.low_stock_view, name="low_stock"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("locations/", views.LocationListView.as_view(), name="location_list"),
    path("products/<str:sku>/", bin_views.product_detail, name="product_detail"),
    path("products/<str:sku>/presale/", presale_views.product_presale, name="product_presale"),
    path("locations/<slug:code>/bins/", bin_views.location_bins, name="location_bins"),
    path("locations/<slug:code>/bins/new/", bin_views.bin_create, name="bin_create"),
    path("locations/<slug:code>/bins/<int:pk>/edit/", bin_views.bin_edit, name="bin_edit"),
    path("locations/<slug:code>/bins/<int:pk>/active/", bin_views.bin_set_active, name="bin_set_active"),
]
