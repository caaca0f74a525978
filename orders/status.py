"""Order status and hold reasons. No database access here."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .wording import known_choices, label, msg


class OrderStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    CONFIRMED = "confirmed", _("Confirmed")
    ALLOCATED = "allocated", _("Allocated")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partly shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


S = OrderStatus

# Allowed transitions: from -> set of to. The one door, orders.services.order_status_set, checks it.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.ALLOCATED, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.CONFIRMED, S.PICKING, S.PACKED, S.CANCELLED}),
    S.PICKING: frozenset({S.ALLOCATED, S.PACKED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PACKED: frozenset({S.PICKING, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED, S.DELIVERED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses in which a person may still cancel the order outright.
CANCELLABLE = frozenset({S.RECEIVED, S.CONFIRMED, S.ALLOCATED, S.PICKING, S.PACKED})
# Statuses in which a hold stops the order from moving on.
HOLDABLE = frozenset({S.RECEIVED, S.CONFIRMED, S.ALLOCATED, S.PICKING, S.PACKED})
OPEN_STATUSES = frozenset(set(S) - {S.DELIVERED, S.CANCELLED})


def can_transition(current: str, target: str) -> bool:
    return target in ORDER_TRANSITIONS.get(current, frozenset())


class HoldReason(models.TextChoices):
    ADDRESS_INVALID = "address_invalid", _("Address invalid")
    UNKNOWN_SKU = "unknown_sku", _("Unknown SKU")
    STOCK_SHORT = "stock_short", _("Stock short")
    PAYMENT = "payment", _("Payment")
    FRAUD_REVIEW = "fraud_review", _("Fraud review")
    CREDIT_REVIEW = "credit_review", _("Credit review")
    DUPLICATE = "duplicate", _("Possible duplicate")
    PRICE_CHECK = "price_check", _("Price check")
    BUYER_MESSAGE = "buyer_message", _("Buyer message")
    FINANCE_REVIEW = "finance_review", _("Finance review")
    MANUAL = "manual", _("Manual")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    DUPLICATE_IGNORED = "duplicate_ignored", _("Duplicate ignored")
    STATUS = "status", _("Status changed")
    HELD = "held", _("Put on hold")
    RELEASED = "released", _("Hold released")
    ROUTED = "routed", _("Routed")
    ROUTING_FAILED = "routing_failed", _("Routing failed")
    BACKORDERED = "backordered", _("Backordered")
    PICKING = "picking", _("On a pick list")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    TRACKING = "tracking", _("Tracking update")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    ADDRESS_CHANGED = "address_changed", _("Address changed")
    ADDRESS_PARSED = "address_parsed", _("Address completed")
    CHANNEL_UPDATE = "channel_update", _("Update from the channel")
    NOTE = "note", _("Note")
    RETURN = "return", _("Return")
    RATING = "rating", _("Delivery rated")
    CLASSIFIED = "classified", _("Classified")
    SPLIT = "split", _("Shipment split")
    MERGED = "merged", _("Shipments merged")
    UNMERGED = "unmerged", _("Shipments unmerged")
    CHANGED = "changed", _("Order changed")
    INTERCEPT = "intercept", _("Intercept requested")
    ORDER_MERGED = "order_merged", _("Orders merged")
    ORDER_UNMERGED = "order_unmerged", _("Order merge undone")
    MEMO = "memo", _("Seller memo changed")
    TAGS = "tags", _("Tags changed")
    INVOICE = "invoice", _("Invoice")
    GIFT = "gift", _("Gift")
    PRESALE = "presale", _("Presale")


# ---- invoices (发票, orders/services/invoices.py) ------------------------------------------------------


class InvoiceState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Issued")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# A request is issued by finance (number, date, who), rejected with a reason, or cancelled with its order before
# issue. Issued, rejected and cancelled are final (a rejected request may be followed by a new one).
# ``orders.services.invoices._set_invoice_state`` is the one door.
INVOICE_TRANSITIONS: dict[str, frozenset[str]] = {
    InvoiceState.REQUESTED: frozenset({InvoiceState.ISSUED, InvoiceState.REJECTED, InvoiceState.CANCELLED}),
    InvoiceState.ISSUED: frozenset(),
    InvoiceState.REJECTED: frozenset(),
    InvoiceState.CANCELLED: frozenset(),
}


def can_invoice_transition(current: str, target: str) -> bool:
    return target in INVOICE_TRANSITIONS.get(current, frozenset())


# ---- changes by stage (orders/rules/stages.py) -------------------------------------------------------


class Stage(models.TextChoices):
    """Where an order is, as far as changing it is concerned (orders.rules.stages.stage_of)."""

    RECEIVED = "received", _("Received")
    CONFIRMED = "confirmed", _("Confirmed")
    ALLOCATED = "allocated", _("Allocated (before picking)")
    PICKING = "picking", _("Picking")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")


class ChangeKind(models.TextChoices):
    ADDRESS = "address", _("Address")
    LINES = "lines", _("Lines (quantity, add, remove)")
    SERVICE = "service", _("Service level")
    CANCEL = "cancel", _("Cancellation")


class ChangeAction(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    REROUTE = "reroute", _("Allowed with re-route")
    APPROVAL = "approval", _("Needs approval")
    INTERCEPT = "intercept", _("Intercept request")
    RETURN = "return", _("Return request")
    REFUSED = "refused", _("Refused")


class ChangeReason(models.TextChoices):
    """Why an order was changed, split, merged or cancelled; every such event carries one.
    (Stock movements keep inventory.ReasonCode: a release is ``cancellation``.)"""

    CUSTOMER_REQUEST = "customer_request", _("Customer request")
    CHANNEL_UPDATE = "channel_update", _("Update from the channel")
    ADDRESS_CORRECTION = "address_correction", _("Address correction")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    FRAUD = "fraud", _("Fraud or payment problem")
    DUPLICATE = "duplicate", _("Duplicate order")
    STAFF_ERROR = "staff_error", _("Entered wrongly")
    CONSOLIDATION = "consolidation", _("Consolidation (one parcel)")
    CAPACITY = "capacity", _("Capacity or stock at a location")
    OTHER = "other", _("Other")

    @classmethod
    def describe(cls, code: str, note: str = "") -> str:
        """The reason as a timeline writes it: the label, then the note when there is one (in English, shown in
        the reader's language: oms/wording.py)."""
        if note:
            return msg(gettext_noop("%(reason)s: %(note)s"), reason=label(cls(code)), note=note)
        return msg("%(reason)s", reason=label(cls(code)))


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    RECEIVED = "received", _("Received")
    REFUNDED = "refunded", _("Refunded")
    EXCHANGED = "exchanged", _("Exchanged")
    CANCELLED = "cancelled", _("Cancelled")


# A return is requested, received (restocked or written off) and settled by a refund or an exchange; an open
# return (requested or received) may be settled before the parcel arrives. Settled and cancelled are final.
# ``orders.care.returns._set_return_status`` is the one door.
RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    ReturnStatus.REQUESTED: frozenset(
        {ReturnStatus.RECEIVED, ReturnStatus.REFUNDED, ReturnStatus.EXCHANGED, ReturnStatus.CANCELLED}
    ),
    ReturnStatus.RECEIVED: frozenset({ReturnStatus.REFUNDED, ReturnStatus.EXCHANGED}),
    ReturnStatus.REFUNDED: frozenset(),
    ReturnStatus.EXCHANGED: frozenset(),
    ReturnStatus.CANCELLED: frozenset(),
}


def can_return_transition(current: str, target: str) -> bool:
    return target in RETURN_TRANSITIONS.get(current, frozenset())


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent (opted out or no address)")


N = NotificationStatus

# A notice is created queued or suppressed; the outbox consumer sends it (sending -> sent or failed; a
# sending one met again was cut off by a crash and is sent again); a person sends a failed one again.
# The one door, orders.care.notifications.notifications_move, checks it.
NOTIFICATION_TRANSITIONS: dict[str, frozenset[str]] = {
    N.QUEUED: frozenset({N.SENDING}),
    N.SENDING: frozenset({N.SENDING, N.SENT, N.FAILED}),
    N.FAILED: frozenset({N.SENDING, N.QUEUED}),
    N.SENT: frozenset(),
    N.SUPPRESSED: frozenset(),
}


def notification_sources(target: str) -> frozenset[str]:
    """The statuses a notice may move to ``target`` from."""
    return frozenset(source for source, targets in NOTIFICATION_TRANSITIONS.items() if target in targets)


# Labels that text stored without its template may hold (oms/wording.py's known phrases).
known_choices(OrderStatus, HoldReason)
