"""Reference data: channels (secrets are set on the channel page, never shown here) and
customers. Orders change only through their pages and services."""

from django.contrib import admin

from .models import Channel, Customer


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "kind", "platform", "stock_policy", "default_priority", "active")
    list_filter = ("kind", "platform", "active")
    exclude = ("webhook_secret", "stock_feed_token")
    filter_horizontal = ("locations",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "created_at")
    search_fields = ("name", "email", "phone")
