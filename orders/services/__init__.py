"""Every write to an order: keyword-only, one transaction each, one event row per change.

Split by sub-domain: ``core`` (status door, events, holds, cancellation, classification),
``intake`` (inbound messages, order creation, duplicates), ``changes`` (SKU map, the order's part
of address changes), ``stage_changes`` (the order's steps of changes and cancellation by stage; see
orders/rules/stages.py). Import from ``orders.services``. The cross-app verbs built from these steps
(cancel, change by stage, intercept, partial cancel, channel updates) are in ``workflows/``. ``memo_tags``:
the seller memo and manual tags.
"""

from .changes import (  # noqa: F401
    AddressPlan,
    address_change_apply,
    address_change_plan,
    channel_mask_recipient_set,
    channel_settings_set,
    channel_sku_map,
    channel_update_refused,
)
from .core import (  # noqa: F401
    ADDRESS_CHANGEABLE,
    ADDRESS_FIELDS,
    arrived_cancelled_message,
    arrived_note,
    classified_message,
    hold_message,
    order_cancel_check,
    order_event_record,
    order_event_rows_record,
    order_events_record,
    order_hold,
    order_lock,
    order_mark_cancelled,
    order_release,
    order_review,
    order_set_progress,
    orders_hold_many,
    orders_lock,
    orders_locking,
    orders_set_progress,
    received_message,
    status_message,
    unknown_sku_note,
    validated_note,
)
from .customers import customer_credit_history, customer_credit_set  # noqa: F401
from .finance import (  # noqa: F401
    FINANCE_HOLDS,
    finance_approve,
    finance_reject_check,
    finance_settings_set,
    price_floor_delete,
    price_floor_set,
)
from .gifts import GIFT_REMOVABLE, order_gift_remove, order_gifts_add, order_gifts_reapply  # noqa: F401
from .intake import (  # noqa: F401
    IntakeResult,
    contact_of,
    duplicate_hold_note,
    duplicate_window,
    inbound_record_outcome,
    inbound_store,
    item_key,
    likely_duplicate_condition,
    order_create,
    order_fields,
)
from .invoices import (  # noqa: F401
    invoice_issue,
    invoice_reject,
    invoice_request,
    invoice_requested_message,
    invoice_row,
    invoices_cancel_for_order,
    invoices_issue,
)
from .memo_tags import (  # noqa: F401
    TagError,
    clean_tags,
    order_memo_from_channel,
    order_seller_memo_set,
    order_tags_change,
    orders_tags_change,
)
from .merge import disabled_channel_ids, merge_group_dissolve, merge_settings_set, orders_auto_merge  # noqa: F401
from .presale import (  # noqa: F401
    listing_presale_set,
    order_presale_release,
    presale_batch_arrived,
    presale_receipt_release,
    presale_receipt_unmark,
    presale_release_due,
    presale_waiting_for,
)
from .reclassify import order_reclassify  # noqa: F401
from .stage_changes import (  # noqa: F401
    LinesPlan,
    PartialCancelPlan,
    cancel_text,
    change_decide,
    delivered_lines,
    has_active_shipments,
    intercept_record,
    lines_change_apply,
    lines_change_check,
    order_requeue,
    order_service_set,
    partial_cancel_plan,
    partial_cancel_record,
    reroute_check,
    stage_summary,
)
