import django_tables2 as tables

from oms.tables import BaseTable

from .models import Location, Product, Stock


class StockTable(BaseTable):
    location = tables.Column(accessor="location__code", order_by="location__code")
    sku = tables.Column(accessor="product__sku", order_by="product__sku", verbose_name="SKU")
    product = tables.Column(accessor="product__name", order_by="product__name")
    on_hand = tables.Column(attrs={"td": {"class": "num"}})
    reserved = tables.Column(attrs={"td": {"class": "num"}})
    available = tables.Column(attrs={"td": {"class": "num"}})

    class Meta(BaseTable.Meta):
        model = Stock
        fields = ["location", "sku", "product", "bin", "on_hand", "reserved", "available", "updated_at"]


class ProductTable(BaseTable):
    class Meta(BaseTable.Meta):
        model = Product
        fields = ["sku", "name", "handling_class", "weight_g", "price", "active"]


class LocationTable(BaseTable):
    class Meta(BaseTable.Meta):
        model = Location
        fields = ["code", "name", "kind", "city", "province", "cold_chain", "handles_bulky", "daily_capacity", "active"]
