"""Expected delivery: from the carrier's own estimate, else the carrier's record on the lane, else the
service's transit days; refreshed with every tracking event.

The lane is carrier + origin province (the shipping location's) + destination province (the order's). Its
figure is the 80th percentile of shipped → delivered days (calendar days, rounded up) over the last
`LANE_LIMIT` deliveries, used once there are at least `LANE_MIN_SAMPLES` of them; the mean and median are
kept for the knowledge base and pages. Without enough history the service's business transit days apply.

Order of precedence for a parcel (`parcel_estimate`):

1. delivered -> the delivery date;
2. out for delivery / available for pickup -> the day of that scan;
3. the carrier's (or tracking provider's) estimate, when an event carried one;
4. the lane figure from the ship date;
5. the service's business transit days from the ship date.

An estimate that has already passed while the parcel is still moving rolls forward to tomorrow, so the date
shown to a customer is never in the past; the first date we gave is kept in `ParcelWatch.promised_delivery`
for the "late against the promise" rule.

Lane figures are cached per (carrier, origin, destination) for `LANE_CACHE_SECONDS` (`lane_figure_cached`), and
the entry is dropped when a parcel on that lane is delivered (`lane_cache_forget`, called by
`logistics.services` when a tracking event delivers a parcel), so a push does not read 500 deliveries each time.
Every function takes ``now`` (default: the clock) so seeded history and tests on a controlled clock get the date
they would have had then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from oms.dates import add_business_days
from orders.services import order_event_record
from orders.status import EventKind
from orders.wording import label, msg

from .models import Parcel, ParcelWatch
from .status import TrackingStatus

LANE_MIN_SAMPLES = 5
LANE_LIMIT = 500
LANE_PERCENTILE = 80
LANE_CACHE_SECONDS = 600


@dataclass(frozen=True)
class LaneFigure:
    samples: int
    p80_days: int | None
    median_days: float | None
    mean_days: float | None


@dataclass(frozen=True)
class Estimate:
    date: date
    basis: str
    detail: str


def _percentile(sorted_values: list[float], pct: int) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def lane_figure(*, carrier_id: int, origin_province: str, destination_province: str) -> LaneFigure:
    rows = list(
        Parcel.objects.filter(
            service__carrier_id=carrier_id,
            delivered_at__isnull=False,
            shipment__shipped_at__isnull=False,
            shipment__location__province=origin_province,
            shipment__order__ship_province=destination_province,
        )
        .order_by("-delivered_at")
        .values_list("shipment__shipped_at", "delivered_at")[:LANE_LIMIT]
    )
    days = sorted(max(0.0, (delivered - shipped).total_seconds() / 86400) for shipped, delivered in rows)
    if not days:
        return LaneFigure(0, None, None, None)
    mid = len(days) // 2
    median = days[mid] if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    return LaneFigure(
        samples=len(days),
        p80_days=math.ceil(_percentile(days, LANE_PERCENTILE) - 1e-9),
        median_days=round(median, 2),
        mean_days=round(sum(days) / len(days), 2),
    )


def _lane_key(carrier_id: int, origin_province: str, destination_province: str) -> str:
    return f"logistics:lane:v1:{carrier_id}:{origin_province}:{destination_province}".replace(" ", "_")


def lane_figure_cached(*, carrier_id: int, origin_province: str, destination_province: str) -> LaneFigure:
    """`lane_figure`, cached for LANE_CACHE_SECONDS per lane (dropped early by `lane_cache_forget`)."""
    key = _lane_key(carrier_id, origin_province, destination_province)
    cached = cache.get(key)
    if cached is not None:
        return LaneFigure(*cached)
    figure = lane_figure(
        carrier_id=carrier_id, origin_province=origin_province, destination_province=destination_province
    )
    cache.set(key, (figure.samples, figure.p80_days, figure.median_days, figure.mean_days), LANE_CACHE_SECONDS)
    return figure


def lane_figures_cached(lanes) -> dict[tuple, LaneFigure]:
    """`lane_figure_cached` for many lanes (carrier id, origin province, destination province): one cache call
    for all of them, then the figure of each lane the cache did not hold (a batch of tracking pushes)."""
    lanes = set(lanes)
    keys = {_lane_key(*lane): lane for lane in lanes}
    found = cache.get_many(list(keys)) if keys else {}
    figures = {keys[key]: LaneFigure(*value) for key, value in found.items()}
    for lane in lanes - set(figures):
        figures[lane] = lane_figure_cached(carrier_id=lane[0], origin_province=lane[1], destination_province=lane[2])
    return figures


def lane_cache_forget(*, carrier_id: int, origin_province: str, destination_province: str) -> None:
    """A delivery on the lane changes its figure: drop the cached one now and again after commit (so a reader
    between the two does not keep the figure without this delivery)."""
    lane_caches_forget([(carrier_id, origin_province, destination_province)])


def lane_caches_forget(lanes) -> None:
    """`lane_cache_forget` for many lanes (carrier id, origin province, destination province) at once: one cache
    call now and one after commit, whatever their number (a batch of tracking pushes)."""
    keys = sorted({_lane_key(*lane) for lane in lanes})
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def parcel_estimate(
    parcel: Parcel, *, now: datetime, carrier_estimate: date | None = None, lanes: dict | None = None
) -> Estimate:
    """The expected delivery date of a parcel now (see the module docstring for the order of precedence).
    ``lanes``: lane figures fetched already for a batch (`lane_figures_cached`)."""
    if parcel.status == TrackingStatus.DELIVERED and parcel.delivered_at:
        return Estimate(_local_date(parcel.delivered_at), "delivered", msg(gettext_noop("delivered")))
    if parcel.status in (TrackingStatus.RETURNING_TO_SENDER, TrackingStatus.RETURNED_TO_SENDER):
        # Not coming to the customer: the date stays as it was (no "later than promised" notice about a return).
        back = msg(gettext_noop("on its way back to the sender"))
        return Estimate(parcel.expected_delivery or _local_date(now), "return", back)
    if parcel.status in (TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.AVAILABLE_FOR_PICKUP) and parcel.last_event_at:
        status = msg("%(status)s", status=label(TrackingStatus(parcel.status)))
        return Estimate(_local_date(parcel.last_event_at), parcel.status, status)
    today = _local_date(now)
    if carrier_estimate:
        return Estimate(carrier_estimate, "carrier", msg(gettext_noop("the carrier's estimate")))
    shipment = parcel.shipment
    start = _local_date(shipment.shipped_at or parcel.created_at)
    lane_id = (parcel.service.carrier_id, shipment.location.province, shipment.order.ship_province)
    lane = (lanes or {}).get(lane_id) or lane_figure_cached(
        carrier_id=lane_id[0], origin_province=lane_id[1], destination_province=lane_id[2]
    )
    if lane.samples >= LANE_MIN_SAMPLES and lane.p80_days is not None:
        expected = start + timedelta(days=lane.p80_days)
        basis = "lane"
        detail = msg(
            gettext_noop("%(origin)s → %(destination)s: %(days)s days (80th percentile of %(samples)s deliveries)"),
            origin=shipment.location.province or "?",
            destination=shipment.order.ship_province or "?",
            days=lane.p80_days,
            samples=lane.samples,
        )
    else:
        expected = add_business_days(start, parcel.service.transit_days)
        basis = "service"
        detail = msg(
            gettext_noop("%(days)s business days (%(service)s)"),
            days=parcel.service.transit_days,
            service=parcel.service.name,
        )
    if expected <= today and parcel.status not in (TrackingStatus.RETURNED_TO_SENDER, TrackingStatus.LOST):
        expected = today + timedelta(days=1)
        detail = msg(gettext_noop("%(detail)s; overdue, rolled to tomorrow"), detail=detail)
    return Estimate(expected, basis, detail)


@dataclass
class EtaChange:
    """What `eta_apply` changed in memory: the caller saves the parcel (`parcel_fields`), the watch
    (`watch_created` / `watch_fields`) and records `event` (an `order_events_record` row) if any."""

    estimate: Estimate
    watch: ParcelWatch
    watch_created: bool
    watch_fields: list[str]
    parcel_fields: list[str]
    event: dict | None


def _watch_of(parcel: Parcel) -> ParcelWatch | None:
    try:
        return parcel.watch  # select_related by the caller, or one query
    except ParcelWatch.DoesNotExist:
        return None


def eta_apply(
    *, parcel: Parcel, now: datetime, carrier_estimate: date | None = None, lanes: dict | None = None
) -> EtaChange:
    """Compute the parcel's expected date and apply it to the parcel and its watch in memory, without saving.
    ``lanes``: lane figures fetched already for a batch (`lane_figures_cached`)."""
    watch = _watch_of(parcel)
    created = watch is None
    if created:
        watch = ParcelWatch(parcel=parcel)
    if carrier_estimate is None and watch.eta_basis == "carrier" and parcel.expected_delivery:
        carrier_estimate = parcel.expected_delivery
    estimate = parcel_estimate(parcel, now=now, carrier_estimate=carrier_estimate, lanes=lanes)
    before = (watch.promised_delivery, watch.eta_basis, watch.eta_detail)
    if watch.promised_delivery is None:
        watch.promised_delivery = parcel.expected_delivery or estimate.date
    watch.eta_basis, watch.eta_detail = estimate.basis, estimate.detail[:200]
    watch_fields = (
        ["promised_delivery", "eta_basis", "eta_detail"]
        if (watch.promised_delivery, watch.eta_basis, watch.eta_detail) != before
        else []
    )
    event = None
    parcel_fields = []
    if estimate.date != parcel.expected_delivery:
        old = parcel.expected_delivery
        parcel.expected_delivery = estimate.date
        parcel_fields.append("expected_delivery")
        if estimate.basis != "delivered":
            event = {
                "order": parcel.shipment.order,
                "kind": EventKind.TRACKING,
                "message": eta_message(parcel.tracking_number, estimate, old),
                "data": {
                    "tracking_number": parcel.tracking_number,
                    "expected_delivery": estimate.date.isoformat(),
                    "previous": old.isoformat() if old else None,
                    "basis": estimate.basis,
                },
            }
    return EtaChange(estimate, watch, created, watch_fields, parcel_fields, event)


def parcel_eta_refresh(
    *, parcel: Parcel, now: datetime | None = None, carrier_estimate: date | None = None, user=None
) -> Estimate:
    """Recompute and store a parcel's expected date; an event on the order's timeline when it changes.

    The caller holds the order's lock. A carrier estimate given once stays the basis until a later scan (out
    for delivery, delivered) or a newer carrier estimate replaces it. (A tracking push does the same in bulk in
    `logistics.services`, with `eta_apply`.)
    """
    change = eta_apply(parcel=parcel, now=now or timezone.now(), carrier_estimate=carrier_estimate)
    if change.watch_created:
        change.watch.save()
        parcel.watch = change.watch
    elif change.watch_fields:
        change.watch.save(update_fields=change.watch_fields)
    if change.parcel_fields:
        parcel.save(update_fields=change.parcel_fields)
    if change.event:
        order_event_record(user=user, **change.event)
    return change.estimate


def eta_message(tracking: str, estimate, old) -> str:
    """The timeline's text of a new expected date (a ``Msg``: shown in the reader's language)."""
    params = {"tracking": tracking, "date": f"{estimate.date:%Y-%m-%d}", "detail": estimate.detail}
    if old:
        template = gettext_noop("%(tracking)s: expected delivery %(date)s (was %(old)s) — %(detail)s.")
        return msg(template, **params, old=f"{old:%Y-%m-%d}")
    return msg(gettext_noop("%(tracking)s: expected delivery %(date)s — %(detail)s."), **params)
