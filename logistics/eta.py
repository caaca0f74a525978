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

    return estimate_of(
        status=parcel.status,
        delivered_at=parcel.delivered_at,
        last_event_at=parcel.last_event_at,
        expected_delivery=parcel.expected_delivery,
        route=lambda: parcel_route(parcel),  # read only when the date depends on it (not for a delivered parcel)
        now=now,
        carrier_estimate=carrier_estimate,
        lanes=lanes,
    )


@dataclass(frozen=True)
class Route:
    """What the lane and service estimates of a parcel need: the ship date, the lane (carrier id, origin province,
    destination province), the service's business transit days and name."""

    start: date
    lane: tuple
    transit_days: int
    service_name: str


def estimate_of(
    *,
    status: str,
    delivered_at: datetime | None,
    last_event_at: datetime | None,
    expected_delivery: date | None,
    route,
    now: datetime,
    carrier_estimate: date | None = None,
    lanes: dict | None = None,
) -> Estimate:
    """`parcel_estimate` on plain values (a tracking batch reads them as tuples); ``route`` is a `Route` or a
    function returning one, called only when the date depends on it."""
    if status == TrackingStatus.DELIVERED and delivered_at:
        return Estimate(_local_date(delivered_at), "delivered", msg(gettext_noop("delivered")))
    if status in (TrackingStatus.RETURNING_TO_SENDER, TrackingStatus.RETURNED_TO_SENDER):
        # Not coming to the customer: the date stays as it was (no "later than promised" notice about a return).
        back = msg(gettext_noop("on its way back to the sender"))
        return Estimate(expected_delivery or _local_date(now), "return", back)
    if status in (TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.AVAILABLE_FOR_PICKUP) and last_event_at:
        return Estimate(_local_date(last_event_at), status, msg("%(status)s", status=label(TrackingStatus(status))))
    today = _local_date(now)
    if carrier_estimate:
        return Estimate(carrier_estimate, "carrier", msg(gettext_noop("the carrier's estimate")))
    if callable(route):
        route = route()
    lane_id = route.lane
    lane = (lanes or {}).get(lane_id) or lane_figure_cached(
        carrier_id=lane_id[0], origin_province=lane_id[1], destination_province=lane_id[2]
    )
    if lane.samples >= LANE_MIN_SAMPLES and lane.p80_days is not None:
        expected = route.start + timedelta(days=lane.p80_days)
        basis = "lane"
        detail = msg(
            gettext_noop("%(origin)s → %(destination)s: %(days)s days (80th percentile of %(samples)s deliveries)"),
            origin=lane_id[1] or "?",
            destination=lane_id[2] or "?",
            days=lane.p80_days,
            samples=lane.samples,
        )
    else:
        expected = add_business_days(route.start, route.transit_days)
        basis = "service"
        detail = msg(
            gettext_noop("%(days)s business days (%(service)s)"), days=route.transit_days, service=route.service_name
        )
    if expected <= today and status not in (TrackingStatus.RETURNED_TO_SENDER, TrackingStatus.LOST):
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
    change = eta_values(
        status=parcel.status,
        delivered_at=parcel.delivered_at,
        last_event_at=parcel.last_event_at,
        expected_delivery=parcel.expected_delivery,
        route=lambda: parcel_route(parcel),
        watch=None if created else (watch.promised_delivery, watch.eta_basis, watch.eta_detail),
        now=now,
        carrier_estimate=carrier_estimate,
        lanes=lanes,
        tracking_number=parcel.tracking_number,
        order=lambda: parcel.shipment.order,
    )
    watch.promised_delivery, watch.eta_basis, watch.eta_detail = change.watch
    parcel_fields = []
    if change.expected_delivery != parcel.expected_delivery:
        parcel.expected_delivery = change.expected_delivery
        parcel_fields.append("expected_delivery")
    watch_fields = ["promised_delivery", "eta_basis", "eta_detail"] if change.watch_changed else []
    return EtaChange(change.estimate, watch, created, watch_fields, parcel_fields, change.event)


def parcel_route(parcel: Parcel) -> Route:
    shipment, service = parcel.shipment, parcel.service
    return Route(
        start=_local_date(shipment.shipped_at or parcel.created_at),
        lane=(service.carrier_id, shipment.location.province, shipment.order.ship_province),
        transit_days=service.transit_days,
        service_name=service.name,
    )


@dataclass
class EtaValues:
    """What `eta_values` works out: the estimate, the parcel's expected date (changed or not), the watch's
    (promised date, basis, detail) and whether they differ from what it had (or it had none), the timeline row."""

    estimate: Estimate
    expected_delivery: date
    watch: tuple
    watch_changed: bool
    event: dict | None


def eta_values(
    *,
    status: str,
    delivered_at: datetime | None,
    last_event_at: datetime | None,
    expected_delivery: date | None,
    route,
    watch: tuple | None,
    now: datetime,
    tracking_number: str,
    order,
    carrier_estimate: date | None = None,
    lanes: dict | None = None,
) -> EtaValues:
    """`eta_apply` on plain values: ``watch`` is the watch's (promised date, basis, detail), None when the parcel
    has none yet; ``order`` the order for the timeline row (or a function returning it)."""
    before = watch if watch is not None else (None, "", "")
    if carrier_estimate is None and before[1] == "carrier" and expected_delivery:
        carrier_estimate = expected_delivery
    estimate = estimate_of(
        status=status,
        delivered_at=delivered_at,
        last_event_at=last_event_at,
        expected_delivery=expected_delivery,
        route=route,
        now=now,
        carrier_estimate=carrier_estimate,
        lanes=lanes,
    )
    after = (before[0] or expected_delivery or estimate.date, estimate.basis, estimate.detail[:200])
    event = None
    if estimate.date != expected_delivery and estimate.basis != "delivered":
        old = expected_delivery
        event = {
            "order": order() if callable(order) else order,
            "kind": EventKind.TRACKING,
            "message": eta_message(tracking_number, estimate, old),
            "data": {
                "tracking_number": tracking_number,
                "expected_delivery": estimate.date.isoformat(),
                "previous": old.isoformat() if old else None,
                "basis": estimate.basis,
            },
        }
    return EtaValues(estimate, estimate.date, after, watch is None or after != before, event)


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
