"""The price floors of the finance review (财审), read once per process and again when they change.

A line's floor: the SKU's own floor price, else the SKU's own share of its list price (``Product.price``), else
the global share (``FinanceSettings.floor_share``) of the list price. A product without a list price has no
share floor. Lines at zero price are not judged (no price given, or a gift line). Every change of a floor goes
through ``orders.services.finance`` and bumps ``FinanceSettings.version``: ``current_floors`` compares one
row's (version, updated_at) per call — one query per batch in bulk intake — and reads the floors again when it
differs.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..models import FinanceSettings, PriceFloor

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Floor:
    amount: Decimal
    basis: str  # how it was found, for the hold's note

    def __str__(self) -> str:
        return f"{self.amount} ({self.basis})"


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


@dataclass
class Floors:
    share: Decimal | None = None
    by_product: dict[int, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)

    def floor_for(self, product) -> Floor | None:
        if product is None:
            return None
        price, share = self.by_product.get(product.pk, (None, None))
        if price is not None:
            return Floor(price, "SKU floor")
        share = share if share is not None else self.share
        list_price = getattr(product, "price", None) or Decimal("0")
        if share is None or list_price <= 0:
            return None
        amount = (list_price * share).quantize(CENT, rounding=ROUND_HALF_UP)
        return Floor(amount, f"{_percent(share)} of list price {list_price}")

    def below(self, lines) -> list[str]:
        """``lines``: (line_no, sku, product or None, unit_price). The notes of the lines priced below their
        floor, in line order."""
        found = []
        for line_no, sku, product, unit_price in lines:
            if not unit_price:
                continue
            floor = self.floor_for(product)
            if floor is not None and unit_price < floor.amount:
                found.append(f"line {line_no} {sku} at {unit_price} is below the floor {floor}")
        return found


_cached: tuple[tuple, Floors] | None = None


def current_floors() -> Floors:
    global _cached
    stamp = tuple(
        FinanceSettings.objects.filter(pk=1).values_list("version", "updated_at", "floor_share").first() or ()
    )
    cached = _cached
    if cached is not None and cached[0] == stamp:
        return cached[1]
    floors = Floors(
        share=stamp[2] if stamp else None,
        by_product={
            product_id: (price, share)
            for product_id, price, share in PriceFloor.objects.values_list("product_id", "floor_price", "floor_share")
        },
    )
    _cached = (stamp, floors)
    return floors


def forget_floors() -> None:
    """Drop this process's cache (a change made through the services bumps the version anyway)."""
    global _cached
    _cached = None
