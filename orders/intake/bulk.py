"""The bulk path for file imports: a batch of canonical orders in one transaction, with the same
outcome per order as ``services.order_create`` — the same rows (order, lines, holds, events),
the same holds (address, unknown SKU via the channel's SKU map, likely duplicate across channels,
payment), the same de-duplication by channel + external id, the same ``order_ready`` signal after
commit — but a handful of queries per batch instead of a dozen per order. On PostgreSQL every
table's rows (customers, orders, lines, holds, events) are written with COPY, as tuples: no model
instance per order (customers are read as plain values, orders classified and reviewed from a
draft of their columns) and the classification rules compiled once per process
(``classification.current_rules``).

If the batch cannot be written (a concurrent import of the same order, a constraint), it is
retried order by order through ``order_create``, so one bad order never spoils its batch.

Two small differences from the one-order path, both on the side of caution: a customer is matched
by an e-mail as written or in lower case (not case-insensitively), and a likely duplicate is an
order of a known customer (matched by e-mail or phone) on another channel.
"""

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter

from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from oms.bulk import update_from_values
from oms.outbox import outbox_put_many

from .. import services
from ..care.notification_outbox import notice_messages
from ..models import (
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    RiskSettings,
    join_tags,
)
from ..rules.classification import current_rules
from ..rules.classification import evaluate as classification_evaluate
from ..rules.finance import current_floors
from ..rules.review import credit_findings, finance_findings, message_findings, risk_findings
from ..selectors import products_for_channel
from ..services.presale import presale_event, presale_plan
from ..signals import orders_ready
from ..status import EventKind, HoldReason, InvoiceState, OrderStatus
from ..wording import event_words
from . import bulk_features as features
from .address_cn import filled_message
from .bulk_features import among as _among
from .bulk_features import insert_rows as _insert
from .bulk_features import reserve_ids as _reserve_ids
from .canonical import CanonicalOrder, FieldError, OrderRejected, check

BATCH_SIZE = 1000
logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    row: int
    status: str  # created, duplicate, rejected
    held: bool = False
    number: str = ""
    errors: list = field(default_factory=list)


def _status_message(current: str, target: str, note) -> str:
    return services.status_message(current, target, note)


def name_duplicate(data: CanonicalOrder, names: dict[str, str]) -> FieldError | None:
    """The error for an order whose channel order name (Shopify ``#1001``) an order with another id
    already has in ``names`` (name -> external id, filled as orders go by), else None."""
    name = data.channel_order_name
    if not name:
        return None
    other = names.setdefault(name, data.external_id)
    if other == data.external_id:
        return None
    return FieldError("channel_order_name", f"'{name}' is already the name of order {other}; left out as a duplicate.")


def create_batch(
    *,
    channel: Channel,
    items: list[tuple[int, CanonicalOrder]],
    source: str,
    user=None,
    names: dict[str, str] | None = None,
    notify: bool = False,
    checked: bool = False,
) -> list[Outcome]:
    """``names`` (channel order name -> external id) is kept by the caller across the batches of one
    file: a second order with a name already seen, under another id, is a duplicate. ``notify``: the
    customer notices the orders' events ask for (an order confirmed) are written to the outbox in the
    same transaction, as one-by-one intake does; a file import notifies nobody. ``checked``: the caller
    has run ``check`` on every order already (the importer does, ahead, in its reader thread) and an
    item is ``(row, OrderRejected)`` where it refused the order."""
    outcomes: list[Outcome] = []
    ready: list[tuple[int, CanonicalOrder]] = []
    seen: set[str] = set()
    names = {} if names is None else names
    for row, data in items:
        if checked:
            if isinstance(data, OrderRejected):
                outcomes.append(Outcome(row, "rejected", errors=data.errors))
                continue
        else:
            try:
                check(data)
            except OrderRejected as exc:
                outcomes.append(Outcome(row, "rejected", errors=exc.errors))
                continue
        if data.external_id in seen:
            outcomes.append(Outcome(row, "duplicate"))
            continue
        clash = name_duplicate(data, names)
        if clash is not None:
            outcomes.append(Outcome(row, "duplicate", errors=[clash]))
            continue
        seen.add(data.external_id)
        ready.append((row, data))
    existing = set(
        _among(Order.objects.filter(channel=channel), "external_id", [d.external_id for _, d in ready]).values_list(
            "external_id", flat=True
        )
    )
    named = {d.channel_order_name for _, d in ready if d.channel_order_name and d.external_id not in existing}
    taken = dict(
        _among(Order.objects.filter(channel=channel), "channel_order_name", named).values_list(
            "channel_order_name", "number"
        )
        if named
        else []
    )
    fresh = []
    for row, data in ready:
        if data.external_id in existing:
            outcomes.append(Outcome(row, "duplicate"))
        elif data.channel_order_name in taken:
            message = f"'{data.channel_order_name}' is already the name of order {taken[data.channel_order_name]}."
            outcomes.append(Outcome(row, "duplicate", errors=[FieldError("channel_order_name", message)]))
        else:
            fresh.append((row, data))
    if not fresh:
        return outcomes
    try:
        with transaction.atomic():
            outcomes += _write(channel, fresh, source, user, notify=notify)
    except Exception:  # noqa: BLE001 - a concurrent import, a value the checks let through: one by one
        logger.warning("bulk intake of %d order(s) failed; creating them one by one", len(fresh), exc_info=True)
        outcomes += [_create_one(channel, row, data, source, user) for row, data in fresh]
    return outcomes


def _create_one(channel, row: int, data: CanonicalOrder, source: str, user) -> Outcome:
    """One order through ``order_create``, in its own savepoint: whatever it raises rejects this order
    alone, with a message for people (the database's own text goes to the log)."""
    try:
        with transaction.atomic():
            result = services.order_create(channel=channel, data=data, source=source, user=user)
    except OrderRejected as exc:
        return Outcome(row, "rejected", errors=exc.errors)
    except Exception as exc:  # noqa: BLE001 - logged; the row is reported and the file goes on
        logger.exception("order %s (row %s) could not be stored", data.external_id, row)
        kind = "the database refused it" if isinstance(exc, DatabaseError) else "it could not be processed"
        message = f"the order was not stored: {kind} ({exc.__class__.__name__}); nothing of it was written."
        return Outcome(row, "rejected", errors=[FieldError("order", message)])
    return Outcome(
        row, "created" if result.created else "duplicate", held=result.held, number=result.order.number or ""
    )


class _Customer:
    """A customer as the batch reads it: found (by e-mail or phone) or new (its row written from these
    values). Classification and review read ``is_business`` and ``credit_limit``; no model instance."""

    __slots__ = ("pk", "name", "email", "phone", "is_business", "credit_limit", "new")

    def __init__(self, pk, name: str, email: str, phone: str, is_business=False, credit_limit=None, new=False):
        self.pk, self.name, self.email, self.phone = pk, name, email, phone
        self.is_business, self.credit_limit, self.new = is_business, credit_limit, new


_CUSTOMER_VALUES = ("pk", "name", "email", "phone", "is_business", "credit_limit")


def _customers(fresh: list[tuple[int, CanonicalOrder]], now) -> list[_Customer | None]:
    """Each order's customer, matched set-based: two lookups for the batch (plain values), and the new
    customers written in one statement."""
    contacts = [services.contact_of(d) for _, d in fresh]
    emails = {e for e, _ in contacts if e}
    phones = {p for _, p in contacts if p}
    by_email: dict[str, _Customer] = {}
    by_phone: dict[str, _Customer] = {}
    if emails or phones:
        # Two lookups, not one with OR: each uses its index (with OR, PostgreSQL scans the table).
        found = {}
        for column, values in (("email", emails), ("phone", phones)):
            if values:
                rows = _among(Customer.objects.all(), column, values).values_list(*_CUSTOMER_VALUES)
                found.update((v[0], v) for v in rows)
        for values in sorted(found.values(), key=lambda v: -v[0]):
            c = _Customer(*values)
            if c.email:
                by_email[c.email.lower()] = c
            if c.phone:
                by_phone[c.phone] = c
    result: list[_Customer | None] = []
    new: list[_Customer] = []
    for (_, data), (email, phone) in zip(fresh, contacts, strict=True):
        name = data.customer_name or data.ship_to.name
        customer = (by_email.get(email) if email else None) or (by_phone.get(phone) if phone else None)
        if customer is None and (email or phone or name):
            label = (name or email or phone)[:120]
            customer = _Customer(None, label, data.customer_email or data.ship_to.email, phone, new=True)
            new.append(customer)
            if email:
                by_email[email] = customer
            if phone:
                by_phone.setdefault(phone, customer)
        result.append(customer)
    if new and connection.vendor == "postgresql":
        for customer, pk in zip(new, _reserve_ids(Customer, len(new)), strict=True):
            customer.pk = pk
        rows = [(c.pk, c.name, c.email, c.phone, now) for c in new]
        _insert(Customer, ("id", "name", "email", "phone", "created_at"), rows)
    elif new:
        rows = Customer.objects.bulk_create([Customer(name=c.name, email=c.email, phone=c.phone) for c in new])
        for customer, stored in zip(new, rows, strict=True):
            customer.pk = stored.pk
    return result


def _likely_duplicates(channel, fresh, customers, products) -> dict[int, Order]:
    """index in fresh -> the order on another channel it resembles."""
    ids = {c.pk for c in customers if c is not None and not c.new}  # a new customer has no orders yet
    placed = [d.placed_at for _, d in fresh if d.placed_at]
    if not ids or not placed:
        return {}
    window = services.duplicate_window()
    candidates = (
        _among(Order.objects.all(), "customer", ids)
        .filter(placed_at__gte=min(placed) - window, placed_at__lte=max(placed) + window)
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


class _Review:
    """What the review checks (orders/rules/review.py) read from the database, fetched once per batch: the
    risk settings, the open orders' total of business customers with a credit limit (kept up to date
    as the batch adds orders, as one-by-one creation would see them) and which customers had an order
    delivered."""

    def __init__(self, customers: list[_Customer | None]):
        self.settings = RiskSettings.current()
        self.floors = current_floors()
        known = {c.pk for c in customers if c is not None and not c.new}  # a new customer has no orders yet
        limited = {c.pk for c in customers if c is not None and c.pk and c.is_business and c.credit_limit is not None}
        self.open_total: dict[int, Decimal] = dict.fromkeys(limited, Decimal("0"))
        if limited:
            rows = (
                Order.objects.open()
                .filter(customer_id__in=limited)
                .values("customer_id")
                .annotate(s=Sum("total"))
                .order_by()
            )
            for row in rows:
                self.open_total[row["customer_id"]] = row["s"] or Decimal("0")
        self.delivered: set[int] = set()
        if known and self.settings.high_value_new_customer is not None:
            self.delivered = set(
                _among(Order.objects.filter(status=OrderStatus.DELIVERED), "customer", known)
                .values_list("customer_id", flat=True)
                .distinct()
            )

    def findings(self, order, lines) -> list[tuple[str, str]]:
        customer_id = order.customer.pk if order.customer is not None else None
        found = credit_findings(order, open_total=self.open_total.get(customer_id))
        found += risk_findings(order, self.settings, delivered_before=customer_id in self.delivered)
        found += message_findings(order, self.settings)
        found += finance_findings(order, lines, self.floors)
        if customer_id in self.open_total:
            self.open_total[customer_id] += order.total or 0  # open now, for the next order of this customer
        return found


class _Draft:
    """A new order as classification and review read it (orders/rules/classification.py ``order_facts``,
    orders/rules/review.py), before its row exists: the canonical order's columns, no model instance."""

    __slots__ = (
        "pk",
        "channel_id",
        "customer",
        "total",
        "currency",
        "ship_country",
        "ship_province",
        "requested_service",
        "promise_date",
        "billing_country",
        "payment_method",
        "buyer_message",
        "seller_memo",
    )

    def __init__(self, fields: dict, channel_id: int, customer):
        self.pk, self.channel_id, self.customer = None, channel_id, customer
        self.total, self.currency = fields["total"], fields["currency"]
        self.ship_country, self.ship_province = fields["ship_country"], fields["ship_province"]
        self.requested_service, self.promise_date = fields["requested_service"], fields["promise_date"]
        self.billing_country, self.payment_method = fields["billing_country"], fields["payment_method"]
        self.buyer_message, self.seller_memo = fields["buyer_message"], fields["seller_memo"]


# The Order columns _write sets itself; the others come from services.order_fields.
_ORDER_OWN = (
    "id",
    "number",
    "channel_id",
    "customer_id",
    "status",
    "on_hold",
    "created_at",
    "updated_at",
    "tags",
    "required_capabilities",
    "required_service_kind",
    "packing_notes",
)


def _write(channel, fresh, source, user, *, notify: bool = False) -> list[Outcome]:
    now = timezone.now()
    today = timezone.localdate()
    user_id = user.pk if user is not None else None
    products = products_for_channel(channel, {ln.sku for _, d in fresh for ln in d.lines})
    presale_days = features.batch_presale_days(channel, products)
    customers = _customers(fresh, now)
    duplicates = _likely_duplicates(channel, fresh, customers, products)
    rules = current_rules()
    review = _Review(customers)
    gifts = features.batch_gifts(channel, fresh, customers, products, now)  # 赠品
    postgres = connection.vendor == "postgresql"
    ids = _reserve_ids(Order, len(fresh)) if postgres else [None] * len(fresh)
    validated = _status_message(OrderStatus.RECEIVED, OrderStatus.CONFIRMED, services.validated_note())
    # What many orders of the batch say alike is made once: the received message per number of lines, the
    # confirmed status row's data, each message's stored words (``insert_rows`` writes an object's JSON once).
    received = features.memo(lambda n: services.received_message(channel.name, source, n))
    to_confirmed = {"from": "received", "to": OrderStatus.CONFIRMED}
    held = features.memo(lambda reason: {"reason": reason})  # a HELD event's data: one object per reason
    words = features.Words()
    keys: tuple[str, ...] = ()
    rows, plans = [], []
    lines, holds_rows, events, outcomes, confirmed = [], [], [], [], []
    invoices: list[dict] = []
    # On PostgreSQL the orders' COPY runs while the loop works out the next orders (the server stores the first
    # rows meanwhile): nothing in the loop asks the database anything.
    write_order = None
    with ExitStack() as stack:
        for i, ((row, data), customer, pk) in enumerate(zip(fresh, customers, ids, strict=True)):
            presale = (None, {}) if data.cancelled_reason else presale_plan(data, presale_days, today)
            fields = services.order_fields(channel=channel, data=data, now=now, presale_until=presale[0])
            if not keys:
                keys = tuple(k for k in fields if k != "channel")  # by id: channel_id is one of _ORDER_OWN
                take = itemgetter(*keys)  # the values of keys, in one C call
            draft = _Draft(fields, channel.pk, customer)
            pairs = [(products.get(ln.sku), ln.quantity) for ln in data.lines]
            # (kind, message, data) and (reason, note) in the order one-by-one creation writes them.
            order_events: list[tuple[str, str, dict]] = [
                (
                    EventKind.CREATED,
                    received(len(data.lines)),
                    {"source": source, "external_id": data.external_id, "stock_policy": channel.stock_policy},
                )
            ]
            if data.invoice is not None:
                state = InvoiceState.CANCELLED if data.cancelled_reason else InvoiceState.REQUESTED
                message = services.invoice_requested_message(data.invoice)
                order_events.append((EventKind.INVOICE, message, {"state": state, "source": source}))
            if data.address_filled:
                order_events.append(
                    (EventKind.ADDRESS_PARSED, filled_message(data.address_filled), {"filled": data.address_filled})
                )
            if presale[0] is not None:
                order_events.append(presale_event(presale[0], presale[1], data.promise_date))
            order_holds: list[tuple[str, str]] = []
            order_gifts = []
            tags = capabilities = service_kind = packing_notes = ""
            if data.cancelled_reason:
                status, on_hold = OrderStatus.CANCELLED, False
                order_events.append(
                    (
                        EventKind.STATUS,
                        _status_message(
                            OrderStatus.RECEIVED, OrderStatus.CANCELLED, services.arrived_note(data.cancelled_reason)
                        ),
                        {"from": "received", "to": OrderStatus.CANCELLED},
                    )
                )
                order_events.append(
                    (
                        EventKind.CANCELLED,
                        services.arrived_cancelled_message(data.cancelled_reason, channel.name),
                        {"on_arrival": True, "reason": data.cancelled_reason},
                    )
                )
            else:
                # Intake's holds (as services._order_create finds them), each written as it comes.
                intake = list(data.holds)
                unknown = sorted({ln.sku for ln in data.lines if ln.sku not in products})
                if unknown:
                    intake.append((HoldReason.UNKNOWN_SKU, services.unknown_sku_note(unknown)))
                if i in duplicates:
                    intake.append((HoldReason.DUPLICATE, services.duplicate_hold_note(duplicates[i])))
                for reason, note in intake:
                    order_holds.append((reason, note))
                    order_events.append((EventKind.HELD, services.hold_message(reason, note), held(reason)))
                # 赠品: gift lines after the order's own, an event each; then classified with the rest.
                line_no = len(data.lines)
                gift_holds = []
                for decision in gifts[i]:
                    number = None
                    if decision.added:
                        line_no += 1
                        number = line_no
                        order_gifts.append((line_no, decision))
                        pairs.append((decision.product, decision.quantity))
                    message, event_data = decision.event(number)
                    order_events.append((EventKind.GIFT, message, event_data))
                    if decision.hold:
                        gift_holds.append((HoldReason.STOCK_SHORT, decision.hold_note()))
                for reason, note in gift_holds[:1]:  # as order_hold: one active hold per reason
                    if reason not in {r for r, _ in order_holds}:
                        order_holds.append((reason, note))
                        order_events.append((EventKind.HELD, services.hold_message(reason, note), held(reason)))
                # Classification, then review, through order_hold's rule: one active hold per reason.
                outcome = classification_evaluate(draft, rules=rules, today=today, lines=pairs)
                tags, capabilities = join_tags(outcome.tags), join_tags(outcome.capabilities)
                service_kind, packing_notes = outcome.service_kind, outcome.packing_notes
                if outcome.priority is not None:
                    fields["priority"] = outcome.priority
                for match in outcome.matches:
                    order_events.append((EventKind.CLASSIFIED, services.classified_message(match), match.as_data()))
                active = {reason for reason, _ in order_holds}
                priced = [
                    (n, ln.sku, product, ln.unit_price)
                    # the order's own lines: the gifts added after them are left out of the price check
                    for n, (ln, (product, _q)) in enumerate(zip(data.lines, pairs, strict=False), start=1)
                ]
                for reason, note in list(outcome.holds) + review.findings(draft, priced):
                    if reason in active:
                        continue
                    active.add(reason)
                    order_holds.append((reason, note))
                    order_events.append((EventKind.HELD, services.hold_message(reason, note), held(reason)))
                if order_holds:
                    status, on_hold = OrderStatus.RECEIVED, True
                else:
                    status, on_hold = OrderStatus.CONFIRMED, False
                    order_events.append((EventKind.STATUS, validated, to_confirmed))
            own = (pk, f"SO{100000 + pk}" if pk else None, channel.pk, customer.pk if customer is not None else None)
            own += (status, on_hold, now, now, tags, capabilities, service_kind, packing_notes)
            rows.append(own + take(fields))
            if postgres:
                if write_order is None:
                    write_order = stack.enter_context(features.stream_rows(Order, _ORDER_OWN + keys, rows))
                write_order(rows[-1])
            plans.append((row, data, pairs, order_holds, order_events, order_gifts))
    columns = _ORDER_OWN + keys
    if postgres:
        numbers = [(pk, values[1]) for pk, values in zip(ids, rows, strict=True)]
    else:
        stored = Order.objects.bulk_create([Order(**dict(zip(columns, values, strict=True))) for values in rows])
        for order in stored:
            order.number = f"SO{100000 + order.pk}"
        update_from_values(Order, ("number",), [(order.pk, order.number) for order in stored])
        numbers = [(order.pk, order.number) for order in stored]
    plan_rows = zip(numbers, rows, plans, strict=True)
    for (pk, number), values, (row, data, pairs, order_holds, order_events, order_gifts) in plan_rows:
        for n, (ln, (product, _quantity)) in enumerate(zip(data.lines, pairs, strict=False), start=1):
            lines.append(
                (
                    pk,
                    n,
                    product.pk if product is not None else None,
                    ln.sku,
                    ln.name or getattr(product, "name", ""),
                    ln.quantity,
                    ln.unit_price,
                    ln.gift,
                    None,
                )
            )
        for n, gift in order_gifts:
            product = gift.product
            lines.append((pk, n, product.pk, product.sku, product.name, gift.quantity, 0, True, gift.rule_id))
        for reason, note in order_holds:
            holds_rows.append((pk, reason, str(note), event_words(note), user_id, now))
        if data.invoice is not None:
            invoices.append(features.invoice_row(pk, data, source))
        for kind, message, event_data in order_events:
            events.append((pk, kind, message[:500], event_data, words(message), user_id, now))
        status, on_hold = values[4], values[5]
        if status == OrderStatus.CONFIRMED:
            confirmed.append(pk)
        outcomes.append(Outcome(row, "created", held=on_hold, number=number))
    line_columns = ("order_id", "line_no", "product_id", "sku", "name", "quantity", "unit_price", "is_gift")
    _insert(OrderLine, (*line_columns, "gift_rule_id"), lines)
    _insert(OrderHold, ("order_id", "reason", "note", "words", "created_by_id", "created_at"), holds_rows)
    features.write_invoices(invoices, now)
    if notify:
        _events_with_notices(events, rows, columns)
    else:
        _insert(OrderEvent, ("order_id", "kind", "message", "data", "words", "user_id", "created_at"), events)
    if confirmed:
        features.auto_merge(confirmed, user)  # 自动合单, before routing
        transaction.on_commit(lambda: _announce(confirmed))
    return outcomes


def _events_with_notices(events: list[tuple], rows: list[tuple], columns: tuple[str, ...]) -> None:
    """The batch's timeline rows with ids (one INSERT), then the customer notices they ask for in the
    outbox (one INSERT): what ``order_event_record`` does one by one."""
    contact = [columns.index(name) for name in ("id", "customer_id", "ship_email", "ship_phone", "number")]
    orders = {}
    for values in rows:
        pk, customer_id, email, phone, number = (values[i] for i in contact)
        if pk is not None:
            orders[pk] = Order(pk=pk, customer_id=customer_id, ship_email=email, ship_phone=phone, number=number)
    missing = {e[0] for e in events} - set(orders)  # SQLite: ids were given by the INSERT
    if missing:
        orders.update(Order.objects.only("pk", "customer_id", "ship_email", "ship_phone", "number").in_bulk(missing))
    stored = OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=orders[pk], kind=kind, message=message, data=data, words=words, user_id=user_id, created_at=at
            )
            for pk, kind, message, data, words, user_id, at in events
        ]
    )
    outbox_put_many(notice_messages(stored))


def _announce(order_ids: list[int]) -> None:
    """``orders_ready`` once for the batch's confirmed orders, after commit (fulfillment routes them in
    chunks). A receiver that fails (the broker is down) is logged and does not stop the import: the
    orders stay confirmed, waiting for routing."""
    for _receiver, result in orders_ready.send_robust(sender=Order, order_ids=list(order_ids)):
        if isinstance(result, Exception):
            logger.error("orders_ready for %d order(s) from %s failed: %r", len(order_ids), order_ids[0], result)
