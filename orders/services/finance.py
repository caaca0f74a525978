"""The finance review (财审): its floors (every change bumps ``FinanceSettings.version``, so every process's cached
floors are read again, orders/rules/finance.py) and the approval of a held order. A rejection cancels the order:
the cross-app verb ``workflows.cancel.order_finance_reject`` (this module's ``finance_reject_check``, then
``order_cancel``), given to the page's and the API's view by their URL."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from inventory.models import Product
from oms.errors import DomainError

from ..models import FinanceSettings, Order, PriceFloor
from ..status import HoldReason
from .core import order_release

FINANCE_HOLDS = (HoldReason.FINANCE_REVIEW, HoldReason.PRICE_CHECK)  # price_check: holds placed before 财审


def _share_problem(share: Decimal | None) -> str:
    if share is not None and not Decimal("0") <= share <= Decimal("1"):
        return gettext("A floor share is 0 to 100 %%, got %(share)s %%.") % {"share": f"{share * 100:f}"}
    return ""


def _bump() -> None:
    """Every process reads its floors again (orders/rules/finance.py ``current_floors``)."""
    FinanceSettings.current()
    FinanceSettings.objects.filter(pk=1).update(version=F("version") + 1, updated_at=timezone.now())


@transaction.atomic
def finance_settings_set(*, floor_share: Decimal | None) -> FinanceSettings:
    """The global floor as a share of the list price (0.6 = 60 %); None: off."""
    problem = _share_problem(floor_share)
    if problem:
        raise DomainError(problem)
    settings = FinanceSettings.current()
    settings.floor_share = floor_share
    settings.save(update_fields=["floor_share", "updated_at"])
    _bump()
    return FinanceSettings.current()


@transaction.atomic
def price_floor_set(*, sku: str, floor_price: Decimal | None = None, floor_share: Decimal | None = None) -> PriceFloor:
    """A SKU's own floor: a price, or a share of its list price (one of the two)."""
    sku = (sku or "").strip()
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise DomainError(gettext("No product with SKU '%(sku)s'.") % {"sku": sku[:64]})
    if (floor_price is None) == (floor_share is None):
        raise DomainError(gettext("Give the SKU either a floor price or a floor share, not both and not neither."))
    if floor_price is not None and floor_price < 0:
        raise DomainError(gettext("A floor price is zero or more, got %(floor_price)s.") % {"floor_price": floor_price})
    problem = _share_problem(floor_share)
    if problem:
        raise DomainError(problem)
    floor, _created = PriceFloor.objects.update_or_create(
        product=product, defaults={"floor_price": floor_price, "floor_share": floor_share}
    )
    _bump()
    return floor


@transaction.atomic
def price_floor_delete(*, floor_id: int) -> None:
    deleted, _ = PriceFloor.objects.filter(pk=floor_id).delete()
    if not deleted:
        raise DomainError(gettext("No such floor."))
    _bump()


@transaction.atomic
def finance_approve(*, order: Order, note: str, user=None) -> Order:
    """Approve a held order: its finance holds released (one RELEASED event each); with no other hold left the
    order goes on (confirmed, routed)."""
    note = (note or "").strip()
    if not note:
        raise DomainError(gettext("An approval needs a note (why the price is right)."))
    reasons = set(
        order.holds.filter(released_at__isnull=True, reason__in=FINANCE_HOLDS).values_list("reason", flat=True)
    )
    if not reasons:
        raise DomainError(
            gettext("Order %(order_number)s is not held for finance review.") % {"order_number": order.number}
        )
    for reason in sorted(reasons):
        order = order_release(order=order, reason=reason, note=f"finance approved: {note}", user=user)
    return order


def finance_reject_check(*, order: Order, reason: str) -> str:
    """What a rejection (the page's and the API's) must have: a reason and an order held for finance review.
    Raises DomainError; answers the cancellation's reason text."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(gettext("A rejection needs a reason."))
    if not order.holds.filter(released_at__isnull=True, reason__in=FINANCE_HOLDS).exists():
        raise DomainError(gettext("The order is not held for finance review."))
    return f"finance review rejected: {reason}"
