"""预售 release (orders/services/presale.py): the presale orders whose day has come are released and routed in
one transaction, first paid first, so the earliest payers get the batch and no routing window sees them
before (a window orders by priority and promise, not by payment). Run by the beat (``fulfillment.presale_release``)."""

import logging
from datetime import date

from django.db import transaction

from oms.background import failure_record
from oms.transient import is_transient
from orders.services import presale_release_due
from orders.services.presale import RELEASE_CHUNK

from .routing.decide import ROUTE_TASK, order_route

logger = logging.getLogger(__name__)


def presale_release_and_route(*, today: date | None = None, limit: int = RELEASE_CHUNK) -> list[int]:
    """Release up to ``limit`` due presale orders and route each, in payment order. An order whose routing fails
    for good is recorded as a failed ``route_order`` (the sweep and "Route now" take it from there) and the rest
    go on; a transient database error rolls the whole chunk back for the task to retry. Returns the ids."""
    with transaction.atomic():
        ids = presale_release_due(today=today, limit=limit)
        for order_id in ids:
            try:
                order_route(order_id=order_id)
            except Exception as exc:  # noqa: BLE001 (one bad order must not stop the release of the others)
                if is_transient(exc):
                    raise
                logger.exception("routing presale order %s failed", order_id)
                failure_record(task_name=ROUTE_TASK, args=[order_id], subject=f"order:{order_id}", exc=exc)
    return ids
