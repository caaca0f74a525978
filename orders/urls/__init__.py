from django.urls import path

from ..views import address as address_views
from ..views import atp as atp_views
from ..views import care as care_views
from ..views import finance as finance_views
from ..views import gifts as gift_views
from ..views import intake as intake_views
from ..views import memo_tags as memo_tag_views
from ..views import merge as merge_views
from ..views import orders as views
from ..views import presale as presale_views
from ..views import review as review_views
from ..views import stage_rules as stage_rule_views

app_name = "orders"

# The cross-app verbs of the order page (cancel, change by stage) are routed by workflows/urls/orders.py,
# which serves these patterns plus those under the same namespace and paths.

urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("new/", views.order_create, name="order_create"),
    path("new/paste/", address_views.order_paste, name="order_paste"),
    path("holds/", views.HoldQueueView.as_view(), name="hold_queue"),
    path("tags/", memo_tag_views.tag_list, name="tag_list"),
    path("tags/bulk/", memo_tag_views.orders_tags_bulk, name="orders_tags_bulk"),
    path("holds/release/", review_views.hold_bulk_release, name="hold_bulk_release"),
    path("presale/", presale_views.presale_queue, name="presale_queue"),
    path("presale/listing/", presale_views.listing_presale, name="listing_presale"),
    path("presale/batch/<str:sku>/", presale_views.presale_batch_arrived, name="presale_batch_arrived"),
    path("rules/", review_views.rule_list, name="rule_list"),
    path("rules/new/", review_views.rule_edit, name="rule_create"),
    path("rules/<int:pk>/", review_views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", review_views.rule_delete, name="rule_delete"),
    path("rules/<int:pk>/move/<str:direction>/", review_views.rule_move, name="rule_move"),
    path("change-rules/", stage_rule_views.stage_rule_list, name="stage_rule_list"),
    path("merge-settings/", merge_views.merge_settings, name="merge_settings"),
    path("gift-rules/", gift_views.gift_rule_list, name="gift_rule_list"),
    path("gift-rules/new/", gift_views.gift_rule_edit, name="gift_rule_create"),
    path("gift-rules/<int:pk>/", gift_views.gift_rule_edit, name="gift_rule_edit"),
    path("gift-rules/<int:pk>/delete/", gift_views.gift_rule_delete, name="gift_rule_delete"),
    path("intake/", views.InboundListView.as_view(), name="inbound_list"),
    path("intake/<int:pk>/", views.inbound_detail, name="inbound_detail"),
    path("intake/<int:pk>/retry/", intake_views.inbound_retry, name="inbound_retry"),
    path("channels/stock/", atp_views.channel_stock_index, name="channel_stock_index"),
    path("channels/<slug:slug>/stock/", atp_views.channel_stock, name="channel_stock"),
    path("channels/<slug:slug>/stock/publish/", atp_views.channel_stock_publish, name="channel_stock_publish"),
    path("channels/<slug:slug>/stock.json", atp_views.channel_stock_feed, name="channel_stock_feed"),
    path("channels/<slug:slug>/stock.csv", atp_views.channel_stock_csv, name="channel_stock_csv"),
    path("channels/", intake_views.ChannelListView.as_view(), name="channel_list"),
    path("channels/<slug:slug>/", intake_views.channel_detail, name="channel_detail"),
    path("channels/<slug:slug>/update/", intake_views.channel_update, name="channel_update"),
    path("channels/<slug:slug>/sku-map/", intake_views.channel_sku_map, name="channel_sku_map"),
    # The customer promise (orders/views/care.py): messages outbox, returns, customers.
    path("messages/", care_views.NotificationListView.as_view(), name="notification_list"),
    path("messages/<int:pk>/", care_views.notification_detail, name="notification_detail"),
    path("messages/<int:pk>/resend/", care_views.notification_resend, name="notification_resend"),
    path("returns/", care_views.ReturnListView.as_view(), name="return_list"),
    path("returns/<str:number>/", care_views.return_detail, name="return_detail"),
    path("returns/<str:number>/receive/", care_views.return_receive, name="return_receive"),
    path("returns/<str:number>/refund/", care_views.return_refund, name="return_refund"),
    path("returns/<str:number>/exchange/", care_views.return_exchange, name="return_exchange"),
    path("customers/", care_views.CustomerListView.as_view(), name="customer_list"),
    path("customers/<int:pk>/", care_views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/credit/", care_views.customer_credit, name="customer_credit"),
    # Finance (orders/views/finance.py): invoices (发票) and the finance review (财审).
    path("invoices/", finance_views.InvoiceQueueView.as_view(), name="invoice_queue"),
    path("invoices/issue/", finance_views.invoices_bulk_issue, name="invoices_bulk_issue"),
    path("invoices/<int:pk>/issue/", finance_views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/reject/", finance_views.invoice_reject, name="invoice_reject"),
    path("finance-review/", finance_views.finance_review_queue, name="finance_review"),
    path("finance-review/floors/", finance_views.finance_settings, name="finance_settings"),
    path("<str:number>/", views.order_detail, name="order_detail"),
    path("<str:number>/invoice/", finance_views.order_invoice_request, name="order_invoice_request"),
    path("<str:number>/finance-approve/", finance_views.finance_approve, name="finance_approve"),
    path("<str:number>/hold/", views.order_hold, name="order_hold"),
    path("<str:number>/release/", views.order_release, name="order_release"),
    path("<str:number>/presale-release/", presale_views.order_presale_release, name="order_presale_release"),
    path("<str:number>/reclassify/", review_views.order_reclassify, name="order_reclassify"),
    path("<str:number>/memo/", memo_tag_views.order_memo_edit, name="order_memo_edit"),
    path("<str:number>/tags/", memo_tag_views.order_tags_edit, name="order_tags_edit"),
    path("<str:number>/gifts/<int:line_id>/remove/", gift_views.order_gift_remove, name="order_gift_remove"),
    path("<str:number>/change/", stage_rule_views.order_change, name="order_change"),
    path("<str:number>/return/", care_views.return_create, name="return_create"),
]
