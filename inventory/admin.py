"""Reference data: locations with their bins, products. Stock changes only through the
stock pages (services and the ledger), never here."""

from django.contrib import admin

from .models import Bin, Location, Product, StockRule


class BinInline(admin.TabularInline):
    model = Bin
    extra = 0
    fields = ("code", "zone", "pick_sequence", "active")


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "city", "cold_chain", "handles_bulky", "daily_capacity", "active")
    list_filter = ("kind", "active", "cold_chain", "handles_bulky")
    search_fields = ("code", "name", "city")
    inlines = [BinInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "handling_class", "weight_g", "price", "active")
    list_filter = ("handling_class", "active")
    search_fields = ("sku", "name", "barcode")


@admin.register(StockRule)
class StockRuleAdmin(admin.ModelAdmin):
    list_display = ("product", "location", "safety_stock", "low_stock_threshold", "min_days_of_cover")
    list_filter = ("location",)
    search_fields = ("product__sku",)
