"""Facts: per-order, per-line and per-parcel rows the heavy KPIs read instead of joining orders,
shipments, parcels and tracking events on every page view.

Why: at 1,000,000 orders the joins behind on-time delivery, fill rate, return rate, logistics
cost, the carrier scorecard and the exception rate take 0.5–3 s even as hand-written SQL. The
facts hold what those figures need, already joined (the order's day, channel and province on
each parcel; the latest delivery and the first shipment's units on each order; exception counts
per parcel), so a 30-day page is one index range over narrow rows.

How they stay true: ``catch_up()`` finds the orders touched since the last run (Order
``updated_at``, shipments created, order events — every shipment status change writes one —,
parcels created or voided, tracking events received),
looking back ``OVERLAP`` further so a transaction that committed late is not missed, and
recomputes those orders' rows from the source tables (``refresh_orders``) in one transaction.
It runs every minute (Celery beat, ``reports.refresh_facts``) and before a report page computes
when the reports read the primary database (at most every ``REPORTS_FACTS_MIN_INTERVAL``
seconds); with a read replica the pages read what the task last wrote. No facts yet, or a
different TIME_ZONE than they were built for (their days are local days): everything is rebuilt
(``manage.py reports_facts --rebuild`` does it by hand). The rows are derived data only: a full
rebuild gives the same rows, and the tests check the KPIs from facts against known answers.

Cost and names are not copied: a parcel's cost is computed from its service's rate card as it
stands today (a small join), channel, location and carrier names are joined at read time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from fulfillment.models import Shipment, ShipmentLine
from fulfillment.status import ShipmentStatus
from logistics.models import Parcel, TrackingEvent
from logistics.status import TrackingStatus
from oms.background import send
from orders.models import Order, OrderEvent, OrderLine
from orders.status import OrderStatus

from .models import FactsState, LineFact, OrderFact, ParcelFact

logger = logging.getLogger(__name__)

FACT_MODELS = (OrderFact, LineFact, ParcelFact)  # the order _rows_for returns their rows in

OVERLAP = timedelta(minutes=5)
CHUNK = 2000
LOCK_KEY = 0x0E5F_AC75  # pg advisory lock: one catch-up at a time
EXCEPTION_FIELDS = {
    TrackingStatus.EXCEPTION: "exceptions",
    TrackingStatus.FAILED_ATTEMPT: "failed_attempts",
    TrackingStatus.LOST: "lost",
}


def min_interval() -> float:
    return float(getattr(settings, "REPORTS_FACTS_MIN_INTERVAL", 10))


def _local_day(moment: datetime | None):
    return timezone.localtime(moment).date() if moment else None


# ---- computing the rows of some orders -------------------------------------------------------


def _rows_for(order_filter: Q, using: str):
    """The fact rows (orders, lines, parcels) of the orders matching ``order_filter`` (a Q on
    Order), computed from the source tables."""
    orders = {
        pk: rest
        for pk, *rest in Order.objects.using(using)
        .filter(order_filter)
        .exclude(status=OrderStatus.CANCELLED)
        .values_list("pk", "created_at", "channel_id", "ship_province", "promise_date", "status")
    }
    if not orders:
        return [], [], []
    ids = list(orders)
    lines = list(
        OrderLine.objects.using(using).filter(order_id__in=ids).values_list("pk", "order_id", "sku", "quantity")
    )
    units = defaultdict(int)
    for _pk, order_id, _sku, quantity in lines:
        units[order_id] += quantity
    shipments = {
        pk: rest
        for pk, *rest in Shipment.objects.using(using)
        .filter(order_id__in=ids)
        .values_list("pk", "order_id", "location_id", "status", "shipped_at", "delivered_at")
    }
    first = {}  # order -> (shipped_at, shipment id) of its first shipped shipment
    shipment_last = {}  # order -> latest Shipment.delivered_at (not cancelled)
    for pk, (order_id, _loc, status, shipped_at, delivered_at) in shipments.items():
        if status == ShipmentStatus.CANCELLED:
            continue
        if shipped_at and (order_id not in first or (shipped_at, pk) < first[order_id]):
            first[order_id] = (shipped_at, pk)
        if delivered_at and (order_id not in shipment_last or delivered_at > shipment_last[order_id]):
            shipment_last[order_id] = delivered_at
    first_units = defaultdict(int)
    first_ids = {pk: order_id for order_id, (_at, pk) in first.items()}
    for shipment_id, quantity in (
        ShipmentLine.objects.using(using).filter(shipment_id__in=first_ids).values_list("shipment_id", "quantity")
    ):
        first_units[first_ids[shipment_id]] += quantity
    parcels = list(
        Parcel.objects.using(using)
        .filter(shipment_id__in=shipments)
        .values_list(
            "pk", "shipment_id", "service_id", "service__carrier_id", "weight_g", "delivered_at", "expected_delivery"
        )
    )
    parcel_last = {}  # order -> latest Parcel.delivered_at (any parcel of any of its shipments)
    for _pk, shipment_id, _sv, _c, _w, delivered_at, _exp in parcels:
        order_id = shipments[shipment_id][0]
        if delivered_at and (order_id not in parcel_last or delivered_at > parcel_last[order_id]):
            parcel_last[order_id] = delivered_at
    exceptions = defaultdict(lambda: defaultdict(int))
    for parcel_id, status in (
        TrackingEvent.objects.using(using)
        .filter(parcel_id__in=[p[0] for p in parcels], status__in=list(EXCEPTION_FIELDS))
        .values_list("parcel_id", "status")
    ):
        exceptions[parcel_id][EXCEPTION_FIELDS[status]] += 1

    order_rows, line_rows, parcel_rows = [], [], []
    for pk, (created_at, channel_id, province, promise_date, status) in orders.items():
        delivered = status == OrderStatus.DELIVERED
        last = parcel_last.get(pk) or shipment_last.get(pk)
        order_rows.append(
            OrderFact(
                order_id=pk,
                day=_local_day(created_at),
                channel_id=channel_id,
                province=province or "",
                promise_date=promise_date,
                delivered=delivered,
                delivered_at=last if delivered else None,
                delivered_day=_local_day(last) if delivered else None,
                units=units[pk],
                first_units=first_units[pk] if pk in first else None,
            )
        )
    for line_pk, order_id, sku, quantity in lines:
        fact = orders[order_id]
        if fact[4] == OrderStatus.DELIVERED and (parcel_last.get(order_id) or shipment_last.get(order_id)):
            line_rows.append(
                LineFact(
                    order_line_id=line_pk,
                    order_id=order_id,
                    channel_id=fact[1],
                    sku=sku,
                    quantity=quantity,
                    delivered_at=parcel_last.get(order_id) or shipment_last[order_id],
                )
            )
    for pk, shipment_id, service_id, carrier_id, weight_g, delivered_at, expected in parcels:
        order_id, location_id, _status, shipped_at, _d = shipments[shipment_id]
        created_at, channel_id, province, _promise, _status = orders[order_id]
        parcel_rows.append(
            ParcelFact(
                parcel_id=pk,
                order_id=order_id,
                day=_local_day(created_at),
                channel_id=channel_id,
                province=province or "",
                location_id=location_id,
                carrier_id=carrier_id,
                service_id=service_id,
                weight_g=weight_g or 0,
                delivered_day=_local_day(delivered_at),
                expected_delivery=expected,
                transit_seconds=(delivered_at - shipped_at).total_seconds() if delivered_at and shipped_at else None,
                **exceptions.get(pk, {}),
            )
        )
    return order_rows, line_rows, parcel_rows


def _replace(order_filter: Q, fact_filter: Q, using: str) -> int:
    """Delete the facts of some orders and write them again from the source tables."""
    rows = _rows_for(order_filter, using)
    for model in FACT_MODELS:
        model.objects.using(using).filter(fact_filter).delete()
    return _write(rows, using)


def _write(rows, using: str) -> int:
    """Insert the (orders, lines, parcels) rows of _rows_for; returns the number of orders."""
    for model, objs in zip(FACT_MODELS, rows, strict=True):
        model.objects.using(using).bulk_create(objs, batch_size=CHUNK)
    return len(rows[0])


def refresh_orders(order_ids, *, using: str = "default") -> int:
    """Recompute the facts of these orders (a cancelled order loses its rows). Returns the number
    of orders that have facts afterwards."""
    ids = sorted(set(order_ids))
    done = 0
    with transaction.atomic(using=using):
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            done += _replace(Q(pk__in=chunk), Q(order_id__in=chunk), using)
    return done


def rebuild(*, using: str = "default") -> int:
    """Every fact row again, in ranges of order ids (no IN lists over the whole table)."""
    done = 0
    with transaction.atomic(using=using):
        for model in FACT_MODELS:
            model.objects.using(using).all().delete()
        pks = Order.objects.using(using).order_by("pk").values_list("pk", flat=True)
        low = pks.first()
        top = pks.last()
        while low is not None and low <= top:
            high = low + CHUNK * 4
            done += _write(_rows_for(Q(pk__gte=low, pk__lt=high), using), using)
            low = high
    return done


# ---- finding what changed --------------------------------------------------------------------


def touched_orders(since: datetime, *, using: str = "default") -> set[int]:
    """Orders with a change at or after ``since``: the order saved, a shipment created, an event
    on its timeline (every shipment status change writes one), a parcel labelled or voided, a
    tracking event received."""
    ids = set(Order.objects.using(using).filter(updated_at__gte=since).values_list("pk", flat=True))
    ids.update(Shipment.objects.using(using).filter(created_at__gte=since).values_list("order_id", flat=True))
    ids.update(OrderEvent.objects.using(using).filter(created_at__gte=since).values_list("order_id", flat=True))
    parcels = Parcel.objects.using(using)
    for changed in (Q(created_at__gte=since), Q(voided_at__gte=since)):  # apart: each an index range, no OR
        ids.update(parcels.filter(changed).values_list("shipment__order_id", flat=True))
    ids.update(
        TrackingEvent.objects.using(using)
        .filter(created_at__gte=since)
        .values_list("parcel__shipment__order_id", flat=True)
    )
    return ids


def _try_lock(using: str) -> bool:
    """PostgreSQL: one catch-up at a time (transaction-scoped advisory lock); others skip."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        return bool(cursor.fetchone()[0])


def catch_up(*, force: bool = False, using: str = "default", now: datetime | None = None) -> int | None:
    """Bring the facts up to now. Returns the number of orders refreshed, or None when nothing
    was done (another run holds the lock, or the last run is younger than the minimum interval
    and ``force`` is not set)."""
    started = now or timezone.now()
    with transaction.atomic(using=using):
        if not _try_lock(using):
            return None
        state = FactsState.objects.using(using).filter(pk=1).first()
        if state is None or state.time_zone != settings.TIME_ZONE:
            n = rebuild(using=using)
            FactsState.objects.using(using).update_or_create(
                pk=1,
                defaults={
                    "refreshed_at": started,
                    "rebuilt_at": started,
                    "time_zone": settings.TIME_ZONE,
                    "orders_refreshed": n,
                },
            )
            logger.info("reports: facts rebuilt for %d orders", n)
            return n
        if not force and (started - state.refreshed_at).total_seconds() < min_interval():
            return None
        ids = touched_orders(state.refreshed_at - OVERLAP, using=using)
        n = refresh_orders(ids, using=using) if ids else 0
        FactsState.objects.using(using).filter(pk=1).update(
            refreshed_at=max(started, state.refreshed_at), orders_refreshed=len(ids)
        )
        return n


class FactsNotReady(Exception):
    """The facts have never been built here, and building them takes longer than a page may wait."""


def inline_rebuild_max() -> int:
    return int(getattr(settings, "REPORTS_FACTS_INLINE_REBUILD_MAX", 20000))


def ensure_fresh(db: str, *, force: bool = False, writable: bool | None = None) -> None:
    """Before a page computes from facts: catch up when the pages read the primary database
    (with a replica the Celery task keeps the facts; a replica cannot be written). Facts never
    built and more orders than a page may rebuild (REPORTS_FACTS_INLINE_REBUILD_MAX): the task is
    queued and FactsNotReady raised, so the page says so instead of running for minutes.
    ``writable``: whether ``db`` is the primary (default: it is when it is "default")."""
    if writable is None:
        writable = db == "default"
    if not writable:
        if not FactsState.objects.using(db).filter(pk=1).exists():
            raise FactsNotReady(gettext("The report facts have not been built yet (the Celery task builds them)."))
        return
    if not FactsState.objects.filter(pk=1).exists() and Order.objects.count() > inline_rebuild_max():
        send("reports.refresh_facts")  # by name: the task module imports this one
        raise FactsNotReady(
            gettext(
                "The report facts are being built for every order (a few minutes on a large database); "
                "these figures appear once they are."
            )
        )
    catch_up(force=force, using="default")


def refreshed_at(db: str) -> datetime | None:
    state = FactsState.objects.using(db).filter(pk=1).first()
    return state.refreshed_at if state else None
