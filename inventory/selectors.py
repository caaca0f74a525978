"""Reads of stock for pages, routing and other apps."""

from django.db.models import F, QuerySet, Sum

from .models import Location, Product, Stock, StockMovement


def stock_list() -> QuerySet[Stock]:
    return Stock.objects.select_related("location", "product").with_available()


def available_by_location(*, product_ids: set[int]) -> dict[int, dict[int, int]]:
    """{location_id: {product_id: available}} over active locations."""
    result: dict[int, dict[int, int]] = {}
    rows = Stock.objects.filter(product_id__in=product_ids, location__active=True).values_list(
        "location_id", "product_id", "on_hand", "reserved"
    )
    for location_id, product_id, on_hand, reserved in rows:
        result.setdefault(location_id, {})[product_id] = on_hand - reserved
    return result


def active_locations() -> QuerySet[Location]:
    return Location.objects.filter(active=True)


def products_by_sku(skus: set[str]) -> dict[str, Product]:
    return {p.sku: p for p in Product.objects.filter(sku__in=skus, active=True)}


def bins_for(*, location_id: int, product_ids: set[int]) -> dict[int, str]:
    return dict(
        Stock.objects.filter(location_id=location_id, product_id__in=product_ids).values_list("product_id", "bin")
    )


def ledger_mismatches() -> list[dict]:
    """Stock rows whose on hand or reserved differ from the sum of their ledger rows."""
    sums = {
        (r["location_id"], r["product_id"]): (r["on_hand"] or 0, r["reserved"] or 0)
        for r in StockMovement.objects.values("location_id", "product_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    problems = []
    seen = set()
    for s in Stock.objects.values("location_id", "product_id", "on_hand", "reserved"):
        key = (s["location_id"], s["product_id"])
        seen.add(key)
        expected = sums.get(key, (0, 0))
        if (s["on_hand"], s["reserved"]) != expected:
            problems.append(
                {
                    "location_id": key[0],
                    "product_id": key[1],
                    "stock": (s["on_hand"], s["reserved"]),
                    "ledger": expected,
                }
            )
    for key, expected in sums.items():
        if key not in seen and expected != (0, 0):
            problems.append({"location_id": key[0], "product_id": key[1], "stock": None, "ledger": expected})
    return problems


def stock_totals() -> dict:
    agg = Stock.objects.aggregate(
        on_hand=Sum("on_hand"), reserved=Sum("reserved"), available=Sum(F("on_hand") - F("reserved"))
    )
    return {k: v or 0 for k, v in agg.items()}
