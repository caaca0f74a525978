"""Exception case types, severities, statuses, root causes and each type's default playbook.

No database access here. Staff edit the playbook text in the knowledge base (`logistics.Playbook` rows);
what is written here is the starting point a type falls back on until somebody edits it.
"""

from dataclasses import dataclass, field, replace

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseType(models.TextChoices):
    NO_SCAN = "no_scan", _("No carrier scan")
    LATE = "late", _("Late against the promise")
    FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
    ADDRESS_PROBLEM = "address_problem", _("Address problem")
    DAMAGED = "damaged", _("Damaged")
    LOST = "lost", _("Lost")
    RETURNED = "returned", _("Returned to sender")
    NOT_COLLECTED = "not_collected", _("Not collected from the pickup point")
    CARRIER_EXCEPTION = "carrier_exception", _("Carrier exception")
    NOT_ROUTED = "not_routed", _("Not routed in time")
    NOT_PICKED = "not_picked", _("Not picked in time")
    NOT_SHIPPED = "not_shipped", _("Not shipped in time")
    BACKORDER = "backorder", _("Backorder ageing")
    INTERCEPT = "intercept", _("Intercept requested")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CARRIER = "waiting_carrier", _("Waiting for the carrier")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    RESOLVED = "resolved", _("Resolved")


OPEN_CASE_STATUSES = frozenset(
    {CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_CARRIER, CaseStatus.WAITING_CUSTOMER}
)

# An open case moves freely between the open statuses and ends resolved; a resolved case stays resolved (the
# detection opens a new case if the problem comes back). ``core.case_status_set`` is the one door.
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    **{status: (OPEN_CASE_STATUSES - {status}) | {CaseStatus.RESOLVED} for status in OPEN_CASE_STATUSES},
    CaseStatus.RESOLVED: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return target in CASE_TRANSITIONS.get(current, frozenset())


class RootCause(models.TextChoices):
    CARRIER = "carrier", _("Carrier")
    ADDRESS = "address", _("Address or customer data")
    CUSTOMER = "customer", _("Customer (absent, refused)")
    WAREHOUSE = "warehouse", _("Warehouse (picking, packing)")
    STOCK = "stock", _("Stock (short, wrong count)")
    SYSTEM = "system", _("System or integration")
    WEATHER = "weather", _("Weather or force majeure")
    NONE = "none", _("No fault found")
    CLEARED = "cleared", _("Cleared by itself")


# Types a detection run closes by itself when the rule no longer finds the problem (a scan arrived, the
# parcel was delivered, the shipment was picked, the backorder was resolved). Damaged goods and a parcel on
# its way back stay open until a person settles them: a later scan does not mend a broken item.
CLEARS_BY_ITSELF = frozenset(
    {
        CaseType.NO_SCAN,
        CaseType.LATE,
        CaseType.FAILED_ATTEMPT,
        CaseType.ADDRESS_PROBLEM,
        CaseType.CARRIER_EXCEPTION,
        CaseType.LOST,
        CaseType.NOT_COLLECTED,  # collected late after all; on its way back it stays (the return continues it)
        CaseType.NOT_ROUTED,
        CaseType.NOT_PICKED,
        CaseType.NOT_SHIPPED,
        CaseType.BACKORDER,
    }
)


class ActionKind(models.TextChoices):
    NOTE = "note", _("Note")
    ASSIGN = "assign", _("Assigned")
    STATUS = "status", _("Status changed")
    RESHIP = "reship", _("Reship")
    REFUND = "refund", _("Refund")
    CLAIM = "claim", _("Carrier claim")
    COMPENSATION = "compensation", _("Compensation")
    ADDRESS_CORRECTION = "address_correction", _("Address correction")
    REDELIVERY = "redelivery", _("Redelivery requested")
    CONTACT = "contact", _("Customer contacted")
    RESOLVE = "resolve", _("Resolved")


class ClaimStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")


CLAIM_TRANSITIONS = {
    ClaimStatus.FILED: frozenset({ClaimStatus.ACCEPTED, ClaimStatus.REJECTED}),
    ClaimStatus.ACCEPTED: frozenset({ClaimStatus.PAID, ClaimStatus.REJECTED}),
    ClaimStatus.REJECTED: frozenset(),
    ClaimStatus.PAID: frozenset(),
}


class CompensationForm(models.TextChoices):
    CREDIT = "credit", _("Store credit")
    VOUCHER = "voucher", _("Voucher")


@dataclass(frozen=True)
class PlaybookDefault:
    severity: str
    due_hours: int
    steps: str
    actions: tuple[str, ...]
    notify_customer: bool
    customer_subject: str = ""
    customer_body: str = ""
    threshold_hours: int = 0  # for time-based rules: how long before it is a case
    customer_subject_zh: str = ""
    customer_body_zh: str = ""
    extra: dict = field(default_factory=dict)


A = ActionKind
_SORRY = "Dear {first_name},\n\n"
_SIGN = "\n\nOrder {order_number} · track it at {tracking_url}\n"
_SORRY_ZH = "{first_name}，您好：\n\n"
_SIGN_ZH = "\n\n订单 {order_number} · 查看物流：{tracking_url}\n"

PLAYBOOK_DEFAULTS: dict[str, PlaybookDefault] = {
    CaseType.NO_SCAN: PlaybookDefault(
        Severity.MEDIUM,
        24,
        _(
            "1. Check the carrier's own tracking page.\n2. Ask the carrier whether the parcel was collected.\n"
            "3. If the carrier has no record after 5 days, treat it as lost: reship and file a claim."
        ),
        (A.CONTACT, A.RESHIP, A.CLAIM, A.NOTE),
        False,
        threshold_hours=48,
    ),
    CaseType.LATE: PlaybookDefault(
        Severity.MEDIUM,
        24,
        _(
            "1. Tell the customer the new expected date.\n2. Offer compensation if the delay is more than 2 days.\n"
            "3. Record the root cause (carrier, warehouse, weather)."
        ),
        (A.CONTACT, A.COMPENSATION, A.NOTE),
        True,
        "Your order {order_number} is running late",
        _SORRY + "your parcel is on its way but will arrive later than we promised: we now expect it on "
        "{expected_date}. We are sorry for the wait." + _SIGN,
    ),
    CaseType.FAILED_ATTEMPT: PlaybookDefault(
        Severity.MEDIUM,
        12,
        _(
            "1. Contact the customer to agree a delivery time or a pickup point.\n"
            "2. Request redelivery with the carrier.\n3. Correct the address if it was wrong."
        ),
        (A.CONTACT, A.REDELIVERY, A.ADDRESS_CORRECTION, A.NOTE),
        True,
        "We could not deliver your order {order_number}",
        _SORRY + "the carrier tried to deliver your parcel but could not. Reply to this message or call us to "
        "arrange a new delivery." + _SIGN,
    ),
    CaseType.ADDRESS_PROBLEM: PlaybookDefault(
        Severity.HIGH,
        8,
        _(
            "1. Call the customer and confirm the full address.\n2. Record the corrected address.\n"
            "3. Request redelivery with the carrier."
        ),
        (A.CONTACT, A.ADDRESS_CORRECTION, A.REDELIVERY, A.NOTE),
        True,
        "Please check the address for order {order_number}",
        _SORRY + "the carrier could not deliver your parcel because the address seems incomplete. Please reply "
        "with the full address so we can send it on." + _SIGN,
    ),
    CaseType.DAMAGED: PlaybookDefault(
        Severity.HIGH,
        24,
        _(
            "1. Ask the customer for photos.\n2. Reship the damaged items.\n3. File a claim with the carrier with the "
            "photos as evidence."
        ),
        (A.CONTACT, A.RESHIP, A.REFUND, A.CLAIM, A.COMPENSATION, A.NOTE),
        True,
        "About the damaged parcel for order {order_number}",
        _SORRY + "we are sorry your parcel was damaged on the way. We are sending a replacement; you do not need "
        "to return anything." + _SIGN,
    ),
    CaseType.LOST: PlaybookDefault(
        Severity.CRITICAL,
        24,
        _("1. Reship the order at once.\n2. File a claim with the carrier.\n3. Tell the customer."),
        (A.RESHIP, A.REFUND, A.CLAIM, A.COMPENSATION, A.CONTACT, A.NOTE),
        True,
        "Your order {order_number}: we are sending it again",
        _SORRY + "the carrier has lost your parcel. We are sending your order again today and will tell you "
        "the new tracking number." + _SIGN,
    ),
    CaseType.RETURNED: PlaybookDefault(
        Severity.HIGH,
        24,
        _("1. Find out why (refused, address, not collected).\n2. Contact the customer: reship or refund."),
        (A.CONTACT, A.RESHIP, A.REFUND, A.ADDRESS_CORRECTION, A.NOTE),
        True,
        "Your order {order_number} is coming back to us",
        _SORRY + "the carrier could not deliver your parcel and is sending it back to us. Please tell us whether "
        "you would like it sent again or refunded." + _SIGN,
    ),
    CaseType.NOT_COLLECTED: PlaybookDefault(
        Severity.HIGH,
        24,
        _(
            "1. Tell the customer where the parcel waits and until when.\n2. If the carrier sends it back, reship or "
            "refund once it is here.\n3. Record the root cause (customer, carrier, wrong pickup point)."
        ),
        (A.CONTACT, A.RESHIP, A.REFUND, A.REDELIVERY, A.NOTE),
        True,
        "Your order {order_number} is waiting to be collected",
        _SORRY + "your parcel was not collected from the pickup point in time. Collect it as soon as you can, or "
        "reply to this message: if the carrier sends it back to us we will send it again or refund you." + _SIGN,
    ),
    CaseType.CARRIER_EXCEPTION: PlaybookDefault(
        Severity.MEDIUM,
        24,
        _(
            "1. Read the carrier's message.\n2. Ask the carrier what happens next.\n3. Tell the customer if the "
            "delivery date moves."
        ),
        (A.CONTACT, A.REDELIVERY, A.CLAIM, A.NOTE),
        False,
    ),
    CaseType.NOT_ROUTED: PlaybookDefault(
        Severity.MEDIUM,
        8,
        _("1. Look at the routing decision on the order.\n2. Route it by hand or fix the stock or location data."),
        (A.NOTE, A.CONTACT),
        False,
        threshold_hours=4,
    ),
    CaseType.NOT_PICKED: PlaybookDefault(
        Severity.MEDIUM,
        8,
        _("1. Ask the warehouse why the shipment is not on a pick list.\n2. Put it on the next wave."),
        (A.NOTE,),
        False,
        threshold_hours=24,
    ),
    CaseType.NOT_SHIPPED: PlaybookDefault(
        Severity.HIGH,
        8,
        _("1. Ask the warehouse why the picked shipment has not left.\n2. Pack and ship it today."),
        (A.NOTE, A.CONTACT),
        False,
        threshold_hours=48,
    ),
    CaseType.BACKORDER: PlaybookDefault(
        Severity.MEDIUM,
        24,
        _("1. Check incoming stock and transfers.\n2. Offer the customer a wait, a substitute or a refund."),
        (A.CONTACT, A.REFUND, A.COMPENSATION, A.NOTE),
        True,
        "Your order {order_number} is waiting for stock",
        _SORRY + "part of your order is out of stock. We will send it as soon as it arrives, or refund you if "
        "you prefer: just reply to this message." + _SIGN,
        threshold_hours=72,
    ),
    # Opened by logistics/voids.py when a shipped order is cancelled or its address changed (stage rule
    # "intercept"); the customer was already told by the "cancelled"/"changed" notice.
    CaseType.INTERCEPT: PlaybookDefault(
        Severity.HIGH,
        4,
        _(
            "1. Ask the carrier to stop the parcel and send it back (or deliver to the new address).\n"
            "2. Record the carrier's answer; file a claim if the carrier delivers anyway.\n"
            "3. When the parcel is back, receive it as a return and refund the customer."
        ),
        (A.NOTE, A.CONTACT, A.REDELIVERY, A.ADDRESS_CORRECTION, A.REFUND, A.CLAIM),
        False,
    ),
}

# The customer messages in Chinese (zh-hans); a customer gets the language `orders.care.notifications` picks for
# the order (their own, else Chinese for a Chinese-speaking ship-to country, else English).
PLAYBOOK_TEXT_ZH: dict[str, tuple[str, str]] = {
    CaseType.LATE: (
        "您的订单 {order_number} 将晚些送达",
        _SORRY_ZH + "您的包裹正在途中，但会比我们承诺的时间晚到：现在预计 {expected_date} 送达。"
        "让您久等了，非常抱歉。" + _SIGN_ZH,
    ),
    CaseType.FAILED_ATTEMPT: (
        "订单 {order_number} 未能成功派送",
        _SORRY_ZH + "快递员尝试派送您的包裹，但未能成功。请回复此消息或致电我们，重新约定派送时间。" + _SIGN_ZH,
    ),
    CaseType.ADDRESS_PROBLEM: (
        "请核对订单 {order_number} 的收货地址",
        _SORRY_ZH
        + "收货地址似乎不完整，快递公司无法派送您的包裹。请回复完整的地址，我们会尽快安排再次派送。"
        + _SIGN_ZH,
    ),
    CaseType.DAMAGED: (
        "关于订单 {order_number} 的破损包裹",
        _SORRY_ZH + "很抱歉您的包裹在运输途中破损。我们正在为您补发，您无需退回任何物品。" + _SIGN_ZH,
    ),
    CaseType.LOST: (
        "您的订单 {order_number}：我们将重新发货",
        _SORRY_ZH + "快递公司丢失了您的包裹。我们今天会为您重新发货，并告诉您新的运单号。" + _SIGN_ZH,
    ),
    CaseType.RETURNED: (
        "您的订单 {order_number} 正在退回",
        _SORRY_ZH + "快递公司未能派送您的包裹，正在将其退回给我们。请告诉我们您希望重新发货还是退款。" + _SIGN_ZH,
    ),
    CaseType.NOT_COLLECTED: (
        "您的订单 {order_number} 待取件已超时",
        _SORRY_ZH
        + "您的包裹在自提点或快递柜超时未取。请尽快取件，或回复此消息："
        + "如果快递公司将包裹退回，我们会为您重新发货或退款。"
        + _SIGN_ZH,
    ),
    CaseType.BACKORDER: (
        "您的订单 {order_number} 正在等待到货",
        _SORRY_ZH + "您订单中的部分商品暂时缺货。到货后我们会立即发出；如果您希望退款，请直接回复此消息。" + _SIGN_ZH,
    ),
}
PLAYBOOK_DEFAULTS = {
    case_type: replace(
        default, customer_subject_zh=PLAYBOOK_TEXT_ZH[case_type][0], customer_body_zh=PLAYBOOK_TEXT_ZH[case_type][1]
    )
    if case_type in PLAYBOOK_TEXT_ZH
    else default
    for case_type, default in PLAYBOOK_DEFAULTS.items()
}
