from django.contrib import admin

from .models import PeakEvent
from .services import peak_event_remove, peak_event_save


@admin.register(PeakEvent)
class PeakEventAdmin(admin.ModelAdmin):
    list_display = ("name", "start", "end", "uplift", "yearly", "active")
    list_filter = ("active", "yearly")
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        peak_event_save(event=obj, user=request.user)

    def delete_model(self, request, obj):
        peak_event_remove(event=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for event in queryset:
            peak_event_remove(event=event, user=request.user)
