"""Reclassify an order: its gifts planned again (before routing) and the classification rules run again. Above
core and gifts (it uses both; gifts builds on core's doors)."""

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError

from ..models import Order
from ..status import HOLDABLE
from ..wording import msg
from .core import order_classify, order_row_lock
from .gifts import order_gifts_reapply


@transaction.atomic
def order_reclassify(*, order: Order, user=None) -> Order:
    """Run the classification rules again (after a rule or the order changed). Tags, capabilities and
    service kind are replaced by the new result; a rule's hold is placed again only if not active and
    not already released by a person for the same finding (same reason and note). Before routing the gift
    rules are run again first (``order_gifts_reapply``), as at intake."""
    order = order_row_lock(order)
    if order.status not in HOLDABLE:
        raise DomainError(
            gettext("Order %(order_number)s is %(order_status)s: too late to reclassify.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    # Before routing only; gifts first, as at intake.
    order_gifts_reapply(order, user=user, why=msg(gettext_noop("reclassified")))
    order_classify(order, user=user)
    order.refresh_from_db()
    return order
