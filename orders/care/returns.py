"""Returns: requested (by staff or the customer on the tracking page), received at a location
(sellable back on hand, damaged written off — ledger rows through inventory.services), then
refunded or exchanged (a new linked order through orders.services.order_create).

Every step locks the order first (the project's lock order), checks the return's status,
and writes an order event of kind ``return`` with data {"return", "step", ...}; the
notifications outbox turns those events into e-mails (orders.care.notifications.TRIGGERS).
The return label is a document of logistics (logistics.return_labels.return_label_pdf).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inventory.models import Location
from inventory.services import stock_return_restock, stock_write_off
from oms.errors import DomainError, TransitionNotAllowed

from ..intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from ..models import Order, OrderLine, ReturnLine, ReturnReason, ReturnRequest, ReturnResolution
from ..selectors import order_ship_to
from ..services import order_create, order_event_record, order_lock
from ..status import EventKind, OrderStatus, ReturnStatus, can_return_transition
from ..wording import label, msg, msg_list

RETURNABLE_STATUSES = frozenset({OrderStatus.DELIVERED})
CUSTOMER_SOURCE = "customer via tracking page"
OPEN_RETURN_STATUSES = frozenset({ReturnStatus.REQUESTED, ReturnStatus.RECEIVED})


def return_window_days() -> int:
    return getattr(settings, "RETURN_WINDOW_DAYS", 30)


def delivered_at(order: Order):
    event = order.events.filter(kind=EventKind.STATUS, data__to=OrderStatus.DELIVERED).order_by("created_at").first()
    return event.created_at if event else None


def returnable_quantities(order: Order) -> dict[int, int]:
    """{order line id: quantity that may still be returned} (lines in open or settled returns count)."""
    taken = dict(
        ReturnLine.objects.filter(order_line__order=order)
        .exclude(ret__status=ReturnStatus.CANCELLED)
        .values_list("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    return {line.pk: line.quantity - taken.get(line.pk, 0) for line in order.lines.all()}


def within_return_window(order: Order, *, now=None) -> bool:
    at = delivered_at(order)
    return at is None or (now or timezone.now()) - at <= timedelta(days=return_window_days())


def customer_may_return(order: Order, *, now=None) -> bool:
    """The tracking page offers a return: delivered, within the window, something left to return."""
    if order.status not in RETURNABLE_STATUSES or not within_return_window(order, now=now):
        return False
    return any(q > 0 for q in returnable_quantities(order).values())


def return_location(order: Order) -> Location:
    """Where the parcel goes back to: the location that shipped the order, else the first active one."""
    location_id = order.shipments.order_by("pk").values_list("location_id", flat=True).first()
    location = Location.objects.filter(pk=location_id).first() if location_id else None
    location = location or Location.objects.filter(active=True).order_by("pk").first()
    if location is None:
        raise DomainError(gettext("No location can take the return."))
    return location


def _event(order: Order, ret: ReturnRequest, step: str, message: str, *, user=None, **data) -> None:
    order_event_record(
        order=order,
        kind=EventKind.RETURN,
        user=user,
        message=msg(gettext_noop("Return %(return)s: %(what)s"), **{"return": ret.number, "what": message}),
        data={"return": ret.number, "step": step, **data},
    )


def _set_return_status(
    order: Order, ret: ReturnRequest, target: str, message: str, *, fields=(), user=None, **data
) -> None:
    """The one door for ``ReturnRequest.status`` (``RETURN_TRANSITIONS``): checks the move, saves the status with
    ``fields`` (what the caller changed with it) and writes the step's event on the order's timeline. The caller
    holds the locks (``_lock_return``)."""
    current = ret.status
    if not can_return_transition(current, target):
        raise TransitionNotAllowed(
            gettext("Return %(return_number)s is %(current)s; it cannot become %(target)s.")
            % {
                "return_number": ret.number,
                "current": ReturnStatus(current).label,
                "target": ReturnStatus(target).label,
            }
        )
    ret.status = target
    ret.save(update_fields=["status", *fields])
    _event(order, ret, target, message, user=user, **data)


def _lock_return(ret: ReturnRequest) -> tuple[Order, ReturnRequest]:
    order = order_lock(ret.order_id)
    return order, ReturnRequest.objects.select_for_update().get(pk=ret.pk)


@transaction.atomic
def return_create(
    *,
    order: Order,
    lines: dict[int, int],
    reason: str,
    note: str = "",
    source: str = "back office",
    resolution: str = ReturnResolution.REFUND,
    user=None,
) -> ReturnRequest:
    """Open a return of {order line id: quantity} of a delivered order."""
    order = order_lock(order.pk)
    if order.status not in RETURNABLE_STATUSES:
        raise TransitionNotAllowed(
            gettext("Order %(order_number)s is %(order_status)s: a return can start once it is delivered.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    if reason not in ReturnReason.values:
        raise DomainError(gettext("Choose a reason for the return."))
    if resolution not in ReturnResolution.values:
        raise DomainError(gettext("Choose a refund or an exchange."))
    if source == CUSTOMER_SOURCE and not within_return_window(order):
        raise DomainError(
            gettext("The return window of %(return_window_days)s days has passed for order %(order_number)s.")
            % {"return_window_days": return_window_days(), "order_number": order.number}
        )
    wanted = {int(k): int(v) for k, v in lines.items() if int(v or 0) != 0}
    if not wanted:
        raise DomainError(gettext("Choose at least one item to return."))
    left = returnable_quantities(order)
    order_lines = {line.pk: line for line in order.lines.all()}
    for line_id, quantity in wanted.items():
        if line_id not in order_lines:
            raise DomainError(gettext("That item is not part of this order."))
        if quantity < 0 or quantity > left[line_id]:
            raise DomainError(
                gettext("%(sku)s: at most %(left)s can be returned (asked %(quantity)s).")
                % {"sku": order_lines[line_id].sku, "left": left[line_id], "quantity": quantity}
            )
    ret = ReturnRequest.objects.create(
        order=order,
        reason=reason,
        note=note[:500],
        source=source[:40],
        resolution=resolution,
        location=return_location(order),
        created_by=user,
    )
    ret.number = f"RMA{100000 + ret.pk}"
    ret.save(update_fields=["number"])
    ReturnLine.objects.bulk_create(ReturnLine(ret=ret, order_line_id=k, quantity=v) for k, v in sorted(wanted.items()))
    items = ", ".join(f"{order_lines[k].sku} ×{v}" for k, v in sorted(wanted.items()))
    _event(
        order,
        ret,
        "requested",
        msg(
            gettext_noop("requested (%(source)s): %(reason)s; %(items)s; %(resolution)s. %(note)s")
            if note
            else gettext_noop("requested (%(source)s): %(reason)s; %(items)s; %(resolution)s."),
            source=source,
            reason=label(ReturnReason(reason)),
            items=items,
            resolution=label(ReturnResolution(resolution)),
            **({"note": note} if note else {}),
        ),
        user=user,
        source=source,
        reason=reason,
        lines={str(k): v for k, v in wanted.items()},
    )
    return ret


@transaction.atomic
def return_receive(*, ret: ReturnRequest, received: dict[int, tuple[int, int]], user=None) -> ReturnRequest:
    """Record what arrived at the return's location: {return line id: (sellable, damaged)}.

    Sellable units go back on hand (inventory.services.stock_return_restock, a return_restock
    ledger row); damaged ones are received and written off (a return_restock row and a
    write_off row with reason code damaged), so the ledger shows they came back and why they
    are not for sale. The reference of every row is the return's number.
    """
    order, ret = _lock_return(ret)
    if ret.status != ReturnStatus.REQUESTED:
        raise TransitionNotAllowed(
            gettext("Return %(ret_number)s is %(ret_status)s; it was received already.")
            % {"ret_number": ret.number, "ret_status": ret.get_status_display()}
        )
    lines = {line.pk: line for line in ret.lines.select_related("order_line__product")}
    counted = {int(k): (int(v[0] or 0), int(v[1] or 0)) for k, v in received.items()}
    if not any(s + d for s, d in counted.values()):
        raise DomainError(gettext("Count at least one returned item."))
    for line_id, (sellable, damaged) in counted.items():
        line = lines.get(line_id)
        if line is None:
            raise DomainError(gettext("That line is not part of this return."))
        if sellable < 0 or damaged < 0 or sellable + damaged > line.quantity:
            raise DomainError(
                gettext("%(sku)s: at most %(quantity)s came back (counted %(counted)s).")
                % {"sku": line.order_line.sku, "quantity": line.quantity, "counted": sellable + damaged}
            )
    summary = []
    for line_id, (sellable, damaged) in sorted(counted.items()):
        line = lines[line_id]
        product = line.order_line.product
        if product is None and (sellable or damaged):
            raise DomainError(
                gettext("%(order_line_sku)s is not a known product; map it before receiving.")
                % {"order_line_sku": line.order_line.sku}
            )
        why = f"return {ret.number} of {order.number}"
        if sellable:
            stock_return_restock(
                location=ret.location, product=product, quantity=sellable, reference=ret.number, user=user, reason=why
            )
        if damaged:
            stock_return_restock(
                location=ret.location,
                product=product,
                quantity=damaged,
                reference=ret.number,
                user=user,
                reason=f"{why}, damaged",
            )
            stock_write_off(
                location=ret.location,
                product=product,
                quantity=damaged,
                user=user,
                reason=f"{why}: arrived damaged",
                reference=ret.number,
            )
        line.sellable, line.damaged = sellable, damaged
        line.save(update_fields=["sellable", "damaged"])
        summary.append(
            msg(
                gettext_noop("%(sku)s %(sellable)s sellable, %(damaged)s damaged"),
                sku=line.order_line.sku,
                sellable=sellable,
                damaged=damaged,
            )
        )
    ret.received_at = timezone.now()
    message = msg(
        gettext_noop("received at %(location)s: %(summary)s."),
        location=ret.location.code,
        summary=msg_list(summary, "; "),
    )
    _set_return_status(order, ret, ReturnStatus.RECEIVED, message, fields=["received_at"], user=user)
    return ret


@transaction.atomic
def return_refund(*, ret: ReturnRequest, amount: Decimal, user=None) -> ReturnRequest:
    """Record the refund (no payment gateway is called) and close the return."""
    order, ret = _lock_return(ret)
    if ret.status not in OPEN_RETURN_STATUSES:
        raise TransitionNotAllowed(
            gettext("Return %(ret_number)s is %(ret_status)s; it is settled already.")
            % {"ret_number": ret.number, "ret_status": ret.get_status_display()}
        )
    amount = Decimal(amount)
    if amount < 0 or amount > order.total:
        raise DomainError(
            gettext("A refund is between 0 and the order's total %(total)s %(currency)s.")
            % {"total": order.total, "currency": order.currency}
        )
    ret.resolution = ReturnResolution.REFUND
    ret.refund_amount = amount
    ret.closed_at = timezone.now()
    money = f"{amount:.2f} {order.currency}"
    _set_return_status(
        order,
        ret,
        ReturnStatus.REFUNDED,
        msg(gettext_noop("refund of %(money)s recorded."), money=money),
        fields=["resolution", "refund_amount", "closed_at"],
        user=user,
        refund_amount=money,
    )
    return ret


def _exchange_data(order: Order, ret: ReturnRequest) -> CanonicalOrder:
    return CanonicalOrder(
        external_id=f"{order.external_id}-{ret.number}"[:64],
        ship_to=CanonicalAddress(**order_ship_to(order)),
        lines=[
            CanonicalLine(
                sku=line.order_line.sku, quantity=line.quantity, unit_price=Decimal("0"), name=line.order_line.name
            )
            for line in ret.lines.select_related("order_line")
        ],
        customer_name=getattr(order.customer, "name", "") or order.ship_name,
        customer_email=getattr(order.customer, "email", "") or order.ship_email,
        customer_phone=getattr(order.customer, "phone", "") or order.ship_phone,
        currency=order.currency,
        total=Decimal("0"),
        requested_service=order.requested_service,
        priority=order.priority,
        note=f"Exchange for return {ret.number} of order {order.number}.",
    )


@transaction.atomic
def return_exchange(*, ret: ReturnRequest, user=None) -> Order:
    """Send the same items again as a new order linked to the return (and so to the original order)."""
    order, ret = _lock_return(ret)
    if ret.status not in OPEN_RETURN_STATUSES:
        raise TransitionNotAllowed(
            gettext("Return %(ret_number)s is %(ret_status)s; it is settled already.")
            % {"ret_number": ret.number, "ret_status": ret.get_status_display()}
        )
    result = order_create(channel=order.channel, data=_exchange_data(order, ret), source="exchange", user=user)
    new = result.order
    ret.resolution = ReturnResolution.EXCHANGE
    ret.exchange_order = new
    ret.closed_at = timezone.now()
    _set_return_status(
        order,
        ret,
        ReturnStatus.EXCHANGED,
        msg(gettext_noop("exchanged: new order %(order)s."), order=new.number),
        fields=["resolution", "exchange_order", "closed_at"],
        user=user,
        exchange_order=new.number,
    )
    order_event_record(
        order=new,
        kind=EventKind.NOTE,
        user=user,
        message=msg(
            gettext_noop("Exchange for return %(return)s of order %(order)s."),
            **{"return": ret.number, "order": order.number},
        ),
        data={"exchange_for": order.number, "return": ret.number},
    )
    return new


def order_line_choices(order: Order) -> list[tuple[OrderLine, int]]:
    left = returnable_quantities(order)
    return [(line, left[line.pk]) for line in order.lines.all()]
