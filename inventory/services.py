"""Every write to stock: each is one transaction and writes its ledger rows in it.

Reservations use a guarded UPDATE (``reserved + q <= on_hand``), so nothing oversells whatever
runs at once. A writer that touches several stock rows takes them in (location_id, product_id)
order, the order of the unique index, so concurrent writers never deadlock on each other.
Anything that takes stock out of on hand outside a shipment (adjustment, write-off, transfer
out, count) is guarded the same way by ``on_hand - q >= reserved``: stock promised to an order
is never taken away underneath it.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from oms.errors import DomainError, InsufficientStock
from oms.roles import MANAGER

from .bins import bin_check
from .models import (
    DEFAULT_REASON_CODE,
    Location,
    MovementKind,
    Product,
    ReasonCode,
    Stock,
    StockMovement,
    StockReceipt,
    StockRule,
    Transfer,
    TransferLine,
    TransferStatus,
)

# Reservations (reserve, release, ship; one request or a routing window) live in reservations.py: one
# statement per request on PostgreSQL. Re-exported here, the door other apps use.
from .reservations import (  # noqa: F401
    StockRequest,
    stock_release,
    stock_reserve,
    stock_reserve_batch,
    stock_ship,
)
from .selectors import low_stock_alerts


def _stock_row(location: Location, product: Product) -> Stock:
    stock, _ = Stock.objects.get_or_create(location=location, product=product)
    return stock


def _positive(quantity, what: str) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError(
            gettext("%(what)s must be a whole number, not %(value)s.") % {"what": what, "value": repr(quantity)}
        )
    if quantity <= 0:
        raise DomainError(
            gettext("%(what)s must be more than zero (got %(value)s).") % {"what": what, "value": quantity}
        )
    return quantity


def _reason_code(code: str, kind: str) -> str:
    code = code or DEFAULT_REASON_CODE[kind]
    if code not in ReasonCode.values:
        raise DomainError(
            gettext("Unknown reason code %(code)s; use one of %(codes)s.")
            % {"code": repr(code), "codes": ", ".join(ReasonCode.values)}
        )
    return code


def _movement(location, product, kind, *, on_hand=0, reserved=0, reason_code="", **kw) -> StockMovement:
    return StockMovement(
        location_id=getattr(location, "pk", location),
        product_id=getattr(product, "pk", product),
        kind=kind,
        reason_code=_reason_code(reason_code, kind),
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        **kw,
    )


def _take_out(stock: Stock, quantity: int, what: str) -> None:
    """on_hand -= quantity, never below what is reserved (guarded UPDATE)."""
    changed = Stock.objects.filter(pk=stock.pk, on_hand__gte=F("reserved") + quantity).update(
        on_hand=F("on_hand") - quantity
    )
    if not changed:
        stock.refresh_from_db()
        raise InsufficientStock(
            gettext(
                "%(sku)s at %(location)s: on hand %(on_hand)s, reserved %(reserved)s, available %(available)s; "
                "cannot %(what)s %(quantity)s."
            )
            % {
                "sku": stock.product.sku,
                "location": stock.location.code,
                "on_hand": stock.on_hand,
                "reserved": stock.reserved,
                "available": stock.on_hand - stock.reserved,
                "what": what,
                "quantity": quantity,
            }
        )


# ---- receipts, adjustments, counts, write-offs, returns ---------------------------------------


def receipt_already(receipt: StockReceipt) -> str:
    """What a receipt posted again says: it was received before, nothing is added."""
    return gettext(
        "Receipt %(reference)s of %(sku)s at %(location)s was already received on %(at)s (%(quantity)s): nothing added."
    ) % {
        "reference": receipt.reference,
        "sku": receipt.product.sku,
        "location": receipt.location.code,
        "at": timezone.localtime(receipt.created_at).strftime("%Y-%m-%d %H:%M"),
        "quantity": receipt.quantity,
    }


def _receipt_seen(location, product, reference: str, quantity: int) -> StockReceipt | None:
    """The earlier receipt under this reference, when there is one; a different quantity under it is refused."""
    seen = (
        StockReceipt.objects.select_related("location", "product", "movement")
        .filter(location=location, product=product, reference=reference)
        .first()
    )
    if seen is not None and seen.quantity != quantity:
        raise DomainError(
            gettext(
                "Receipt %(reference)s of %(sku)s at %(location)s was already received with %(received)s on "
                "%(at)s; %(quantity)s under the same reference is refused, nothing was added. Use a new reference "
                "for another delivery."
            )
            % {
                "reference": reference,
                "sku": product.sku,
                "location": location.code,
                "received": seen.quantity,
                "at": timezone.localtime(seen.created_at).strftime("%Y-%m-%d %H:%M"),
                "quantity": quantity,
            }
        )
    return seen


@transaction.atomic
def stock_receive(
    *,
    location: Location,
    product: Product,
    quantity: int,
    user=None,
    reason: str = "",
    reference: str = "",
    bin: str = "",
    reason_code: str = "",
    once: bool = True,
) -> Stock:
    """Goods in. A receipt with a reference is received once per (location, product, reference): posted again
    with the same quantity it adds nothing (``stock.already_received`` says so), with another quantity it is
    refused (DomainError, nothing written). Without a reference (or ``once=False``: the opening balance's
    default reference) every post adds."""
    _positive(quantity, gettext("A receipt's quantity"))
    bin = bin_check(location, bin)  # an active bin of the location, when it has bins (inventory/bins.py)
    reference = (reference or "").strip()
    if not (reference and once):
        return _received(*_receive(location, product, quantity, bin, reason_code, reason, reference, user))
    seen = _receipt_seen(location, product, reference, quantity)
    if seen is None:
        # The receipt row goes in after its ledger row, pointing at it; its insert is the guard (unique
        # constraint): of two identical posts at once, the second waits for the first, meets its row, and the
        # savepoint takes back its stock and ledger row.
        try:
            with transaction.atomic():
                stock, movement = _receive(location, product, quantity, bin, reason_code, reason, reference, user)
                StockReceipt.objects.create(
                    location=location,
                    product=product,
                    reference=reference,
                    quantity=quantity,
                    movement=movement,
                    user=user,
                )
            return _received(stock, movement)
        except IntegrityError:
            seen = _receipt_seen(location, product, reference, quantity)
            if seen is None:
                raise
    stock = _stock_row(location, product)
    stock.already_received = receipt_already(seen)
    stock.movement = seen.movement
    return stock


def _receive(location, product, quantity: int, bin: str, reason_code: str, reason: str, reference: str, user):
    """The receipt's stock and ledger row: (stock, movement)."""
    stock = _stock_row(location, product)
    updates = {"on_hand": F("on_hand") + quantity}
    if bin:
        updates["bin"] = bin
    Stock.objects.filter(pk=stock.pk).update(**updates)
    movement = _movement(
        location,
        product,
        MovementKind.RECEIPT,
        on_hand=quantity,
        reason_code=reason_code,
        reason=reason,
        reference=reference,
        user=user,
    )
    movement.save()
    return stock, movement


def _received(stock: Stock, movement: StockMovement) -> Stock:
    stock.refresh_from_db()
    stock.already_received = ""
    stock.movement = movement
    return stock


@transaction.atomic
def stock_adjust(
    *,
    location: Location,
    product: Product,
    delta: int,
    user=None,
    reason: str,
    reference: str = "",
    reason_code: str = "",
) -> Stock:
    """Add or take away on-hand stock; never below what is reserved."""
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise DomainError(gettext("An adjustment must be a whole number, not %(value)s.") % {"value": repr(delta)})
    if delta == 0:
        raise DomainError(gettext("An adjustment needs a non-zero quantity."))
    if not reason:
        raise DomainError(gettext("An adjustment needs a reason."))
    code = _reason_code(reason_code, MovementKind.ADJUSTMENT)
    stock = _stock_row(location, product)
    changed = Stock.objects.filter(pk=stock.pk, on_hand__gte=F("reserved") - delta).update(on_hand=F("on_hand") + delta)
    if not changed:
        stock.refresh_from_db()
        raise InsufficientStock(
            gettext(
                "%(sku)s at %(location)s: on hand %(on_hand)s, reserved %(reserved)s; "
                "cannot adjust by %(delta)s: stock would fall below what is reserved for orders."
            )
            % {
                "sku": product.sku,
                "location": location.code,
                "on_hand": stock.on_hand,
                "reserved": stock.reserved,
                "delta": delta,
            }
        )
    _movement(
        location,
        product,
        MovementKind.ADJUSTMENT,
        on_hand=delta,
        reason_code=code,
        reason=reason,
        reference=reference,
        user=user,
    ).save()
    stock.refresh_from_db()
    return stock


@transaction.atomic
def stock_count(
    *, location: Location, product: Product, counted: int, user=None, reason: str = "", reference: str = ""
) -> StockMovement:
    """A cycle count: on hand becomes what was counted; the ledger gets the difference (a COUNT row,
    also when the count matches, so the ledger shows the product was counted)."""
    if isinstance(counted, bool) or not isinstance(counted, int):
        raise DomainError(gettext("A count must be a whole number, not %(value)s.") % {"value": repr(counted)})
    if counted < 0:
        raise DomainError(gettext("A count cannot be negative (got %(value)s).") % {"value": counted})
    stock = _stock_row(location, product)
    stock = Stock.objects.select_for_update().get(pk=stock.pk)
    if counted < stock.reserved:
        raise InsufficientStock(
            gettext(
                "%(sku)s at %(location)s: counted %(counted)s but %(reserved)s are reserved for orders. "
                "Recount, or release those orders' stock first."
            )
            % {"sku": product.sku, "location": location.code, "counted": counted, "reserved": stock.reserved}
        )
    delta = counted - stock.on_hand
    Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + delta)
    movement = _movement(
        location,
        product,
        MovementKind.COUNT,
        on_hand=delta,
        reason=reason or f"counted {counted}, system had {stock.on_hand}",
        reference=reference,
        user=user,
    )
    movement.save()
    return movement


@transaction.atomic
def stock_write_off(
    *,
    location: Location,
    product: Product,
    quantity: int,
    user=None,
    reason: str,
    reason_code: str = ReasonCode.DAMAGED,
    reference: str = "",
) -> Stock:
    """Damaged, expired or lost goods leave on hand; never what is reserved."""
    _positive(quantity, gettext("A write-off's quantity"))
    if not reason:
        raise DomainError(gettext("A write-off needs a reason."))
    code = _reason_code(reason_code, MovementKind.WRITE_OFF)
    stock = _stock_row(location, product)
    _take_out(stock, quantity, gettext("write off"))
    _movement(
        location,
        product,
        MovementKind.WRITE_OFF,
        on_hand=-quantity,
        reason_code=code,
        reason=reason,
        reference=reference,
        user=user,
    ).save()
    stock.refresh_from_db()
    return stock


@transaction.atomic
def stock_return_restock(
    *, location: Location, product: Product, quantity: int, reference: str, user=None, reason: str = ""
) -> Stock:
    """A customer return that is fit to sell goes back on hand."""
    _positive(quantity, "A restocked quantity")
    stock = _stock_row(location, product)
    Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + quantity)
    _movement(
        location,
        product,
        MovementKind.RETURN_RESTOCK,
        on_hand=quantity,
        reason=reason,
        reference=reference,
        user=user,
    ).save()
    stock.refresh_from_db()
    return stock


# ---- transfers ------------------------------------------------------------------------------


@transaction.atomic
def transfer_dispatch(
    *,
    from_location: Location,
    to_location: Location,
    lines: Iterable[tuple[Product, int]],
    user=None,
    note: str = "",
) -> Transfer:
    """Send stock to another location: on hand leaves the source now (transfer_out) and is in
    transit until ``transfer_receive``. All lines or none."""
    if from_location.pk == to_location.pk:
        raise DomainError(
            gettext("A transfer needs two different locations (both are %(code)s).") % {"code": from_location.code}
        )
    merged: dict[int, list] = {}
    for product, quantity in lines:
        _positive(quantity, gettext("The quantity of %(sku)s") % {"sku": product.sku})
        merged.setdefault(product.pk, [product, 0])[1] += quantity
    if not merged:
        raise DomainError(gettext("A transfer needs at least one line."))
    transfer = Transfer.objects.create(
        from_location=from_location, to_location=to_location, dispatched_by=user, note=note
    )
    transfer.number = f"TR{100000 + transfer.pk}"
    transfer.save(update_fields=["number"])
    rows = {}
    for product, _qty in merged.values():
        rows[product.pk] = _stock_row(from_location, product)
    for product_id in sorted(merged):  # stock rows in (location, product) order, like every writer
        product, quantity = merged[product_id]
        _take_out(rows[product_id], quantity, gettext("transfer to %(code)s") % {"code": to_location.code})
    TransferLine.objects.bulk_create(
        TransferLine(transfer=transfer, product=product, quantity=quantity) for product, quantity in merged.values()
    )
    StockMovement.objects.bulk_create(
        _movement(
            from_location,
            product,
            MovementKind.TRANSFER_OUT,
            on_hand=-quantity,
            reason=f"to {to_location.code}",
            reference=transfer.number,
            user=user,
        )
        for product, quantity in merged.values()
    )
    return transfer


@transaction.atomic
def transfer_receive(*, transfer: Transfer, user=None) -> Transfer:
    """The goods arrived: on hand grows at the destination (transfer_in). Twice is an error."""
    # of=("self",): lock only the transfer. A plain select_for_update with select_related would lock
    # the two location rows FOR UPDATE too, which blocks every ledger insert's foreign key check on
    # those locations and deadlocks against concurrent stock writes (the concurrency test found it).
    transfer = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("to_location", "from_location")
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise DomainError(gettext("Transfer %(number)s was already received.") % {"number": transfer.number})
    lines = list(transfer.lines.select_related("product"))
    rows = {line.product_id: _stock_row(transfer.to_location, line.product) for line in lines}
    for line in sorted(lines, key=lambda ln: ln.product_id):  # (location, product) order
        Stock.objects.filter(pk=rows[line.product_id].pk).update(on_hand=F("on_hand") + line.quantity)
    StockMovement.objects.bulk_create(
        _movement(
            transfer.to_location,
            line.product,
            MovementKind.TRANSFER_IN,
            on_hand=line.quantity,
            reason=f"from {transfer.from_location.code}",
            reference=transfer.number,
            user=user,
        )
        for line in lines
    )
    transfer.status = TransferStatus.RECEIVED
    transfer.received_at = timezone.now()
    transfer.received_by = user
    transfer.save(update_fields=["status", "received_at", "received_by"])
    return transfer


# ---- rules ------------------------------------------------------------------------------------


@transaction.atomic
def stock_rule_set(
    *,
    location: Location,
    product: Product,
    safety_stock: int = 0,
    low_stock_threshold: int | None = None,
    min_days_of_cover: int | None = None,
) -> StockRule:
    for name, value in (
        (gettext("Safety stock"), safety_stock),
        (gettext("The low-stock threshold"), low_stock_threshold),
        (gettext("Days of cover"), min_days_of_cover),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise DomainError(
                gettext("%(name)s must be a whole number of zero or more (got %(value)s).")
                % {"name": name, "value": repr(value)}
            )
    rule, _ = StockRule.objects.update_or_create(
        location=location,
        product=product,
        defaults={
            "safety_stock": safety_stock,
            "low_stock_threshold": low_stock_threshold,
            "min_days_of_cover": min_days_of_cover,
        },
    )
    return rule


# ---- low-stock e-mail -------------------------------------------------------------------------


def low_stock_alerts_mail(*, alerts: list[dict] | None = None) -> int:
    """Mail the current low-stock alerts to the active managers with an e-mail address (one
    digest). Returns the number of recipients; 0 when nothing is low or nobody can be told."""
    alerts = low_stock_alerts() if alerts is None else alerts
    if not alerts:
        return 0
    recipients = sorted(
        set(
            get_user_model()
            .objects.filter(groups__name=MANAGER, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if not recipients:
        return 0
    lines = [f"{a['location']:<8} {a['sku']:<20} available {a['available']:>6}  {a['reason']}" for a in alerts]
    body = (
        f"{len(alerts)} product(s) are low on stock:\n\n"
        + "\n".join(lines)
        + f"\n\nSee {settings.SITE_URL.rstrip('/')}/inventory/low-stock/ and /inventory/replenishment/.\n"
    )
    send_mail(f"Low stock: {len(alerts)} product(s)", body, None, recipients)
    return len(recipients)


@transaction.atomic
def product_presale_set(*, product: Product, ship_from, batch_qty: int | None = None, user=None) -> Product:
    """预售: mark the product presale from ``ship_from`` (orders for it are promised and routed from that day,
    orders/services/presale.py), with an expected batch of ``batch_qty``; ``ship_from`` None unmarks it. Orders
    already waiting keep their day. A day must be after today (a past day would make nothing presale)."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    if ship_from is None:
        if batch_qty:
            raise DomainError(gettext("An expected batch needs a ship-from date."))
        product.presale_ship_from, product.presale_batch_qty = None, None
        product.presale_batch_received = {}  # a later presale counts its own batch
    else:
        if ship_from <= timezone.localdate():
            raise DomainError(gettext("The ship-from date must be after today."))
        product.presale_ship_from, product.presale_batch_qty = ship_from, batch_qty or None
    product.save(update_fields=["presale_ship_from", "presale_batch_qty", "presale_batch_received"])
    return product
