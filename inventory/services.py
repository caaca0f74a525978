"""Every write to stock: each is one transaction and writes its ledger rows in it.

Reservations use a guarded UPDATE (``reserved + q <= on_hand``) on rows taken in primary key
order, so nothing oversells whatever runs at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from oms.errors import DomainError, InsufficientStock

from .models import Location, MovementKind, Product, Stock, StockMovement


@dataclass(frozen=True)
class StockRequest:
    location_id: int
    product_id: int
    quantity: int


def _stock_row(location: Location, product: Product) -> Stock:
    stock, _ = Stock.objects.get_or_create(location=location, product=product)
    return stock


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
) -> Stock:
    if quantity <= 0:
        raise DomainError("A receipt needs a positive quantity.")
    stock = _stock_row(location, product)
    updates = {"on_hand": F("on_hand") + quantity}
    if bin:
        updates["bin"] = bin
    Stock.objects.filter(pk=stock.pk).update(**updates)
    StockMovement.objects.create(
        location=location,
        product=product,
        kind=MovementKind.RECEIPT,
        on_hand_delta=quantity,
        reason=reason,
        reference=reference,
        user=user,
    )
    stock.refresh_from_db()
    return stock


@transaction.atomic
def stock_adjust(
    *, location: Location, product: Product, delta: int, user=None, reason: str, reference: str = ""
) -> Stock:
    """Add or take away on-hand stock; never below what is reserved."""
    if delta == 0:
        raise DomainError("An adjustment needs a non-zero quantity.")
    if not reason:
        raise DomainError("An adjustment needs a reason.")
    stock = _stock_row(location, product)
    changed = Stock.objects.filter(pk=stock.pk, on_hand__gte=F("reserved") - delta).update(on_hand=F("on_hand") + delta)
    if not changed:
        stock.refresh_from_db()
        raise InsufficientStock(
            f"{product.sku} at {location.code}: on hand {stock.on_hand}, reserved {stock.reserved}; "
            f"cannot adjust by {delta}."
        )
    StockMovement.objects.create(
        location=location,
        product=product,
        kind=MovementKind.ADJUSTMENT,
        on_hand_delta=delta,
        reason=reason,
        reference=reference,
        user=user,
    )
    stock.refresh_from_db()
    return stock


def _normalise(requests: Iterable[StockRequest]) -> list[StockRequest]:
    merged: dict[tuple[int, int], int] = {}
    for r in requests:
        if r.quantity <= 0:
            raise DomainError("Reserved quantities must be positive.")
        key = (r.location_id, r.product_id)
        merged[key] = merged.get(key, 0) + r.quantity
    return [StockRequest(loc, prod, qty) for (loc, prod), qty in sorted(merged.items())]


@transaction.atomic
def stock_reserve(*, requests: Iterable[StockRequest], reference: str, user=None) -> None:
    """Reserve all of the requests or none (raises InsufficientStock)."""
    items = _normalise(requests)
    rows = {
        (s.location_id, s.product_id): s.pk
        for s in Stock.objects.filter(
            location_id__in={i.location_id for i in items}, product_id__in={i.product_id for i in items}
        ).only("pk", "location_id", "product_id")
    }
    ordered = sorted(items, key=lambda i: rows.get((i.location_id, i.product_id), 0))
    for item in ordered:
        pk = rows.get((item.location_id, item.product_id))
        changed = 0
        if pk is not None:
            changed = Stock.objects.filter(pk=pk, on_hand__gte=F("reserved") + item.quantity).update(
                reserved=F("reserved") + item.quantity
            )
        if not changed:
            raise InsufficientStock(
                f"Not enough stock of product {item.product_id} at location {item.location_id} for {item.quantity}."
            )
    StockMovement.objects.bulk_create(
        StockMovement(
            location_id=i.location_id,
            product_id=i.product_id,
            kind=MovementKind.RESERVE,
            reserved_delta=i.quantity,
            reference=reference,
            user=user,
        )
        for i in items
    )


@transaction.atomic
def stock_release(*, requests: Iterable[StockRequest], reference: str, user=None, reason: str = "") -> None:
    """Give reserved stock back (cancellation, reroute)."""
    items = _normalise(requests)
    for item in items:
        changed = Stock.objects.filter(
            location_id=item.location_id, product_id=item.product_id, reserved__gte=item.quantity
        ).update(reserved=F("reserved") - item.quantity)
        if not changed:
            raise DomainError(f"Cannot release {item.quantity} of product {item.product_id}: not reserved.")
    StockMovement.objects.bulk_create(
        StockMovement(
            location_id=i.location_id,
            product_id=i.product_id,
            kind=MovementKind.RELEASE,
            reserved_delta=-i.quantity,
            reference=reference,
            reason=reason,
            user=user,
        )
        for i in items
    )


@transaction.atomic
def stock_ship(*, requests: Iterable[StockRequest], reference: str, user=None) -> None:
    """Shipping takes reserved stock out of on hand and out of the reservation."""
    items = _normalise(requests)
    for item in items:
        changed = Stock.objects.filter(
            location_id=item.location_id,
            product_id=item.product_id,
            reserved__gte=item.quantity,
            on_hand__gte=item.quantity,
        ).update(reserved=F("reserved") - item.quantity, on_hand=F("on_hand") - item.quantity)
        if not changed:
            raise DomainError(f"Cannot ship {item.quantity} of product {item.product_id}: not reserved.")
    StockMovement.objects.bulk_create(
        StockMovement(
            location_id=i.location_id,
            product_id=i.product_id,
            kind=MovementKind.SHIPMENT,
            on_hand_delta=-i.quantity,
            reserved_delta=-i.quantity,
            reference=reference,
            user=user,
        )
        for i in items
    )
