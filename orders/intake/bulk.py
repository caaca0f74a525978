"""The bulk path for file imports: a batch of canonical orders in one transaction, with the same
outcome per order as ``services.order_create`` — the same rows (order, lines, holds, events),
the same holds (address, unknown SKU via the channel's SKU map, likely duplicate across channels,
payment), the same de-duplication by channel + external id, the same ``order_ready`` signal after
commit — but a handful of queries per batch instead of a dozen per order. On PostgreSQL the rows
are written with COPY.

If the batch cannot be written (a concurrent import of the same order, a constraint), it is
retried order by order through ``order_create``, so one bad order never spoils its batch.

Two small differences from the one-order path, both on the side of caution: a customer is matched
by an e-mail as written or in lower case (not case-insensitively), and a likely duplicate is an
order of a known customer (matched by e-mail or phone) on another channel.
"""

import json
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .. import services
from ..models import Channel, Customer, Order, OrderEvent, OrderHold, OrderLine
from ..selectors import products_for_channel
from ..signals import order_ready
from ..status import EventKind, HoldReason, OrderStatus
from .canonical import CanonicalOrder, OrderRejected, check

BATCH_SIZE = 500
logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    row: int
    status: str  # created, duplicate, rejected
    held: bool = False
    number: str = ""
    errors: list = field(default_factory=list)


def _status_message(current: str, target: str, note: str) -> str:
    return f"Status {OrderStatus(current).label} → {OrderStatus(target).label}: {note}"


def create_batch(*, channel: Channel, items: list[tuple[int, CanonicalOrder]], source: str, user=None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    ready: list[tuple[int, CanonicalOrder]] = []
    seen: set[str] = set()
    for row, data in items:
        try:
            check(data)
        except OrderRejected as exc:
            outcomes.append(Outcome(row, "rejected", errors=exc.errors))
            continue
        if data.external_id in seen:
            outcomes.append(Outcome(row, "duplicate"))
            continue
        seen.add(data.external_id)
        ready.append((row, data))
    existing = set(
        Order.objects.filter(channel=channel, external_id__in=[d.external_id for _, d in ready]).values_list(
            "external_id", flat=True
        )
    )
    fresh = []
    for row, data in ready:
        if data.external_id in existing:
            outcomes.append(Outcome(row, "duplicate"))
        else:
            fresh.append((row, data))
    if not fresh:
        return outcomes
    try:
        with transaction.atomic():
            outcomes += _write(channel, fresh, source, user)
    except IntegrityError:
        for row, data in fresh:  # one by one: the good ones still go in
            try:
                result = services.order_create(channel=channel, data=data, source=source, user=user)
            except OrderRejected as exc:
                outcomes.append(Outcome(row, "rejected", errors=exc.errors))
                continue
            status = "created" if result.created else "duplicate"
            outcomes.append(Outcome(row, status, held=result.held, number=result.order.number or ""))
    return outcomes


def _customers(fresh: list[tuple[int, CanonicalOrder]]) -> list[Customer | None]:
    contacts = [services.contact_of(d) for _, d in fresh]
    emails = {e for e, _ in contacts if e}
    phones = {p for _, p in contacts if p}
    by_email: dict[str, Customer] = {}
    by_phone: dict[str, Customer] = {}
    if emails or phones:
        for c in Customer.objects.filter(Q(email__in=emails) | Q(phone__in=phones)).order_by("-pk"):
            if c.email:
                by_email[c.email.lower()] = c
            if c.phone:
                by_phone[c.phone] = c
    result: list[Customer | None] = []
    new: list[Customer] = []
    for (_, data), (email, phone) in zip(fresh, contacts, strict=True):
        name = data.customer_name or data.ship_to.name
        customer = (by_email.get(email) if email else None) or (by_phone.get(phone) if phone else None)
        if customer is None and (email or phone or name):
            customer = Customer(
                name=(name or email or phone)[:120],
                email=data.customer_email or data.ship_to.email,
                phone=phone,
            )
            new.append(customer)
            if email:
                by_email[email] = customer
            if phone:
                by_phone.setdefault(phone, customer)
        result.append(customer)
    if new:
        Customer.objects.bulk_create(new)
    return result


def _likely_duplicates(channel, fresh, customers, products) -> dict[int, Order]:
    """index in fresh -> the order on another channel it resembles."""
    ids = {c.pk for c in customers if c is not None and c.pk}
    placed = [d.placed_at for _, d in fresh if d.placed_at]
    if not ids or not placed:
        return {}
    window = services.duplicate_window()
    candidates = (
        Order.objects.filter(
            customer_id__in=ids, placed_at__gte=min(placed) - window, placed_at__lte=max(placed) + window
        )
        .exclude(channel=channel)
        .exclude(status=OrderStatus.CANCELLED)
        .select_related("channel")
        .prefetch_related("lines")
        .order_by("pk")
    )
    by_customer: dict[int, list[Order]] = {}
    for order in candidates:
        by_customer.setdefault(order.customer_id, []).append(order)
    found = {}
    for i, ((_, data), customer) in enumerate(zip(fresh, customers, strict=True)):
        if customer is None or customer.pk not in by_customer or data.cancelled_reason:
            continue
        mine = services.item_key((getattr(products.get(ln.sku), "pk", None), ln.sku, ln.quantity) for ln in data.lines)
        when = data.placed_at
        for other in by_customer[customer.pk]:
            if when and abs(other.placed_at - when) > window:
                continue
            if services.item_key((ln.product_id, ln.sku, ln.quantity) for ln in other.lines.all()) == mine:
                found[i] = other
                break
    return found


def _write(channel, fresh, source, user) -> list[Outcome]:
    now = timezone.now()
    products = products_for_channel(channel, {ln.sku for _, d in fresh for ln in d.lines})
    customers = _customers(fresh)
    duplicates = _likely_duplicates(channel, fresh, customers, products)
    postgres = connection.vendor == "postgresql"
    ids = _reserve_ids(len(fresh)) if postgres else [None] * len(fresh)
    orders, plans = [], []
    for i, ((row, data), customer, pk) in enumerate(zip(fresh, customers, ids, strict=True)):
        holds = []
        if not data.cancelled_reason:
            holds = list(data.holds)
            unknown = sorted({ln.sku for ln in data.lines if ln.sku not in products})
            if unknown:
                holds.append((HoldReason.UNKNOWN_SKU, "Unknown SKU: " + ", ".join(unknown)))
            if i in duplicates:
                holds.append((HoldReason.DUPLICATE, services.duplicate_hold_note(duplicates[i])))
        if data.cancelled_reason:
            status = OrderStatus.CANCELLED
        elif holds:
            status = OrderStatus.RECEIVED
        else:
            status = OrderStatus.CONFIRMED
        orders.append(
            Order(
                pk=pk,
                number=f"SO{100000 + pk}" if pk else None,
                customer=customer,
                status=status,
                on_hold=bool(holds),
                created_at=now,
                updated_at=now,
                **services.order_fields(channel=channel, data=data, now=now),
            )
        )
        plans.append((row, data, holds, status))
    if postgres:
        _copy(Order, orders)
    else:
        Order.objects.bulk_create(orders)
        for order in orders:
            order.number = f"SO{100000 + order.pk}"
        Order.objects.bulk_update(orders, ["number"])
    lines, holds_rows, events, outcomes, confirmed = [], [], [], [], []
    for order, (row, data, holds, status) in zip(orders, plans, strict=True):
        for n, ln in enumerate(data.lines, start=1):
            product = products.get(ln.sku)
            lines.append(
                OrderLine(
                    order_id=order.pk,
                    line_no=n,
                    product=product,
                    sku=ln.sku,
                    name=ln.name or getattr(product, "name", ""),
                    quantity=ln.quantity,
                    unit_price=ln.unit_price,
                )
            )

        def event(kind, message, data_=None, order=order):
            events.append(
                OrderEvent(
                    order_id=order.pk, kind=kind, message=message[:500], data=data_ or {}, user=user, created_at=now
                )
            )

        event(
            EventKind.CREATED,
            f"Order received from {channel.name} ({source}), {len(data.lines)} line(s).",
            {"source": source, "external_id": data.external_id, "stock_policy": channel.stock_policy},
        )
        if status == OrderStatus.CANCELLED:
            note = f"arrived {data.cancelled_reason}"
            event(
                EventKind.STATUS,
                _status_message(OrderStatus.RECEIVED, status, note),
                {"from": "received", "to": status},
            )
            event(
                EventKind.CANCELLED,
                f"Arrived already {data.cancelled_reason} at {channel.name}; kept for the record, reserves nothing.",
                {"on_arrival": True, "reason": data.cancelled_reason},
            )
        for reason, note in holds:
            holds_rows.append(
                OrderHold(order_id=order.pk, reason=reason, note=note[:255], created_by=user, created_at=now)
            )
            event(EventKind.HELD, f"On hold: {HoldReason(reason).label}. {note}", {"reason": reason})
        if status == OrderStatus.CONFIRMED:
            event(
                EventKind.STATUS,
                _status_message(OrderStatus.RECEIVED, status, "validated"),
                {"from": "received", "to": status},
            )
            confirmed.append(order.pk)
        outcomes.append(Outcome(row, "created", held=bool(holds), number=order.number))
    if postgres:
        _copy(OrderLine, lines)
        _copy(OrderHold, holds_rows)
        _copy(OrderEvent, events)
    else:
        OrderLine.objects.bulk_create(lines)
        OrderHold.objects.bulk_create(holds_rows)
        OrderEvent.objects.bulk_create(events)
    transaction.on_commit(lambda: _announce(confirmed))
    return outcomes


def _announce(order_ids: list[int]) -> None:
    """order_ready for each confirmed order, after commit. A receiver that fails (the broker is
    down) is logged and does not stop the import: the orders stay confirmed, waiting for routing."""
    for pk in order_ids:
        for _receiver, result in order_ready.send_robust(sender=Order, order_id=pk):
            if isinstance(result, Exception):
                logger.error("order_ready for order %s failed: %r", pk, result)


def _reserve_ids(n: int) -> list[int]:
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
        return [r[0] for r in cursor.fetchall()]


def _copy(model, objects: list) -> None:
    """COPY model instances into their table; the id column is left to the database unless set."""
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and objects[0].pk is None)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    attnames = [f.attname for f in fields]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(sql) as copy:
            for obj in objects:
                values = []
                for name in attnames:
                    value = getattr(obj, name)
                    if name in json_fields:
                        value = json.dumps(value, ensure_ascii=False)
                    values.append(value)
                copy.write_row(values)
