from django.contrib import admin

from .models import PeakEvent


@admin.register(PeakEvent)
class PeakEventAdmin(admin.ModelAdmin):
    list_display = ("name", "start", "end", "uplift", "yearly", "active")
    list_filter = ("active", "yearly")
    search_fields = ("name",)
