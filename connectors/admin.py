from django.contrib import admin

from .base import mask
from .models import ChannelConnection


@admin.register(ChannelConnection)
class ChannelConnectionAdmin(admin.ModelAdmin):
    """Reference data and support: the credentials are set on the sync page and never shown here."""

    list_display = ("channel", "base_url", "api_version", "active", "last_pull_at", "last_push_at", "last_confirm_at")
    exclude = ("credentials",)
    readonly_fields = ("token", "pull_cursor", "pull_cursor_ids", "last_pull_error", "last_push_error")

    @admin.display(description="Access token")
    def token(self, obj) -> str:
        return mask((obj.credentials or {}).get("access_token", "")) or "—"
