"""预售 (presale): orders promised, not routed, until their ship-from day, then released to routing in the order
they were paid.

- A product (``inventory.Product.presale_ship_from``, with an expected batch ``presale_batch_qty``) or one
  channel's listing (``ChannelSku.presale_ship_from``, before the product's) is marked presale; the channel may
  also say so itself (``CanonicalOrder.ship_from``: oms_json ``presale``/``ship_from``).
- At intake an order with such a line gets ``Order.presale_until`` (the latest of its days still to come) and a
  promise date no earlier than it, with a ``presale`` event. It is confirmed as usual but routing leaves it
  alone (``OrderQuerySet.awaiting_allocation``, ``fulfillment.routing.order_route``): not a hold, nobody must
  release it.
- ``presale_release_due`` (the beat's ``fulfillment.presale_release``) releases the orders whose day has come,
  first paid (``placed_at``) first; the fulfillment task routes them in that order in the same transaction, so
  the earliest payers get the batch. A person may release one order earlier (``order_presale_release``).
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inventory.models import Product
from inventory.services import product_presale_set
from oms.background import nudge
from oms.errors import DomainError

from ..intake.canonical import CanonicalOrder
from ..models import Channel, ChannelSku, Order, OrderEvent, OrderLine
from ..status import EventKind, OrderStatus
from ..wording import event_words, msg
from .core import order_announce_ready, order_event_record, order_lock

# Orders a presale release may still send to routing (held ones are released too; routing waits for the hold).
RELEASABLE = (OrderStatus.RECEIVED, OrderStatus.CONFIRMED)
RELEASE_CHUNK = 500
RELEASE_TASK = "fulfillment.presale_release"  # fulfillment/tasks.py: releases due orders and routes them


def presale_dates(channel: Channel, products: dict) -> dict[str, tuple[date, str]]:
    """The presale day of each SKU as the channel sends it (``products``: SKU -> Product, as
    ``products_for_channel`` finds them) and where it comes from: the channel's listing first, then the
    product. One query for the batch."""
    listed = dict(
        ChannelSku.objects.filter(
            channel=channel, external_sku__in=list(products), presale_ship_from__isnull=False
        ).values_list("external_sku", "presale_ship_from")
    )
    dates = {}
    for sku, product in products.items():
        if sku in listed:
            dates[sku] = (listed[sku], "listing")
        elif product is not None and product.presale_ship_from is not None:
            dates[sku] = (product.presale_ship_from, "product")
    return dates


def presale_plan(data: CanonicalOrder, dates: dict[str, tuple[date, str]], today: date) -> tuple[date | None, dict]:
    """(the day the order is promised and routed from, or None; why, for the event). Only days still to come
    count: a presale whose day has passed ships from stock."""
    why: dict[str, str] = {}
    days = []
    if data.ship_from is not None and data.ship_from > today:
        days.append(data.ship_from)
        why["channel"] = data.ship_from.isoformat()
    for line in data.lines:
        found = dates.get(line.sku)
        if found is not None and found[0] > today:
            days.append(found[0])
            why[line.sku] = f"{found[1]} {found[0].isoformat()}"
    return (max(days) if days else None), why


def presale_event(until: date, why: dict, promise_before: date | None) -> tuple[str, str, dict]:
    """The ``presale`` event an order gets at intake: (kind, message, data)."""
    sources = ", ".join(f"{k}: {v}" for k, v in sorted(why.items()))
    params = {"until": until.isoformat(), "sources": sources}
    message = msg(gettext_noop("Presale: ships from %(until)s (%(sources)s); routed from that day."), **params)
    data = {"until": until.isoformat(), "sources": why}
    if promise_before is None or promise_before < until:
        if promise_before:
            template = gettext_noop(
                "Presale: ships from %(until)s (%(sources)s); routed from that day. "
                "Promise date set to %(until)s (was %(before)s)."
            )
            message = msg(template, **params, before=promise_before.isoformat())
        else:
            template = gettext_noop(
                "Presale: ships from %(until)s (%(sources)s); routed from that day. Promise date set to %(until)s."
            )
            message = msg(template, **params)
        data["promise_before"] = promise_before.isoformat() if promise_before else None
    return EventKind.PRESALE, message, data


def presale_promise(promise: date | None, until: date | None) -> date | None:
    """The promise date of a presale order: no earlier than its ship-from day."""
    if until is None:
        return promise
    return until if promise is None or promise < until else promise


def presale_release_due(*, today: date | None = None, limit: int = RELEASE_CHUNK) -> list[int]:
    """Release the presale orders whose day has come (at most ``limit``), in the caller's transaction: their
    ids, first paid first (``placed_at``, then the order's id). The caller routes them in that order."""
    today = today or timezone.localdate()
    with transaction.atomic(savepoint=False):
        ids = list(
            Order.objects.presale_waiting()
            .filter(presale_until__lte=today, status__in=RELEASABLE)
            .select_for_update()
            .order_by(F("placed_at").asc(nulls_last=True), "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        now = timezone.now()
        Order.objects.filter(pk__in=ids).update(presale_released_at=now, updated_at=now)
        until = dict(Order.objects.filter(pk__in=ids).values_list("pk", "presale_until"))
        template = gettext_noop("Presale day %(until)s has come: released to routing (first paid first).")
        messages = {pk: msg(template, until=until[pk].isoformat()) for pk in ids}
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order_id=pk,
                kind=EventKind.PRESALE,
                message=messages[pk],
                data={"released": True, "until": until[pk].isoformat(), "rank": rank},
                words=event_words(messages[pk]),
                created_at=now,
            )
            for rank, pk in enumerate(ids, start=1)
        )
    return ids


@transaction.atomic
def order_presale_release(*, order: Order, note: str = "", user=None, receipt: dict | None = None) -> Order:
    """A person releases one presale order before its day (the batch came early), or a stock receipt of its
    presale product does (``receipt``, see ``presale_receipt_release``): routed as soon as possible."""
    order = order_lock(order.pk)
    if not order.presale_waiting:
        raise DomainError(
            gettext("%(order_number)s is not waiting for a presale day.") % {"order_number": order.number}
        )
    if order.status not in RELEASABLE:
        raise DomainError(
            gettext("%(order_number)s is %(order_status)s: nothing to release.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    order.presale_released_at = timezone.now()
    order.save(update_fields=["presale_released_at", "updated_at"])
    until = order.presale_until.isoformat()
    data = {"released": True, "early": True, "until": until}
    if receipt is None:
        template, params = gettext_noop("Presale released early (was until %(until)s)"), {"until": until}
    else:
        data["receipt"] = receipt
        params = {
            "quantity": receipt["quantity"],
            "sku": receipt["sku"],
            "location": receipt["location"],
            "reference": receipt.get("reference") or "",
            "until": until,
        }
        template = (
            gettext_noop(
                "Presale released by the receipt of %(quantity)s × %(sku)s at %(location)s (%(reference)s), "
                "first paid first (was until %(until)s)"
            )
            if params["reference"]
            else gettext_noop(
                "Presale released by the receipt of %(quantity)s × %(sku)s at %(location)s, "
                "first paid first (was until %(until)s)"
            )
        )
    if note:
        message = msg(gettext_noop("%(what)s: %(note)s"), what=msg(template, **params), note=note)
    else:
        message = msg(gettext_noop("%(what)s."), what=msg(template, **params))
    order_event_record(order=order, kind=EventKind.PRESALE, user=user, message=message, data=data)
    if order.status == OrderStatus.CONFIRMED and not order.on_hold:
        order_announce_ready(order)
    return order


def presale_waiting_for(product: Product) -> list[Order]:
    """The orders a receipt of ``product`` may release, locked, first paid first (``placed_at``, then id): the
    presale orders waiting with a line of it. None (nothing locked) when the product is not presale, neither
    itself nor any channel's listing of it. A receipt locks them before the stock row (the lock order of
    workflows/: order rows, then stock rows)."""
    presale = product.presale_ship_from is not None or (
        ChannelSku.objects.filter(product=product, presale_ship_from__isnull=False).exists()
    )
    if not presale:
        return []
    waiting = OrderLine.objects.filter(product=product, order__presale_released_at__isnull=True).values("order_id")
    return list(
        Order.objects.presale_waiting()
        .filter(pk__in=waiting, status__in=RELEASABLE)
        .select_for_update()
        .order_by(F("placed_at").asc(nulls_last=True), "pk")
    )


def presale_receipt_release(*, orders: list[Order], product: Product, quantity: int, receipt: dict, user=None):
    """A stock receipt of a presale product (workflows/receipts.py, after ``inventory.services.stock_receive``):
    of ``orders`` (``presale_waiting_for``, locked, first paid first) those whose quantity of the product fits
    in what was received are released through ``order_presale_release`` (one event each, naming the receipt);
    the first one that does not fit ends the run (a later payer never goes before it). An order with another
    line still presale waits on and takes nothing of the receipt. Caller's transaction. Returns the released
    orders' ids in release order."""
    if not orders or quantity <= 0:
        return []
    today = timezone.localdate()
    demand: dict[int, int] = {}
    still_presale = set()
    for line in OrderLine.objects.filter(order__in=orders).select_related("product"):
        if line.product_id == product.pk:
            demand[line.order_id] = demand.get(line.order_id, 0) + line.quantity
        elif line.product is not None and line.product.presale_ship_from and line.product.presale_ship_from > today:
            still_presale.add(line.order_id)
    left, released = quantity, []
    for order in orders:
        if order.pk in still_presale:
            continue
        if demand[order.pk] > left:
            break
        left -= demand[order.pk]
        order_presale_release(order=order, user=user, receipt=receipt)
        released.append(order.pk)
    return released


@dataclass(frozen=True)
class BatchProgress:
    """What a receipt did to its product's expected presale batch (``presale_receipt_unmark``): ``unmarked`` when
    the batch is complete; ``received`` of ``batch`` counted so far (``batch`` None: no batch is expected, the
    product is not presale or has no expected batch); ``counted`` False when this receipt was counted before."""

    unmarked: bool = False
    received: int = 0
    batch: int | None = None
    counted: bool = False

    @property
    def still_expected(self) -> int | None:
        """Units of the batch still to come (None when no batch is expected or it has come)."""
        if self.batch is None or self.unmarked:
            return None
        return max(self.batch - self.received, 0)


def receipt_key(receipt: dict) -> str:
    """A receipt as the batch counts it: its reference at its location (posted again, it is the same receipt),
    else its stock movement (a receipt without a reference cannot be told from a new one)."""
    reference = str(receipt.get("reference") or "").strip()
    if reference:
        return f"{receipt.get('location', '')}/{reference}"
    return f"movement/{receipt.get('movement')}"


def presale_receipt_unmark(*, product: Product, quantity: int, receipt: dict, user=None) -> BatchProgress:
    """A receipt counts toward the product's expected batch (``presale_batch_qty``): when the receipts counted so
    far (``Product.presale_batch_received``, one receipt or several) bring the whole batch, the presale ends: the
    product and its channel listings are sold from stock from now on (new orders are routed, not promised). Every
    order of the product still waiting (no receipt covered it) gets a ``presale`` event saying so and keeps its
    day (a person may release it earlier). A receipt posted again (same reference at the same location) counts
    once. A product without an expected batch stays presale; so does one whose batch is not complete yet (the
    progress says how much is still expected). Caller's transaction (after ``presale_receipt_release``)."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    batch = product.presale_batch_qty
    if product.presale_ship_from is None or not batch:
        return BatchProgress()
    counted = dict(product.presale_batch_received or {})
    key = receipt_key(receipt)
    is_new = key not in counted
    if is_new:
        counted[key] = quantity
    received = sum(int(v) for v in counted.values())
    if received < batch:
        if is_new:
            product.presale_batch_received = counted
            product.save(update_fields=["presale_batch_received"])
        return BatchProgress(unmarked=False, received=received, batch=batch, counted=is_new)
    product_presale_set(product=product, ship_from=None, user=user)
    ChannelSku.objects.filter(product=product, presale_ship_from__isnull=False).update(presale_ship_from=None)
    waiting = OrderLine.objects.filter(product=product, order__presale_released_at__isnull=True).values("order_id")
    orders = Order.objects.filter(pk__in=waiting, presale_until__isnull=False, status__in=RELEASABLE).order_by("pk")
    now = timezone.now()
    events = []
    for order in orders:
        if len(counted) == 1:
            message = msg(
                gettext_noop(
                    "The batch of %(sku)s arrived in full (%(quantity)s at %(location)s): %(sku)s is no longer "
                    "presale; this order still waits for %(day)s."
                ),
                sku=product.sku,
                quantity=received,
                location=receipt.get("location", ""),
                day=order.presale_until.isoformat(),
            )
        else:
            message = msg(
                gettext_noop(
                    "The batch of %(sku)s arrived in full (%(quantity)s in %(receipts)s receipts): %(sku)s is no "
                    "longer presale; this order still waits for %(day)s."
                ),
                sku=product.sku,
                quantity=received,
                receipts=len(counted),
                day=order.presale_until.isoformat(),
            )
        events.append(
            OrderEvent(
                order=order,
                kind=EventKind.PRESALE,
                message=message,
                data={"batch_receipt": receipt, "batch_receipts": counted, "unmarked": product.sku},
                words=event_words(message),
                user=user if getattr(user, "pk", None) else None,
                created_at=now,
            )
        )
    OrderEvent.objects.bulk_create(events)
    return BatchProgress(unmarked=True, received=received, batch=batch, counted=is_new)


@transaction.atomic
def listing_presale_set(*, channel: Channel, external_sku: str, ship_from: date | None, user=None) -> ChannelSku:
    """Mark (a day) or unmark (None) one channel listing presale. The listing must be in the channel's SKU map."""
    listing = ChannelSku.objects.select_for_update().filter(channel=channel, external_sku=external_sku).first()
    if listing is None:
        raise DomainError(
            gettext(
                "%(external_sku)s is not in the SKU map of %(channel_name)s: map it first, or mark the product itself."
            )
            % {"external_sku": external_sku, "channel_name": channel.name}
        )
    listing.presale_ship_from = ship_from
    listing.save(update_fields=["presale_ship_from"])
    return listing


@transaction.atomic
def presale_batch_arrived(*, product: Product, user=None) -> list[int]:
    """The product's batch has arrived (before its day, or on it): the product is sold from stock from now on,
    and its waiting presale orders become due today, unless another of their lines is still presale (then
    that line's day). After commit the release task (``fulfillment.presale_release``) routes the due ones,
    first paid first. Returns the ids of the orders brought forward."""
    today = timezone.localdate()
    waiting = OrderLine.objects.filter(product=product, order__presale_released_at__isnull=True).values("order_id")
    orders = list(
        Order.objects.filter(pk__in=waiting, presale_until__isnull=False, status__in=RELEASABLE)
        .select_for_update()
        .order_by("pk")
    )
    if product.presale_ship_from is None and not orders:
        raise DomainError(
            gettext("%(product_sku)s is not presale and no presale order waits for it.") % {"product_sku": product.sku}
        )
    others = {}
    for line in OrderLine.objects.filter(order__in=orders).exclude(product=product).select_related("product"):
        day = line.product.presale_ship_from if line.product is not None else None
        if day is not None and day > today:
            others[line.order_id] = max(day, others.get(line.order_id, day))
    now = timezone.now()
    moved, events = [], []
    for order in orders:
        day = others.get(order.pk, today)
        if day >= order.presale_until:
            continue
        message = msg(
            gettext_noop("The batch of %(sku)s arrived: presale day %(was)s brought forward to %(day)s."),
            sku=product.sku,
            was=order.presale_until.isoformat(),
            day=day.isoformat(),
        )
        events.append(
            OrderEvent(
                order=order,
                kind=EventKind.PRESALE,
                message=message,
                data={"until": day.isoformat(), "was": order.presale_until.isoformat(), "batch": product.sku},
                words=event_words(message),
                user=user,
                created_at=now,
            )
        )
        order.presale_until = day
        moved.append(order)
    Order.objects.bulk_update(moved, ["presale_until"])
    Order.objects.filter(pk__in=[o.pk for o in moved]).update(updated_at=now)
    OrderEvent.objects.bulk_create(events)
    if product.presale_ship_from is not None:
        product_presale_set(product=product, ship_from=None, user=user)
    if moved:
        nudge(RELEASE_TASK)
    return [o.pk for o in moved]
