from django.urls import path

from ..views import (
    api,
    api_channel_privacy,
    api_finance,
    api_finance_review,
    api_memo_tags,
    api_merge_settings,
    gifts,
    presale_api,
)

urlpatterns = [
    path("orders/", api.orders_collection, name="api_orders"),
    path("orders/batch/", api.orders_batch, name="api_orders_batch"),
    path("orders/<str:number>/", api.order_resource, name="api_order"),
    path("orders/<str:number>/tags/", api_memo_tags.order_tags, name="api_order_tags"),
    path("orders/<str:number>/memo/", api_memo_tags.order_memo, name="api_order_memo"),
    path("tags/", api_memo_tags.tag_list, name="api_tags"),
    path("orders/<str:number>/invoice/", api_finance.order_invoice_resource, name="api_order_invoice"),
    path("orders/<str:number>/finance/approve/", api_finance_review.finance_approve, name="api_finance_approve"),
    path("invoices/", api_finance.invoices_collection, name="api_invoices"),
    path("inbound/<int:pk>/", api.inbound_resource, name="api_inbound"),
    path("gift-rules/", gifts.gift_rules_collection, name="api_gift_rules"),
    path("merge-settings/", api_merge_settings.merge_settings_resource, name="api_merge_settings"),
    path("channels/<str:slug>/privacy/", api_channel_privacy.channel_privacy, name="api_channel_privacy"),
    path("presale/", presale_api.presale_resource, name="api_presale"),
]
