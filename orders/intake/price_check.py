"""The price check of the intake check (orders/intake/canonical.py ``check``): do the lines add up to the
order's total? When not, ``check`` holds the order for the finance review (orders/rules/review.py).

Takes the CanonicalOrder of canonical.py, which imports this module (so not annotated with that name).
"""

from decimal import Decimal


def price_check_note(order, lines_total: Decimal) -> str:
    """Empty when the lines add up to the order's total (with the shipping, tax and discount the
    channel gave; tax may be included in the prices, a discount already taken off them), within
    0.01 per line; otherwise a note with the numbers, for the price-check hold."""
    shipping, tax, discount = (v or Decimal("0") for v in (order.shipping, order.tax, order.discount))
    # Gift lines (zero price) are not goods sold: they neither add to the lines nor widen the tolerance.
    tolerance = Decimal("0.01") * max(sum(1 for line in order.lines if not line.gift), 1)
    candidates = {lines_total + shipping + t - d for t in (tax, Decimal("0")) for d in (discount, Decimal("0"))}
    if any(abs(order.total - c) <= tolerance for c in candidates):
        return ""
    expected = lines_total + shipping + tax - discount
    return (
        f"Lines {lines_total:.2f} + shipping {shipping:.2f} + tax {tax:.2f} - discount {discount:.2f} "
        f"= {expected:.2f}, but the order total is {order.total:.2f} {order.currency} "
        f"(difference {order.total - expected:.2f})."
    )
