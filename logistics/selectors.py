"""Reads for logistics pages and the public tracking page."""

from datetime import timedelta

from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone

from orders.care.ratings import RATEABLE_STATUSES
from orders.care.returns import RETURNABLE_STATUSES, return_window_days, returnable_quantities
from orders.models import DeliveryRating, Order, ReturnReason
from orders.services import ADDRESS_CHANGEABLE
from orders.status import CANCELLABLE, EventKind, OrderStatus

from .models import Parcel, TrackingEvent
from .status import NOT_COLLECTED_CODES, PROBLEMS, TrackingStatus


def parcel_list() -> QuerySet[Parcel]:
    return Parcel.objects.select_related("shipment__order", "service__carrier")


def unknown_code_count() -> int:
    """How many stored scans carry a provider code that is not in our tables (kept and flagged, not guessed)."""
    return TrackingEvent.objects.filter(code_known=False).count()


def find_order_for_customer(number: str, contact: str) -> Order | None:
    """An order by number, only when the e-mail or the phone's last four digits match."""
    number, contact = number.strip().upper(), contact.strip()
    if not number or not contact:
        return None
    order = Order.objects.select_related("customer").filter(number=number).first()
    if order is None:
        return None
    if "@" in contact:
        emails = {e.lower() for e in (order.ship_email, getattr(order.customer, "email", "")) if e}
        return order if contact.lower() in emails else None
    digits = "".join(ch for ch in contact if ch.isdigit())
    if len(digits) != 4:
        return None
    phones = [p for p in (order.ship_phone, getattr(order.customer, "phone", "")) if p]
    return order if any(p.endswith(digits) for p in phones) else None


def public_name(name: str) -> str:
    """Enough of the name to recognise one's own order: the first word, or for a name written
    without spaces (Chinese) the family name and a star: 李强 -> 李*."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name:
        return name.split(" ")[0]
    if any(ord(ch) > 0x2E80 for ch in name):
        return name[0] + "*"
    return name


MILESTONES = [
    ("received", "Order received", "订单已收到"),
    ("confirmed", "Order confirmed", "订单已确认"),
    ("picked", "Being picked", "拣货中"),
    ("packed", "Packed", "已打包"),
    ("shipped", "Shipped", "已发货"),
    ("in_transit", "In transit", "运输中"),
    ("out_for_delivery", "Out for delivery", "派送中"),
    ("delivered", "Delivered", "已签收"),
]


def public_tracking(order: Order) -> dict:
    """What a customer sees: milestones merged over all shipments, scans, expected date.

    Only the least personal data: first name, city, no phone, no e-mail, no street.

    A fixed number of queries, whatever the number of parcels and scans: the order's timeline, its parcels
    (with service and carrier), their scans, its returns; for a delivered order also its lines, what was
    returned of them, and its rating (tests/logistics/test_tracking_page_queries.py counts them).
    """
    events = list(order.events.values("kind", "created_at", "data"))
    first_at = {}
    for e in events:
        key = None
        if e["kind"] == EventKind.CREATED:
            key = "received"
        elif e["kind"] == EventKind.STATUS and e["data"].get("to") == OrderStatus.CONFIRMED:
            key = "confirmed"
        elif e["kind"] == EventKind.PICKING:
            key = "picked"
        elif e["kind"] == EventKind.PACKED:
            key = "packed"
        elif e["kind"] == EventKind.SHIPPED:
            key = "shipped"
        if key and key not in first_at:
            first_at[key] = e["created_at"]
    parcels = list(
        Parcel.objects.filter(shipment__order=order).select_related("service__carrier").order_by("created_at")
    )
    scans = list(
        TrackingEvent.objects.filter(parcel__in=parcels)
        .defer("raw")  # not shown; keeps the cached page data small (logistics/tracking_page.py)
        .order_by("-occurred_at", "-id")
    )
    by_id = {p.pk: p for p in parcels}
    for scan in scans:  # the parcels read above, not one copy per scan
        scan.parcel = by_id[scan.parcel_id]
    for scan in sorted(scans, key=lambda s: s.occurred_at):
        key = {
            TrackingStatus.IN_TRANSIT: "in_transit",
            TrackingStatus.OUT_FOR_DELIVERY: "out_for_delivery",
            TrackingStatus.AVAILABLE_FOR_PICKUP: "out_for_delivery",
            TrackingStatus.DELIVERED: "delivered",
        }.get(scan.status)
        if key and key not in first_at:
            first_at[key] = scan.occurred_at
    if order.status == OrderStatus.DELIVERED and "delivered" not in first_at:
        first_at["delivered"] = order.updated_at
    reached = [i for i, (key, _, _) in enumerate(MILESTONES) if key in first_at]
    last = max(reached) if reached else 0
    steps = [
        {"key": key, "en": en, "zh": zh, "at": first_at.get(key), "done": i <= last, "current": i == last}
        for i, (key, en, zh) in enumerate(MILESTONES)
    ]
    problem = next((p for p in parcels if p.status in PROBLEMS), None)
    kind = problem_kind(problem, scans) if problem else None
    expected = max((p.expected_delivery for p in parcels if p.expected_delivery), default=None)
    return {
        "number": order.number,
        "first_name": public_name(order.ship_name),
        "city": order.ship_city,
        "cancelled": order.status == OrderStatus.CANCELLED,
        "delivered": order.status == OrderStatus.DELIVERED,
        "steps": steps,
        "parcels": parcels,
        "scans": scans,
        "expected": expected,
        # 预售: the promise, and the ship-from day while the order waits for it (orders/services/presale.py).
        "promise_date": order.promise_date,
        "presale_until": order.presale_until if order.presale_waiting else None,
        "problem": problem,
        "problem_title": PROBLEM_TITLE.get(kind) if kind else None,
        "problem_help": PROBLEM_HELP.get(kind) if kind else None,
        "self_service": self_service(order, events=events),
    }


def problem_kind(parcel: Parcel, scans: list[TrackingEvent]) -> str:
    """What the customer is told about a parcel in a problem status: its status, or ``not_collected`` when a scan
    said it was not collected from the pickup point in time."""
    if any(s.parcel_id == parcel.pk and s.carrier_status in NOT_COLLECTED_CODES for s in scans):
        return "not_collected"
    return parcel.status


# The headline of the page when a parcel has a problem (en, zh): what happened, not where it was.
PROBLEM_TITLE = {
    TrackingStatus.FAILED_ATTEMPT: ("Delivery attempt failed", "派送未成功"),
    TrackingStatus.EXCEPTION: ("There is a problem with the delivery", "配送遇到问题"),
    TrackingStatus.RETURNING_TO_SENDER: ("Your parcel is on its way back to us", "包裹正在退回"),
    TrackingStatus.RETURNED_TO_SENDER: ("Your parcel came back to us", "包裹已退回"),
    TrackingStatus.LOST: ("Your parcel is lost", "包裹丢失"),
    "not_collected": ("Not collected from the pickup point", "包裹超时未取"),
}

# What a problem means for the customer and what happens next, in plain words (en, zh).
PROBLEM_HELP = {
    "not_collected": (
        "Your parcel was not collected from the pickup point in time. Collect it as soon as you can; if the carrier "
        "sends it back, we will contact you to send it again or refund you.",
        "您的包裹在自提点或快递柜超时未取。请尽快取件；如果快递公司将包裹退回，我们会联系您重新发货或退款。",
    ),
    TrackingStatus.RETURNING_TO_SENDER: (
        "The parcel could not be delivered and is on its way back to us. When it arrives we will contact you to "
        "send it again or refund you.",
        "包裹未能送达，正在退回我们的仓库。收到后我们会联系您重新发货或退款。",
    ),
    TrackingStatus.FAILED_ATTEMPT: (
        "The courier tried to deliver but could not. They usually try again on the next working day.",
        "快递员尝试派送但未能成功，通常会在下一个工作日再次派送。",
    ),
    TrackingStatus.EXCEPTION: (
        "The carrier reported a problem on the way. We are checking with them and will tell you what happens next.",
        "快递公司报告运输途中出现异常。我们正在核实，会告诉您下一步进展。",
    ),
    TrackingStatus.RETURNED_TO_SENDER: (
        "The parcel came back to us. We will contact you to send it again or refund you.",
        "包裹已退回我们的仓库。我们会联系您重新发货或退款。",
    ),
    TrackingStatus.LOST: (
        "The carrier cannot find the parcel. We will send it again or refund you; you don't need to do anything.",
        "快递公司找不到您的包裹。我们会为您重新发货或退款，无需您做任何操作。",
    ),
}


RETURN_REASON_ZH = {
    "damaged": "商品损坏",
    "wrong_item": "发错商品",
    "not_as_described": "与描述不符",
    "size": "尺寸或款式不合适",
    "changed_mind": "不想要了",
    "late": "送达太晚",
    "other": "其他",
}
RETURN_STATUS_ZH = {
    "requested": "已登记",
    "received": "已收到",
    "refunded": "已退款",
    "exchanged": "已换货",
    "cancelled": "已取消",
}


# Reference data: the same for every order (and kept out of the cached page data, logistics/tracking_page.py).
RETURN_REASONS = [(value, label, RETURN_REASON_ZH.get(value, label)) for value, label in ReturnReason.choices]


def _delivered_at(events: list[dict]):
    """When the order became delivered (its first such status row), as `orders.care.returns.delivered_at` says, from
    the timeline rows already read."""
    at = [
        e["created_at"]
        for e in events
        if e["kind"] == EventKind.STATUS
        and isinstance(e["data"], dict)
        and e["data"].get("to") == OrderStatus.DELIVERED
    ]
    return min(at, default=None)


def self_service(order: Order, *, events: list[dict] | None = None, now=None) -> dict:
    """What the customer may do on the tracking page at this stage, and what they did already.

    The same rules as the services that do it (they check again under the order's lock):
    address before packing, cancel while cancellable, return and rating after delivery
    (`orders.care.returns.customer_may_return`, `orders.care.ratings.customer_may_rate`, here from rows read once).
    Only item names and quantities are shown; no address is pre-filled. ``events``: the order's timeline rows
    (kind, created_at, data) when the caller has them.
    """
    returns = list(order.returns.order_by("id"))
    can_return, left, lines, rating = False, {}, [], None
    if order.status in RETURNABLE_STATUSES:
        if events is None:
            events = list(order.events.values("kind", "created_at", "data"))
        delivered = _delivered_at(events)
        window = timedelta(days=return_window_days())
        if delivered is None or (now or timezone.now()) - delivered <= window:
            prefetch_related_objects([order], "lines")  # one read of the lines for both uses below
            lines = list(order.lines.all())
            left = returnable_quantities(order)
            can_return = any(q > 0 for q in left.values())
    if order.status in RATEABLE_STATUSES or order.status == OrderStatus.DELIVERED:
        rating = DeliveryRating.objects.filter(order=order).first()
    return {
        "can_change_address": order.status in ADDRESS_CHANGEABLE,
        "can_cancel": order.status in CANCELLABLE,
        "can_return": can_return,
        "can_rate": order.status in RATEABLE_STATUSES and rating is None,
        "return_lines": [
            {"id": line.pk, "name": line.name or line.sku, "left": left[line.pk]}
            for line in lines
            if can_return and left.get(line.pk)
        ],
        "return_reasons": RETURN_REASONS,
        "return_window_days": return_window_days(),
        "returns": [{"r": r, "status_zh": RETURN_STATUS_ZH.get(r.status, r.status)} for r in returns],
        "rating": rating if order.status == OrderStatus.DELIVERED else None,
        "country": order.ship_country,
    }
