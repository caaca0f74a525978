"""Reference data: carriers and their service levels, rate cards, tracking sources."""

from django.contrib import admin

from .models import Carrier, RateCardRow, ServiceLevel, TrackingSource


class ServiceLevelInline(admin.StackedInline):
    model = ServiceLevel
    extra = 0


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "adapter", "active")
    list_filter = ("adapter", "active")
    exclude = ("webhook_secret",)
    inlines = [ServiceLevelInline]


@admin.register(RateCardRow)
class RateCardRowAdmin(admin.ModelAdmin):
    list_display = [f.name for f in RateCardRow._meta.fields if f.name != "id"][:8]
    list_filter = ("service__carrier",)


@admin.register(TrackingSource)
class TrackingSourceAdmin(admin.ModelAdmin):
    list_display = [f.name for f in TrackingSource._meta.fields if f.name != "id"][:6]
