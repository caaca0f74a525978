"""Every write to an order: keyword-only, one transaction each, one event row per change.

Split by sub-domain: ``core`` (status door, events, holds, cancellation, classification),
``intake`` (inbound messages, order creation, duplicates), ``changes`` (SKU map, address
changes, channel updates), ``stage_changes`` (lines, service level and cancellation by stage,
re-routing; see orders/stage_rules.py). Import from ``orders.services``.
"""

from .changes import channel_sku_map, order_apply_channel_update, order_change_address  # noqa: F401
from .core import (  # noqa: F401
    ADDRESS_CHANGEABLE,
    ADDRESS_FIELDS,
    order_cancel,
    order_event_record,
    order_events_record,
    order_hold,
    order_lock,
    order_reclassify,
    order_release,
    order_review,
    order_set_progress,
    orders_lock,
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
from .stage_changes import (  # noqa: F401
    order_cancel_request,
    order_change_lines,
    order_change_service,
    reroute,
    stage_summary,
)
