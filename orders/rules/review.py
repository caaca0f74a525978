"""Review holds: the checks that stop a new order for a person to look at before it is confirmed.

Pure reads: ``review_findings(order)`` returns ``[(hold reason, note)]``; ``orders.services`` places the
holds through the normal hold path (during intake, and on demand with ``order_review``).

- **Address** (``address_findings``): required fields and the postcode format per country
  (``intake.address_check.address_problems``; intake already holds these, so the intake run skips it).
- **Credit** (business customers with a credit limit): the customer's open orders plus this one above
  the limit -> ``credit_review``. A manager releases it with a reason (permission ``orders.override_credit``,
  checked by ``orders.services.order_release``).
- **Risk** (``RiskSettings``): a high-value order from a customer with no delivered order before ->
  ``fraud_review``; billing and shipping countries differ -> ``fraud_review``; cash on delivery above
  the limit -> ``payment``.

- **Buyer message** (``RiskSettings.hold_buyer_message``, off by default): an order whose buyer left a
  message (买家留言) -> ``buyer_message``, the message in the hold note, for a person to read and act on.
  Classification rules can hold on a word of the message too (``buyer_message_contains`` + a hold action).
- **Finance** (财审, ``finance_findings``): a line priced below its floor (orders/rules/finance.py) ->
  ``finance_review``, with the numbers. Intake's price check (the lines do not add up to the order's total,
  ``intake.price_check.price_check_note``) places the same hold. Approved (released) or rejected (the order
  cancelled) in the finance review queue.

Stock short (routing), unknown SKU and possible duplicate (intake) are held where they are found.
"""

from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext_noop

from ..intake.canonical import CanonicalAddress, address_problems
from ..models import Order, PaymentMethod, RiskSettings
from ..status import HoldReason, OrderStatus
from ..wording import known, msg, msg_list
from .finance import Floors, current_floors

# The hold notes review writes (OrderHold.note, in English): shown in the reader's language (oms/wording.py).
HIGH_VALUE = gettext_noop("high value %(total)s %(currency)s from a new customer (threshold %(threshold)s)")
COUNTRY_MISMATCH = gettext_noop("billing country %(billing)s differs from shipping country %(shipping)s")
RISK = gettext_noop("Risk: %(reasons)s.")
COD_OVER = gettext_noop("Cash on delivery %(total)s %(currency)s is over the limit %(limit)s.")
BUYER_MESSAGE = gettext_noop("Buyer message: %(text)s")
BELOW_FLOOR = gettext_noop("Price below floor: %(lines)s.")
known(HIGH_VALUE, COUNTRY_MISMATCH, RISK, COD_OVER, BUYER_MESSAGE, BELOW_FLOOR)

CENT = Decimal("0.01")


def money(value) -> Decimal:
    """Amounts in notes always with cents (a SQLite sum or an unsaved default may have none)."""
    return Decimal(value).quantize(CENT)


def address_findings(order: Order) -> list[tuple[str, str]]:
    address = CanonicalAddress(
        **{name: getattr(order, f"ship_{name}") for name in CanonicalAddress.__dataclass_fields__}
    )
    problems = address_problems(address)
    return [(HoldReason.ADDRESS_INVALID, "; ".join(problems))] if problems else []


def credit_findings(order: Order, open_total: Decimal | None = None) -> list[tuple[str, str]]:
    """``open_total``: the customer's other open orders' total when the caller knows it (bulk intake)."""
    customer = order.customer
    if customer is None or not customer.is_business or customer.credit_limit is None:
        return []
    if open_total is None:
        others = Order.objects.open().filter(customer=customer).exclude(pk=order.pk)
        open_total = others.aggregate(s=Sum("total"))["s"] or Decimal("0")
    open_total = money(open_total)
    exposure = open_total + order.total
    if exposure <= customer.credit_limit:
        return []
    return [
        (
            HoldReason.CREDIT_REVIEW,
            f"Credit limit {money(customer.credit_limit)} {order.currency} exceeded: open orders {open_total} "
            f"+ this order {order.total} = {exposure}.",
        )
    ]


def risk_findings(
    order: Order, settings: RiskSettings | None = None, delivered_before: bool | None = None
) -> list[tuple[str, str]]:
    """``delivered_before``: whether the customer has a delivered order, when the caller knows (bulk intake)."""
    settings = settings or RiskSettings.current()
    fraud, found = [], []
    threshold = settings.high_value_new_customer
    if threshold is not None and order.total >= threshold:
        if delivered_before is None and order.customer is not None:
            delivered = Order.objects.filter(customer=order.customer, status=OrderStatus.DELIVERED)
            delivered_before = delivered.exclude(pk=order.pk).exists()
        if order.customer is None or not delivered_before:
            fraud.append(
                msg(
                    HIGH_VALUE,
                    total=order.total,
                    currency=order.currency,
                    threshold=money(threshold),
                )
            )
    billing, shipping = (order.billing_country or "").upper(), (order.ship_country or "").upper()
    if settings.check_country_mismatch and billing and shipping and billing != shipping:
        fraud.append(msg(COUNTRY_MISMATCH, billing=billing, shipping=shipping))
    if fraud:
        found.append((HoldReason.FRAUD_REVIEW, msg(RISK, reasons=msg_list(fraud, "; "))))
    limit = settings.cod_limit
    if order.payment_method == PaymentMethod.COD and limit is not None and order.total > limit:
        found.append(
            (HoldReason.PAYMENT, msg(COD_OVER, total=order.total, currency=order.currency, limit=money(limit)))
        )
    return found


def message_findings(order: Order, settings: RiskSettings | None = None) -> list[tuple[str, str]]:
    """The buyer left a message and the settings ask a person to read it: the message in the note."""
    message = (getattr(order, "buyer_message", "") or "").strip()
    if not message:
        return []
    settings = settings or RiskSettings.current()
    if not settings.hold_buyer_message:
        return []
    text = " ".join(message.split())
    return [(HoldReason.BUYER_MESSAGE, msg(BUYER_MESSAGE, text=text if len(text) <= 230 else text[:229] + "…"))]


def finance_findings(order: Order, lines=None, floors: Floors | None = None) -> list[tuple[str, str]]:
    """``lines``: (line_no, sku, product or None, unit_price) when the caller has them (bulk intake, before the
    rows exist); else the order's lines are read. ``floors``: ``current_floors()`` unless given."""
    floors = floors or current_floors()
    if not floors.share and not floors.by_product:
        return []
    if lines is None:
        lines = [(ln.line_no, ln.sku, ln.product, ln.unit_price) for ln in order.lines.select_related("product")]
    below = floors.below(lines)
    if not below:
        return []
    return [(HoldReason.FINANCE_REVIEW, msg(BELOW_FLOOR, lines="; ".join(below)))]


def review_findings(order: Order, *, address: bool = True) -> list[tuple[str, str]]:
    """Every review hold the order needs now, in a fixed order (address, credit, risk, buyer message, finance)."""
    findings = address_findings(order) if address else []
    settings = RiskSettings.current()
    return (
        findings
        + credit_findings(order)
        + risk_findings(order, settings)
        + message_findings(order, settings)
        + finance_findings(order)
    )
