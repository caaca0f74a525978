"""Every write to an order: keyword-only, one transaction each, one event row per change.

``_set_status`` is the one place that assigns ``Order.status``.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from oms.errors import DomainError, TransitionNotAllowed

from .classification import evaluate as classification_evaluate
from .intake.canonical import (
    CanonicalAddress,
    CanonicalOrder,
    OrderRejected,
    address_problems,
    check,
    normalize_country,
    normalize_phone,
)
from .models import (
    Channel,
    ChannelSku,
    Customer,
    InboundMessage,
    InboundStatus,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    join_tags,
)
from .review import review_findings
from .selectors import products_for_channel
from .signals import order_cancelled, order_event_recorded, order_ready
from .status import CANCELLABLE, HOLDABLE, EventKind, HoldReason, OrderStatus, can_transition

ADDRESS_FIELDS = (
    "name", "phone", "email", "country", "province", "city", "district", "address1", "address2", "postcode"
)
# A ship-to address may change until the order is packed (the label is made after packing).
ADDRESS_CHANGEABLE = frozenset(
    {OrderStatus.RECEIVED, OrderStatus.CONFIRMED, OrderStatus.ALLOCATED, OrderStatus.PICKING}
)


@dataclass
class IntakeResult:
    order: Order
    created: bool

    @property
    def held(self) -> bool:
        return self.created and self.order.on_hold


def order_event_record(*, order: Order, kind: str, message: str, data: dict | None = None, user=None) -> OrderEvent:
    """Write one row of the order's timeline; after commit, ``order_event_recorded`` tells the listeners
    (the customer notifications, orders.notifications.TRIGGERS)."""
    event = OrderEvent.objects.create(order=order, kind=kind, message=message[:500], data=data or {}, user=user)
    order_id, event_id, event_data = order.pk, event.pk, dict(event.data)
    transaction.on_commit(
        lambda: order_event_recorded.send(
            sender=OrderEvent, order_id=order_id, event_id=event_id, kind=kind, data=event_data
        )
    )
    return event


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _set_status(order: Order, target: str, *, user=None, note: str = "") -> None:
    """The one door for Order.status. The caller holds the row lock."""
    current = order.status
    if current == target:
        return
    if not can_transition(current, target):
        raise TransitionNotAllowed(
            f"Order {order.number} cannot go from {OrderStatus(current).label} to {OrderStatus(target).label}."
        )
    order.status = target
    order.save(update_fields=["status", "updated_at"])
    message = f"Status {OrderStatus(current).label} → {OrderStatus(target).label}"
    if note:
        message += f": {note}"
    order_event_record(
        order=order, kind=EventKind.STATUS, message=message, data={"from": current, "to": target}, user=user
    )


def _announce_ready(order: Order) -> None:
    order_id = order.pk
    transaction.on_commit(lambda: order_ready.send(sender=Order, order_id=order_id))


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
        customer = Customer.objects.create(name=name or email or phone, email=email, phone=phone)
    return customer


def inbound_store(
    *, source: str, body: str, channel: Channel | None = None, headers: dict | None = None, filename: str = ""
) -> InboundMessage:
    """Store an inbound message raw, before anything parses it."""
    return InboundMessage.objects.create(
        channel=channel, source=source, body=body, headers=headers or {}, filename=filename
    )


def inbound_record_outcome(message: InboundMessage, *, status: str, error: str = "", result: dict | None = None):
    message.status = status
    message.error = error
    message.result = result or {}
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
            inbound_record_outcome(
                inbound,
                status=InboundStatus.REJECTED,
                error=str(exc),
                result={"errors": [e.as_dict() for e in exc.errors]},
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
    return (
        f"Looks like {other.number} from {other.channel.name} (same customer, same items, "
        f"placed within {int(duplicate_window().total_seconds() // 3600)} h)."
    )


def _order_create(*, channel: Channel, data: CanonicalOrder, source: str, user=None) -> IntakeResult:
    check(data)
    existing = Order.objects.filter(channel=channel, external_id=data.external_id).first()
    if existing is not None:
        return IntakeResult(order=existing, created=False)

    products = products_for_channel(channel, {line.sku for line in data.lines})
    if data.cancelled_reason:
        holds = []  # kept for the record: nothing to stop
    else:
        unknown = sorted({line.sku for line in data.lines if line.sku not in products})
        holds = list(data.holds)
        if unknown:
            holds.append((HoldReason.UNKNOWN_SKU, "Unknown SKU: " + ", ".join(unknown)))
        other = _likely_duplicate(channel, data, products)
        if other is not None:
            holds.append((HoldReason.DUPLICATE, duplicate_hold_note(other)))

    try:
        with transaction.atomic():
            order = _create_rows(channel=channel, data=data, products=products, holds=holds, source=source, user=user)
    except IntegrityError:
        # A concurrent delivery of the same order won the race: this one changes nothing.
        existing = Order.objects.filter(channel=channel, external_id=data.external_id).first()
        if existing is None:
            raise
        return IntakeResult(order=existing, created=False)
    return IntakeResult(order=order, created=True)


def _create_rows(*, channel, data: CanonicalOrder, products, holds, source, user) -> Order:
    addr = data.ship_to
    order = Order.objects.create(
        channel=channel,
        external_id=data.external_id,
        customer=_customer_for(data),
        priority=data.priority or channel.default_priority,
        ship_name=addr.name,
        ship_phone=addr.phone,
        ship_email=addr.email,
        ship_country=addr.country,
        ship_province=addr.province,
        ship_city=addr.city,
        ship_district=addr.district,
        ship_address1=addr.address1,
        ship_address2=addr.address2,
        ship_postcode=addr.postcode,
        currency=data.currency,
        total=data.total,
        requested_service=data.requested_service,
        promise_date=data.promise_date,
        placed_at=data.placed_at or timezone.now(),
        note=data.note,
        on_hold=bool(holds),
        billing_country=data.billing_country,
        payment_method=data.payment_method or "prepaid",
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
        )
        for i, line in enumerate(data.lines, start=1)
    )
    order_event_record(
        order=order,
        kind=EventKind.CREATED,
        user=user,
        message=f"Order received from {channel.name} ({source}), {len(data.lines)} line(s).",
        data={"source": source, "external_id": data.external_id, "stock_policy": channel.stock_policy},
    )
    if data.cancelled_reason:
        _set_status(order, OrderStatus.CANCELLED, user=user, note=f"arrived {data.cancelled_reason}")
        order_event_record(
            order=order,
            kind=EventKind.CANCELLED,
            user=user,
            message=(
                f"Arrived already {data.cancelled_reason} at {channel.name}; kept for the record, reserves nothing."
            ),
            data={"on_arrival": True, "reason": data.cancelled_reason},
        )
        return order
    for reason, note in holds:
        OrderHold.objects.create(order=order, reason=reason, note=note[:255], created_by=user)
        order_event_record(
            order=order,
            kind=EventKind.HELD,
            user=user,
            message=f"On hold: {HoldReason(reason).label}. {note}",
            data={"reason": reason},
        )
    # Classification and review holds, before confirmation (orders/classification.py, orders/review.py).
    _classify(order, user=user)
    for reason, note in review_findings(order, address=False):  # intake's check() already held the address
        order_hold(order=order, reason=reason, note=note, user=user)
    order.refresh_from_db(fields=["on_hold"])
    if not order.on_hold:
        _set_status(order, OrderStatus.CONFIRMED, user=user, note="validated")
        _announce_ready(order)
    return order


def _classify(order: Order, *, user=None) -> None:
    """Apply the classification rules to the order (caller holds its lock): tags, priority, required service
    kind and capabilities, one event per matching rule, holds through ``order_hold``."""
    outcome = classification_evaluate(order)
    order.tags = join_tags(outcome.tags)
    order.required_capabilities = join_tags(outcome.capabilities)
    order.required_service_kind = outcome.service_kind
    fields = ["tags", "required_capabilities", "required_service_kind", "updated_at"]
    if outcome.priority is not None:
        order.priority = outcome.priority
        fields.append("priority")
    order.save(update_fields=fields)
    for match in outcome.matches:
        order_event_record(
            order=order,
            kind=EventKind.CLASSIFIED,
            user=user,
            message=f"Classified: rule {match.rule} → {match.summary()}",
            data=match.as_data(),
        )
    for reason, note in outcome.holds:
        order_hold(order=order, reason=reason, note=note, user=user)


@transaction.atomic
def order_reclassify(*, order: Order, user=None) -> Order:
    """Run the classification rules again (after a rule or the order changed). Tags, capabilities and
    service kind are replaced by the new result; a rule's hold is placed again only if not active."""
    order = _lock(order)
    if order.status not in HOLDABLE:
        raise DomainError(f"Order {order.number} is {order.get_status_display()}: too late to reclassify.")
    _classify(order, user=user)
    order.refresh_from_db()
    return order


@transaction.atomic
def order_review(*, order: Order, user=None) -> list[tuple[str, str]]:
    """Run the review checks again (address, credit, risk) and hold for what they find."""
    order = _lock(order)
    if order.status not in HOLDABLE:
        raise DomainError(f"Order {order.number} is {order.get_status_display()}: too late to review.")
    findings = review_findings(order)
    for reason, note in findings:
        order_hold(order=order, reason=reason, note=note, user=user)
    return findings


@transaction.atomic
def order_hold(*, order: Order, reason: str, note: str = "", user=None) -> Order:
    order = _lock(order)
    if order.status not in HOLDABLE:
        raise DomainError(f"Order {order.number} is {order.get_status_display()} and can no longer be held.")
    if reason not in HoldReason.values:
        raise DomainError(f"Unknown hold reason '{reason}'.")
    if order.holds.filter(reason=reason, released_at__isnull=True).exists():
        return order
    OrderHold.objects.create(order=order, reason=reason, note=note[:255], created_by=user)
    if not order.on_hold:
        order.on_hold = True
        order.save(update_fields=["on_hold", "updated_at"])
    order_event_record(
        order=order,
        kind=EventKind.HELD,
        user=user,
        message=f"On hold: {HoldReason(reason).label}. {note}".strip(),
        data={"reason": reason},
    )
    return order


def _remap_unknown_skus(order: Order) -> list[str]:
    lines = list(order.lines.filter(product__isnull=True))
    products = products_for_channel(order.channel, {line.sku for line in lines})
    still_unknown = []
    for line in lines:
        product = products.get(line.sku)
        if product is None:
            still_unknown.append(line.sku)
        else:
            line.product = product
            line.save(update_fields=["product"])
    return still_unknown


@transaction.atomic
def order_release(*, order: Order, reason: str | None = None, note: str = "", user=None) -> Order:
    """Release one hold reason (or all); with none left the order goes on where it stopped."""
    order = _lock(order)
    active = order.holds.filter(released_at__isnull=True)
    if reason:
        active = active.filter(reason=reason)
    holds = list(active)
    if not holds:
        raise DomainError(f"Order {order.number} has no such hold to release.")
    if any(h.reason == HoldReason.CREDIT_REVIEW for h in holds):
        if user is not None and not user.has_perm("orders.override_credit"):
            raise DomainError(f"Order {order.number}: only a manager may override a credit hold.")
        if not note.strip():
            raise DomainError(f"Order {order.number}: a credit override needs a reason.")
    if any(h.reason == HoldReason.UNKNOWN_SKU for h in holds):
        still_unknown = _remap_unknown_skus(order)
        if still_unknown:
            raise DomainError("Map these SKUs to products first: " + ", ".join(sorted(set(still_unknown))))
    now = timezone.now()
    for hold in holds:
        hold.released_at = now
        hold.released_by = user
        hold.release_note = note[:255]
        hold.save(update_fields=["released_at", "released_by", "release_note"])
        order_event_record(
            order=order,
            kind=EventKind.RELEASED,
            user=user,
            message=f"Released: {hold.get_reason_display()}. {note}".strip(),
            data={"reason": hold.reason},
        )
    if not order.holds.filter(released_at__isnull=True).exists():
        order.on_hold = False
        order.save(update_fields=["on_hold", "updated_at"])
        if order.status == OrderStatus.RECEIVED:
            _set_status(order, OrderStatus.CONFIRMED, user=user, note="released")
        if order.status == OrderStatus.CONFIRMED:
            _announce_ready(order)
    return order


@transaction.atomic
def order_cancel(*, order: Order, reason: str, user=None) -> Order:
    order = _lock(order)
    if order.status not in CANCELLABLE:
        raise TransitionNotAllowed(f"Order {order.number} is {order.get_status_display()} and cannot be cancelled.")
    if not reason:
        raise DomainError("A cancellation needs a reason.")
    order_cancelled.send(sender=Order, order=order, user=user, reason=reason)
    _set_status(order, OrderStatus.CANCELLED, user=user, note=reason)
    if order.on_hold:
        order.holds.filter(released_at__isnull=True).update(
            released_at=timezone.now(), released_by=user, release_note="order cancelled"
        )
        order.on_hold = False
        order.save(update_fields=["on_hold", "updated_at"])
    order_event_record(order=order, kind=EventKind.CANCELLED, user=user, message=f"Cancelled: {reason}")
    return order


def order_set_progress(*, order: Order, target: str, user=None, note: str = "") -> None:
    """Move an order along as its shipments progress; the caller holds the order's lock."""
    _set_status(order, target, user=user, note=note)


def order_lock(order_id: int) -> Order:
    """Lock an order row for a service of another app (call inside a transaction)."""
    return Order.objects.select_for_update().get(pk=order_id)


# ---- the channel's SKU map ----------------------------------------------------------------------


def channel_sku_map(*, channel: Channel, external_sku: str, product, user=None) -> tuple[ChannelSku, list[str]]:
    """Map a channel's SKU to a product, then release every order held only for unknown SKUs
    that are now all known. Returns the mapping and the numbers of the released orders."""
    external_sku = external_sku.strip()
    if not external_sku:
        raise DomainError("The channel's SKU is required.")
    with transaction.atomic():
        mapping, created = ChannelSku.objects.select_for_update().get_or_create(
            channel=channel, external_sku=external_sku, defaults={"product": product}
        )
        if not created and mapping.product_id != product.pk:
            mapping.product = product
            mapping.save(update_fields=["product"])
    held = (
        Order.objects.filter(
            channel=channel,
            holds__reason=HoldReason.UNKNOWN_SKU,
            holds__released_at__isnull=True,
            lines__sku=external_sku,
            lines__product__isnull=True,
        )
        .distinct()
        .order_by("pk")
    )
    released = []
    for order in held:
        try:
            order_release(
                order=order, reason=HoldReason.UNKNOWN_SKU, note=f"{external_sku} mapped to {product.sku}", user=user
            )
        except DomainError:
            continue  # another SKU of the order is still unknown; it waits for that one
        released.append(order.number)
    return mapping, released


# ---- changes from a person or from the channel ----------------------------------------------------


@transaction.atomic
def order_change_address(
    *, order: Order, address: CanonicalAddress, user=None, source: str = "back office", reason: str = ""
) -> dict:
    """Change the ship-to address before packing. Returns {field: [old, new]} (empty: no change).

    Records who, when and what changed; re-checks the address (an incomplete one holds the
    order, a corrected one releases the address hold). Re-routing is not done here.
    """
    order = _lock(order)
    address.country = normalize_country(address.country)
    address.phone = normalize_phone(address.phone)
    changes = {}
    for name in ADDRESS_FIELDS:
        new = (getattr(address, name) or "").strip()
        old = getattr(order, f"ship_{name}")
        if new != old:
            changes[name] = [old, new]
    if not changes:
        return {}
    if order.status not in ADDRESS_CHANGEABLE:
        raise TransitionNotAllowed(
            f"Order {order.number} is {order.get_status_display()}: the address can no longer be changed."
        )
    for name, (_old, new) in changes.items():
        setattr(order, f"ship_{name}", new)
    order.save(update_fields=[f"ship_{name}" for name in changes] + ["updated_at"])
    message = f"Address changed ({source}): " + ", ".join(sorted(changes))
    if reason:
        message += f". {reason}"
    if order.status in (OrderStatus.ALLOCATED, OrderStatus.PICKING):
        message += ". Already allocated to a location: routing was not re-run."
    order_event_record(
        order=order,
        kind=EventKind.ADDRESS_CHANGED,
        user=user,
        message=message,
        data={"changes": changes, "source": source, "reason": reason},
    )
    problems = address_problems(address)
    held = order.holds.filter(reason=HoldReason.ADDRESS_INVALID, released_at__isnull=True).exists()
    if problems and not held:
        order_hold(order=order, reason=HoldReason.ADDRESS_INVALID, note="; ".join(problems), user=user)
    elif not problems and held:
        order_release(order=order, reason=HoldReason.ADDRESS_INVALID, note="address corrected", user=user)
    return changes


def order_apply_channel_update(*, order: Order, data: CanonicalOrder, source: str) -> dict:
    """Apply what a channel says changed (cancelled, address) through the same services a
    person uses, within the rules of the order's stage. Replaying the same update changes nothing.

    Returns {"changed": [...], "attention": "..."}; ``attention`` says what a person must do
    when the channel's change can no longer be applied here (e.g. cancelled after shipping).
    """
    check(data)
    outcome: dict = {"changed": [], "attention": ""}
    order.refresh_from_db()
    if order.status == OrderStatus.CANCELLED:
        return outcome
    if data.cancelled_reason:
        if order.status in CANCELLABLE:
            order_cancel(order=order, reason=f"{data.cancelled_reason} at {order.channel.name} ({source})")
            outcome["changed"].append("cancelled")
        else:
            outcome["attention"] = _refuse(
                order,
                f"{order.channel.name} says the order is {data.cancelled_reason}, but it is already "
                f"{order.get_status_display()}: not cancelled here. Handle it as a return or refund.",
                source,
            )
        return outcome
    paid = not any(reason == HoldReason.PAYMENT for reason, _note in data.holds)
    if paid and order.holds.filter(reason=HoldReason.PAYMENT, released_at__isnull=True).exists():
        order_release(order=order, reason=HoldReason.PAYMENT, note=f"paid at {order.channel.name}")
        outcome["changed"].append("paid")
    try:
        changes = order_change_address(
            order=order, address=data.ship_to, source=source, reason="update from the channel"
        )
    except TransitionNotAllowed:
        outcome["attention"] = _refuse(
            order,
            f"{order.channel.name} changed the ship-to address, but the order is already "
            f"{order.get_status_display()}: not changed here. Contact the carrier or the customer.",
            source,
        )
        return outcome
    if changes:
        outcome["changed"].append("address")
    return outcome


def _refuse(order: Order, message: str, source: str) -> str:
    """Record (once) that a channel's change could not be applied."""
    if not order.events.filter(kind=EventKind.CHANNEL_UPDATE, message=message[:500]).exists():
        order_event_record(order=order, kind=EventKind.CHANNEL_UPDATE, message=message, data={"source": source})
    return message
