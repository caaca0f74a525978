"""Every write to an order: keyword-only, one transaction each, one event row per change.

Split by sub-domain: ``core`` (status door, events, holds, cancellation, classification),
``intake`` (inbound messages, order creation, duplicates), ``changes`` (SKU map, the order's part
of address changes), ``stage_changes`` (the order's steps of changes and cancellation by stage; see
orders/rules/stages.py). Import from ``orders.services``. The cross-app verbs built from these steps
(cancel, change by stage, intercept, partial cancel, channel updates) are in ``workflows/``.
"""

from .changes import (  # noqa: F401
    AddressPlan,
    address_change_apply,
    address_change_plan,
    channel_sku_map,
    channel_update_refused,
)
from .core import (  # noqa: F401
    ADDRESS_CHANGEABLE,
    ADDRESS_FIELDS,
    order_cancel_check,
    order_event_record,
    order_events_record,
    order_hold,
    order_lock,
    order_mark_cancelled,
    order_reclassify,
    order_release,
    order_review,
    order_set_progress,
    orders_lock,
    orders_set_progress,
)
from .customers import customer_credit_history, customer_credit_set  # noqa: F401
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
from .presale import (  # noqa: F401
    listing_presale_set,
    order_presale_release,
    presale_batch_arrived,
    presale_release_due,
)
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
