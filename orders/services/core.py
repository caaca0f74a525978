"""Order state: the one status door, events, holds, releases, cancellation, classification.

``order_status_set`` is the one place that assigns ``Order.status``.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from oms import statements
from oms.errors import DomainError, TransitionNotAllowed
from oms.outbox import outbox_put_many

from ..care.notification_outbox import notice_messages
from ..care.notifications import TRIGGERS, triggered_notices
from ..intake.canonical import ADDRESS_FIELDS  # noqa: F401 (services re-export it)
from ..models import (
    Order,
    OrderEvent,
    OrderHold,
    join_tags,
)
from ..rules.classification import evaluate as classification_evaluate
from ..rules.review import review_findings
from ..selectors import products_for_channel
from ..signals import order_ready
from ..status import CANCELLABLE, HOLDABLE, EventKind, HoldReason, OrderStatus, can_transition
from ..wording import event_words, label, msg

# A ship-to address may change until the order is packed (the label is made after packing).
ADDRESS_CHANGEABLE = frozenset(
    {OrderStatus.RECEIVED, OrderStatus.CONFIRMED, OrderStatus.ALLOCATED, OrderStatus.PICKING}
)


def order_event_record(*, order: Order, kind: str, message: str, data: dict | None = None, user=None) -> OrderEvent:
    """Write one row of the order's timeline, and in the same transaction the outbox rows of the customer
    notices it asks for (orders.care.notifications.TRIGGERS); they are rendered and sent after commit."""
    with transaction.atomic(savepoint=False):  # the caller's transaction, or one of its own
        event = OrderEvent.objects.create(
            order=order, kind=kind, message=message[:500], data=data or {}, words=event_words(message), user=user
        )
        _notices_put([event])
    return event


def order_events_record(rows: list[dict], *, user=None) -> list[OrderEvent]:
    """Many timeline rows in one INSERT (e.g. a tracking push): each row is ``{"order", "kind", "message",
    "data"}``; the notices they ask for are written in one more INSERT, as `order_event_record` does."""
    if not rows:
        return []
    with transaction.atomic(savepoint=False):  # the caller's transaction, or one of its own
        events = statements.create_many(  # one prepared INSERT, the rows as arrays (oms/statements.py)
            OrderEvent,
            [
                OrderEvent(
                    order=r["order"],
                    kind=r["kind"],
                    message=r["message"][:500],
                    data=r.get("data") or {},
                    words=event_words(r["message"]),
                    user=user,
                )
                for r in rows
            ],
        )
        _notices_put(events)
    return events


EVENT_ROW_FIELDS = ("order", "kind", "message", "data", "words", "user", "created_at")


def order_event_rows_record(rows: list[dict], *, user=None) -> int:
    """`order_events_record` for a batch that does not need the events back (a tracking batch): the rows go in
    one prepared INSERT as arrays; an `OrderEvent` is built only for a row that asks for a notice (its outbox row
    names the event), and those notices in one more INSERT. Returns the number of rows written."""
    if not rows:
        return 0
    now, user_id = timezone.now(), getattr(user, "pk", None)
    values = [
        (r["order"].pk, r["kind"], r["message"][:500], r.get("data") or {}, event_words(r["message"]), user_id, now)
        for r in rows
    ]
    with transaction.atomic(savepoint=False):  # the caller's transaction, or one of its own
        if not any(v[1] in TRIGGERS and triggered_notices(v[1], v[3]) for v in values):
            statements.insert_rows(OrderEvent, EVENT_ROW_FIELDS, values)  # no key needed: nothing to wait for
            return len(values)
        keys = statements.insert_rows_returning(OrderEvent, EVENT_ROW_FIELDS, values)
        asking = [
            OrderEvent(
                pk=pk, order=r["order"], kind=v[1], message=v[2], data=v[3], words=v[4], user_id=user_id, created_at=now
            )
            for pk, r, v in zip(keys, rows, values, strict=True)
            if v[1] in TRIGGERS and triggered_notices(v[1], v[3])
        ]
        _notices_put(asking)
    return len(values)


def _notices_put(events: list[OrderEvent]) -> None:
    messages = notice_messages(events)
    if messages:
        outbox_put_many(messages)


def order_row_lock(order: Order) -> Order:
    """The order's row, locked (``order_lock`` takes an id)."""
    return Order.objects.select_for_update().get(pk=order.pk)


def order_status_set(order: Order, target: str, *, user=None, note: str = "") -> None:
    """The one door for Order.status (``ORDER_TRANSITIONS``): the status and its event. The caller holds the row
    lock. Only this package's services call it; other apps go through ``order_set_progress`` and the verbs."""
    current = order.status
    if current == target:
        return
    if not can_transition(current, target):
        raise TransitionNotAllowed(
            gettext("Order %(order_number)s cannot go from %(current)s to %(target)s.")
            % {"order_number": order.number, "current": OrderStatus(current).label, "target": OrderStatus(target).label}
        )
    order.status = target
    order.save(update_fields=["status", "updated_at"])
    message = status_message(current, target, note)
    order_event_record(
        order=order, kind=EventKind.STATUS, message=message, data={"from": current, "to": target}, user=user
    )


# ---- the timeline's phrases that one-by-one and bulk intake both write (orders/intake/bulk.py) ----------


def status_message(current: str, target: str, note="") -> str:
    statuses = {"from": label(OrderStatus(current)), "to": label(OrderStatus(target))}
    if note:
        return msg(gettext_noop("Status %(from)s → %(to)s: %(note)s"), **statuses, note=note)
    return msg(gettext_noop("Status %(from)s → %(to)s"), **statuses)


def received_message(channel_name: str, source: str, lines: int) -> str:
    return msg(
        gettext_noop("Order received from %(channel)s (%(source)s), %(lines)s line(s)."),
        channel=channel_name,
        source=source,
        lines=lines,
    )


def arrived_cancelled_message(reason: str, channel_name: str) -> str:
    return msg(
        gettext_noop("Arrived already %(reason)s at %(channel)s; kept for the record, reserves nothing."),
        reason=reason,
        channel=channel_name,
    )


def arrived_note(reason: str) -> str:
    return msg(gettext_noop("arrived %(reason)s"), reason=reason)


def validated_note() -> str:
    return msg(gettext_noop("validated"))


def unknown_sku_note(skus) -> str:
    return msg(gettext_noop("Unknown SKU: %(skus)s"), skus=", ".join(skus))


def classified_message(match) -> str:
    return msg(gettext_noop("Classified: rule %(rule)s → %(summary)s"), rule=match.rule, summary=match.summary())


def order_announce_ready(order: Order) -> None:
    """After commit, tell the listeners (routing) that the order is ready to fulfil."""
    order_id = order.pk
    transaction.on_commit(lambda: order_ready.send(sender=Order, order_id=order_id))


def order_classify(order: Order, *, user=None) -> None:
    """Apply the classification rules to the order (caller holds its lock): tags, priority, required service
    kind and capabilities, one event per matching rule, holds through ``order_hold``."""
    outcome = classification_evaluate(order)
    order.tags = join_tags(outcome.tags)
    order.required_capabilities = join_tags(outcome.capabilities)
    order.required_service_kind = outcome.service_kind
    order.packing_notes = outcome.packing_notes
    fields = ["tags", "required_capabilities", "required_service_kind", "packing_notes", "updated_at"]
    if outcome.priority is not None:
        order.priority = outcome.priority
        fields.append("priority")
    order.save(update_fields=fields)
    for match in outcome.matches:
        order_event_record(
            order=order,
            kind=EventKind.CLASSIFIED,
            user=user,
            message=classified_message(match),
            data=match.as_data(),
        )
    released = set()
    if outcome.holds and order.pk:
        # A person already looked at this very finding and released it: do not ask again.
        released = set(order.holds.filter(released_at__isnull=False).values_list("reason", "note"))
    for reason, note in outcome.holds:
        if (reason, note[:255]) in released:
            continue
        order_hold(order=order, reason=reason, note=note, user=user)


@transaction.atomic
def order_review(*, order: Order, user=None) -> list[tuple[str, str]]:
    """Run the review checks again (address, credit, risk) and hold for what they find."""
    order = order_row_lock(order)
    if order.status not in HOLDABLE:
        raise DomainError(
            gettext("Order %(order_number)s is %(order_status)s: too late to review.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    findings = review_findings(order)
    for reason, note in findings:
        order_hold(order=order, reason=reason, note=note, user=user)
    return findings


@transaction.atomic
def order_hold(*, order: Order, reason: str, note: str = "", user=None) -> Order:
    order = order_row_lock(order)
    if order.status not in HOLDABLE:
        raise DomainError(
            gettext("Order %(order_number)s is %(order_status)s and can no longer be held.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    if reason not in HoldReason.values:
        raise DomainError(gettext("Unknown hold reason '%(reason)s'.") % {"reason": reason})
    if order.holds.filter(reason=reason, released_at__isnull=True).exists():
        return order
    OrderHold.objects.create(order=order, reason=reason, note=str(note), words=event_words(note), created_by=user)
    if not order.on_hold:
        order.on_hold = True
        order.save(update_fields=["on_hold", "updated_at"])
    order_event_record(
        order=order,
        kind=EventKind.HELD,
        user=user,
        message=hold_message(reason, note),
        data={"reason": reason},
    )
    return order


def orders_hold_many(*, holds: list[tuple[Order, str]], reason: str, user=None) -> list[dict]:
    """`order_hold` for many orders at once (a routing window's orders no location can ship): the caller holds
    their locks. ``holds`` are ``(order, note)``. An order that may not be held, or already has an open hold of
    this reason, is left as it is. The holds are written in ONE INSERT and ``on_hold`` in ONE UPDATE; returns
    the HELD timeline rows, for the caller to write with its own in one INSERT (`order_events_record`)."""
    if reason not in HoldReason.values:
        raise DomainError(gettext("Unknown hold reason '%(reason)s'.") % {"reason": reason})
    candidates = [(order, note) for order, note in holds if order.status in HOLDABLE]
    if not candidates:
        return []
    already = set(
        OrderHold.objects.filter(
            order_id__in=[o.pk for o, _ in candidates], reason=reason, released_at__isnull=True
        ).values_list("order_id", flat=True)
    )
    todo = [(order, note) for order, note in candidates if order.pk not in already]
    statements.create_many(
        OrderHold,
        [
            OrderHold(order=order, reason=reason, note=str(note), words=event_words(note), created_by=user)
            for order, note in todo
        ],
    )
    now = timezone.now()
    newly = [order for order, _ in todo if not order.on_hold]
    for order in newly:
        order.on_hold, order.updated_at = True, now
    statements.update_rows(Order, ("on_hold", "updated_at"), [(o.pk, o.on_hold, o.updated_at) for o in newly])
    return [
        {
            "order": order,
            "kind": EventKind.HELD,
            "message": hold_message(reason, note),
            "data": {"reason": reason},
        }
        for order, note in todo
    ]


def hold_message(reason: str, note: str = ""):
    """The HELD event's text: the reason (its label) and the hold's note (a system note is a ``Msg``)."""
    if str(note).strip():
        return msg(gettext_noop("On hold: %(reason)s. %(note)s"), reason=label(HoldReason(reason)), note=note)
    return msg(gettext_noop("On hold: %(reason)s."), reason=label(HoldReason(reason)))


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
    order = order_row_lock(order)
    active = order.holds.filter(released_at__isnull=True)
    if reason:
        active = active.filter(reason=reason)
    holds = list(active)
    if not holds:
        raise DomainError(
            gettext("Order %(order_number)s has no such hold to release.") % {"order_number": order.number}
        )
    if any(h.reason == HoldReason.CREDIT_REVIEW for h in holds):
        if user is not None and not user.has_perm("orders.override_credit"):
            raise DomainError(
                gettext("Order %(order_number)s: only a manager may override a credit hold.")
                % {"order_number": order.number}
            )
        if not note.strip():
            raise DomainError(
                gettext("Order %(order_number)s: a credit override needs a reason.") % {"order_number": order.number}
            )
    if any(h.reason == HoldReason.FINANCE_REVIEW for h in holds):
        if user is not None and not user.has_perm("orders.finance_review"):
            raise DomainError(
                gettext("Order %(order_number)s: only finance may release a finance review hold.")
                % {"order_number": order.number}
            )
    if any(h.reason == HoldReason.UNKNOWN_SKU for h in holds):
        still_unknown = _remap_unknown_skus(order)
        if still_unknown:
            raise DomainError(
                gettext("Map these SKUs to products first: %(skus)s") % {"skus": ", ".join(sorted(set(still_unknown)))}
            )
    now = timezone.now()
    for hold in holds:
        hold.released_at = now
        hold.released_by = user
        hold.release_note = note
        hold.save(update_fields=["released_at", "released_by", "release_note"])
        order_event_record(
            order=order,
            kind=EventKind.RELEASED,
            user=user,
            message=(
                msg(gettext_noop("Released: %(reason)s. %(note)s"), reason=label(HoldReason(hold.reason)), note=note)
                if note.strip()
                else msg(gettext_noop("Released: %(reason)s."), reason=label(HoldReason(hold.reason)))
            ),
            data={"reason": hold.reason},
        )
    if not order.holds.filter(released_at__isnull=True).exists():
        order.on_hold = False
        order.save(update_fields=["on_hold", "updated_at"])
        if order.status == OrderStatus.RECEIVED:
            order_status_set(order, OrderStatus.CONFIRMED, user=user, note=msg(gettext_noop("released")))
        if order.status == OrderStatus.CONFIRMED:
            order_announce_ready(order)
    return order


def order_cancel_check(order: Order, *, reason: str) -> None:
    """Raise when ``order`` cannot be cancelled now or ``reason`` is empty; changes nothing."""
    if order.status not in CANCELLABLE:
        raise TransitionNotAllowed(
            gettext("Order %(order_number)s is %(order_status)s and cannot be cancelled.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    if not reason:
        raise DomainError(gettext("A cancellation needs a reason."))


@transaction.atomic
def order_mark_cancelled(*, order: Order, reason: str, user=None, reason_code: str = "") -> Order:
    """The order-local step of a cancellation: status, open holds, the event. Shipments and stock belong to
    fulfillment: the cross-app verb is ``workflows.cancel.order_cancel``, which releases them first. An
    order that still has a shipment that has not shipped or an open backorder is refused here (nothing would
    release its stock or close the backorder)."""
    order = order_row_lock(order)
    order_cancel_check(order, reason=reason)
    # Queries through the reverse relations (fulfillment sits above orders): not imports.
    if (
        order.shipments.filter(status__in=("reserved", "picking", "packed")).exists()
        or order.backorders.filter(resolved_at__isnull=True).exists()
    ):
        raise DomainError(
            gettext(
                "Order %(order_number)s still has shipments or backorders: cancel it with "
                "workflows.cancel.order_cancel, which releases them first."
            )
            % {"order_number": order.number}
        )
    order_status_set(order, OrderStatus.CANCELLED, user=user, note=reason)
    if order.on_hold:
        order.holds.filter(released_at__isnull=True).update(
            released_at=timezone.now(), released_by=user, release_note=gettext_noop("order cancelled")
        )
        order.on_hold = False
        order.save(update_fields=["on_hold", "updated_at"])
    order_event_record(
        order=order,
        kind=EventKind.CANCELLED,
        user=user,
        message=msg(gettext_noop("Cancelled: %(reason)s"), reason=reason),
        data={"reason_code": reason_code} if reason_code else None,
    )
    return order


def order_set_progress(*, order: Order, target: str, user=None, note: str = "") -> None:
    """Move an order along as its shipments progress; the caller holds the order's lock."""
    order_status_set(order, target, user=user, note=note)


def orders_set_progress(*, targets: list[tuple[Order, str]], note: str = "") -> list[dict]:
    """`order_set_progress` for many orders at once (a batch of tracking scans): the caller holds their locks.
    Each order that may go to its target is moved in memory; all of them are saved with ONE statement
    (`oms.statements.update_rows`). Returns their timeline rows, for the caller to write with its own in one INSERT
    (`order_events_record`): the same rows `order_status_set` writes. An order that may not go there stays."""
    moved, rows = [], []
    now = timezone.now()
    for order, target in targets:
        current = order.status
        if current == target or not can_transition(current, target):
            continue
        order.status, order.updated_at = target, now
        moved.append(order)
        rows.append(
            {
                "order": order,
                "kind": EventKind.STATUS,
                "message": status_message(current, target, note),
                "data": {"from": current, "to": target},
            }
        )
    statements.update_rows(Order, ("status", "updated_at"), [(o.pk, o.status, o.updated_at) for o in moved])
    return rows


def order_lock(order_id: int) -> Order:
    """Lock an order row for a service of another app (call inside a transaction)."""
    return Order.objects.select_for_update().get(pk=order_id)


def orders_lock(order_ids, *, fields: tuple[str, ...] = ()) -> dict[int, Order]:
    """Lock several order rows in one query, in primary-key order (call inside a transaction). ``fields``: read
    only these (a batch that needs a few columns of many orders; another one read later costs a query)."""
    return {o.pk: o for o in orders_locking(order_ids, fields=fields)}


def orders_locking(order_ids, *, fields: tuple[str, ...] = ()):
    """The query `orders_lock` evaluates (unevaluated): for a caller that sends it with its next read in one round
    trip (`oms.statements.fetch_together`), the orders still locked first."""
    locked = Order.objects.select_for_update().filter(pk__in=set(order_ids)).order_by("pk")
    return locked.only(*fields) if fields else locked
