"""Order intake: storing inbound messages, creating orders from the canonical shape, likely
duplicates across channels."""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from oms.encoding import storable, storable_json

from ..intake.address_cn import filled_message
from ..intake.canonical import (
    CanonicalOrder,
    OrderRejected,
    check,
)
from ..models import (
    Channel,
    Customer,
    InboundMessage,
    InboundStatus,
    InvoiceRequest,
    Order,
    OrderHold,
    OrderLine,
)
from ..rules.review import review_findings
from ..selectors import products_for_channel
from ..status import EventKind, HoldReason, InvoiceState, OrderStatus
from ..wording import known, msg
from .core import (
    arrived_cancelled_message,
    arrived_note,
    hold_message,
    order_announce_ready,
    order_classify,
    order_event_record,
    order_hold,
    order_status_set,
    received_message,
    unknown_sku_note,
    validated_note,
)
from .gifts import order_gifts_add
from .invoices import invoice_requested_message, invoice_row
from .merge import orders_auto_merge
from .presale import presale_dates, presale_event, presale_plan, presale_promise


@dataclass
class IntakeResult:
    order: Order
    created: bool

    @property
    def held(self) -> bool:
        return self.created and self.order.on_hold


def _customer_for(data: CanonicalOrder) -> Customer | None:
    email = data.customer_email or data.ship_to.email
    phone = data.customer_phone or data.ship_to.phone
    name = data.customer_name or data.ship_to.name
    if not (email or phone or name):
        return None
    customer = None
    if email:
        customer = Customer.objects.filter(email__iexact=email).order_by("pk").first()
    if customer is None and phone:
        customer = Customer.objects.filter(phone=phone).order_by("pk").first()
    if customer is None:
        # A missing name falls back to the e-mail or phone, cut to the column (a label, not the address).
        label = name or email or phone
        customer = Customer.objects.create(
            name=label[: Customer._meta.get_field("name").max_length], email=email, phone=phone
        )
    return customer


def inbound_store(
    *,
    source: str,
    body: str | bytes,
    channel: Channel | None = None,
    headers: dict | None = None,
    filename: str = "",
    status: str = InboundStatus.RECEIVED,
    error: str = "",
) -> InboundMessage:
    """Store an inbound message raw, before anything parses it.

    Bytes (a webhook's or the API's body) are kept exactly in ``raw`` — signatures are verified and
    bodies parsed from them — and shown as text in ``body``; text is stored as text. Whatever a
    column cannot hold (a NUL, a lone surrogate) is shown as U+FFFD in the text columns only.
    ``status``/``error`` record an outcome at once (a body refused before anything read it).
    """
    raw = None
    if isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body)
        text = raw.decode("utf-8", errors="replace")
    else:
        text = body
    message = InboundMessage(
        channel=channel,
        source=source,
        body=storable(text),
        raw=raw,
        headers=storable_json(headers or {}),
        filename=storable(filename),
        status=status,
        error=storable(error),
    )
    if status != InboundStatus.RECEIVED:
        message.processed_at = timezone.now()
        message.attempts = 1
    message.save()
    return message


def inbound_record_outcome(message: InboundMessage, *, status: str, error: str = "", result: dict | None = None):
    message.status = status
    message.error = storable(error)
    message.result = storable_json(result or {})
    message.processed_at = timezone.now()
    message.attempts += 1
    message.save(update_fields=["status", "error", "result", "processed_at", "attempts"])


def order_create(
    *, channel: Channel, data: CanonicalOrder, source: str, user=None, inbound: InboundMessage | None = None
) -> IntakeResult:
    """Create an order from the canonical shape; the same channel + external id twice is a no-op.

    Raises OrderRejected (from the checks) when the order cannot be created at all; with an
    ``inbound`` message, the outcome is recorded on it either way.
    """
    try:
        result = _order_create(channel=channel, data=data, source=source, user=user)
    except OrderRejected as exc:
        if inbound is not None:
            # The record in English; the page shows the reader's language.
            errors = [dict(e.as_dict(), message=e.english()) for e in exc.errors]
            inbound_record_outcome(
                inbound, status=InboundStatus.REJECTED, error=exc.english(), result={"errors": errors}
            )
        raise
    if inbound is not None:
        inbound_record_outcome(
            inbound, status=InboundStatus.PROCESSED, result={"order": result.order.number, "created": result.created}
        )
    return result


def item_key(pairs) -> frozenset:
    """What an order asks for, as comparable items: (product id or raw SKU, total quantity)."""
    counts: Counter = Counter()
    for product_id, sku, quantity in pairs:
        counts[product_id or f"sku:{sku}"] += quantity
    return frozenset(counts.items())


def duplicate_window() -> timedelta:
    return timedelta(hours=getattr(settings, "INTAKE_DUPLICATE_WINDOW_HOURS", 24))


def contact_of(data: CanonicalOrder) -> tuple[str, str]:
    return (data.customer_email or data.ship_to.email).strip().lower(), data.customer_phone or data.ship_to.phone


def likely_duplicate_condition(email: str, phone: str) -> Q:
    condition = Q(pk__in=[])
    if email:
        condition |= Q(ship_email__iexact=email) | Q(customer__email__iexact=email)
    if phone:
        condition |= Q(ship_phone=phone) | Q(customer__phone=phone)
    return condition


def _likely_duplicate(channel: Channel, data: CanonicalOrder, products: dict) -> Order | None:
    """An order on another channel from the same customer, with the same items, placed close in time."""
    email, phone = contact_of(data)
    if not (email or phone):
        return None
    placed = data.placed_at or timezone.now()
    window = duplicate_window()
    mine = item_key((getattr(products.get(ln.sku), "pk", None), ln.sku, ln.quantity) for ln in data.lines)
    candidates = (
        Order.objects.exclude(channel=channel)
        .exclude(status=OrderStatus.CANCELLED)
        .filter(likely_duplicate_condition(email, phone))
        .filter(placed_at__gte=placed - window, placed_at__lte=placed + window)
        .prefetch_related("lines")
        .order_by("pk")[:20]
    )
    for candidate in candidates:
        if item_key((ln.product_id, ln.sku, ln.quantity) for ln in candidate.lines.all()) == mine:
            return candidate
    return None


def duplicate_hold_note(other: Order) -> str:
    return msg(
        DUPLICATE_NOTE,
        order=other.number,
        channel=other.channel.name,
        hours=int(duplicate_window().total_seconds() // 3600),
    )


DUPLICATE_NOTE = gettext_noop(
    "Looks like %(order)s from %(channel)s (same customer, same items, placed within %(hours)s h)."
)
known(DUPLICATE_NOTE)


def _order_create(*, channel: Channel, data: CanonicalOrder, source: str, user=None) -> IntakeResult:
    check(data)
    existing = Order.objects.filter(channel=channel, external_id=data.external_id).first()
    if existing is not None:
        return IntakeResult(order=existing, created=False)

    products = products_for_channel(channel, {line.sku for line in data.lines})
    presale = (None, {})
    if data.cancelled_reason:
        holds = []  # kept for the record: nothing to stop
    else:
        unknown = sorted({line.sku for line in data.lines if line.sku not in products})
        holds = list(data.holds)
        if unknown:
            holds.append((HoldReason.UNKNOWN_SKU, unknown_sku_note(unknown)))
        other = _likely_duplicate(channel, data, products)
        if other is not None:
            holds.append((HoldReason.DUPLICATE, duplicate_hold_note(other)))
        presale = presale_plan(data, presale_dates(channel, products), timezone.localdate())

    try:
        with transaction.atomic():
            order = _create_rows(
                channel=channel, data=data, products=products, holds=holds, source=source, user=user, presale=presale
            )
    except IntegrityError:
        # A concurrent delivery of the same order won the race: this one changes nothing.
        existing = Order.objects.filter(channel=channel, external_id=data.external_id).first()
        if existing is None:
            raise
        return IntakeResult(order=existing, created=False)
    return IntakeResult(order=order, created=True)


def order_fields(*, channel: Channel, data: CanonicalOrder, now, presale_until=None) -> dict:
    """The Order columns a canonical order fills: one mapping for one-by-one and bulk creation. A presale
    order (``presale_until``, services/presale.py) is promised no earlier than its ship-from day."""
    addr = data.ship_to
    return {
        "channel": channel,
        "external_id": data.external_id,
        "channel_order_name": data.channel_order_name,
        "priority": data.priority or channel.default_priority,
        "ship_name": addr.name,
        "ship_phone": addr.phone,
        "ship_email": addr.email,
        "ship_country": addr.country,
        "ship_province": addr.province,
        "ship_city": addr.city,
        "ship_district": addr.district,
        "ship_address1": addr.address1,
        "ship_address2": addr.address2,
        "ship_postcode": addr.postcode,
        "currency": data.currency,
        "total": data.total,
        "requested_service": data.requested_service,
        "promise_date": presale_promise(data.promise_date, presale_until),
        "presale_until": presale_until,
        "placed_at": data.placed_at or now,
        "note": data.note,
        "buyer_message": data.buyer_message,
        "seller_memo": data.seller_memo,
        "seller_flag": data.seller_flag,
        "billing_country": data.billing_country,
        "payment_method": data.payment_method or "prepaid",
    }


def _create_rows(*, channel, data: CanonicalOrder, products, holds, source, user, presale=(None, {})) -> Order:
    order = Order.objects.create(
        **order_fields(channel=channel, data=data, now=timezone.now(), presale_until=presale[0]),
        customer=_customer_for(data),
        on_hold=bool(holds),
    )
    order.number = f"SO{100000 + order.pk}"
    order.save(update_fields=["number"])
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_no=i,
            product=products.get(line.sku),
            sku=line.sku,
            name=line.name or getattr(products.get(line.sku), "name", ""),
            quantity=line.quantity,
            unit_price=line.unit_price,
            is_gift=line.gift,
        )
        for i, line in enumerate(data.lines, start=1)
    )
    order_event_record(
        order=order,
        kind=EventKind.CREATED,
        user=user,
        message=received_message(channel.name, source, len(data.lines)),
        data={"source": source, "external_id": data.external_id, "stock_policy": channel.stock_policy},
    )
    if data.invoice is not None:
        _invoice_create(order, data, source=source, user=user)
    if data.address_filled:
        order_event_record(
            order=order,
            kind=EventKind.ADDRESS_PARSED,
            user=user,
            message=filled_message(data.address_filled),
            data={"filled": data.address_filled},
        )
    if presale[0] is not None:
        kind, message, event_data = presale_event(presale[0], presale[1], data.promise_date)
        order_event_record(order=order, kind=kind, user=user, message=message, data=event_data)
    if data.cancelled_reason:
        order_status_set(order, OrderStatus.CANCELLED, user=user, note=arrived_note(data.cancelled_reason))
        order_event_record(
            order=order,
            kind=EventKind.CANCELLED,
            user=user,
            message=arrived_cancelled_message(data.cancelled_reason, channel.name),
            data={"on_arrival": True, "reason": data.cancelled_reason},
        )
        return order
    for reason, note in holds:
        OrderHold.objects.create(order=order, reason=reason, note=note[:255], created_by=user)
        order_event_record(
            order=order,
            kind=EventKind.HELD,
            user=user,
            message=hold_message(reason, note),
            data={"reason": reason},
        )
    # 赠品: the gift rules' lines, before classification (a gift is goods to classify and route).
    order_gifts_add(order, user=user)
    # Classification and review holds, before confirmation (orders/rules/classification.py, orders/rules/review.py).
    order_classify(order, user=user)
    for reason, note in review_findings(order, address=False):  # intake's check() already held the address
        order_hold(order=order, reason=reason, note=note, user=user)
    order.refresh_from_db(fields=["on_hold"])
    if not order.on_hold:
        order_status_set(order, OrderStatus.CONFIRMED, user=user, note=validated_note())
        orders_auto_merge(order_ids=[order.pk], user=user)  # 自动合单, before routing
        order_announce_ready(order)
    return order


def _invoice_create(order: Order, data: CanonicalOrder, *, source: str, user) -> None:
    """The invoice the channel asked for (orders/intake/invoice.py): requested, or cancelled when the order
    arrives cancelled (kept for the record)."""
    state = InvoiceState.CANCELLED if data.cancelled_reason else InvoiceState.REQUESTED
    request = InvoiceRequest.objects.create(**invoice_row(order.pk, data.invoice, source=source, state=state))
    order_event_record(
        order=order,
        kind=EventKind.INVOICE,
        user=user,
        message=invoice_requested_message(request),
        data={"invoice": request.pk, "state": state, "source": source},
    )
