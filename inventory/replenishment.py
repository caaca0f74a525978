"""Replenishment: forecast rates, reorder points, suggested quantities and transfers.

    reorder point      = mean daily forecast x lead time + z(service level) x sigma_daily x sqrt(lead time)
    position           = available + units in transit to the location
    suggested quantity = reorder point + mean daily forecast x cover days - position (when position <= reorder point)

A transfer is suggested instead of a purchase when another location holds enough above its own
reorder point to cover the whole suggested quantity: the goods exist already and a transfer
arrives faster than the supplier's lead time. The location with the most excess is chosen.
"""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import NormalDist

from django.db.models import Sum
from django.utils import timezone

from .demand import daily_series, demand_by_day
from .forecast import WeeklyForecast, fit_weekly
from .models import Location, Product, Stock, TransferLine, TransferStatus

DEFAULT_LEAD_TIME_DAYS = 7
DEFAULT_HISTORY_DAYS = 84
DEFAULT_SERVICE_LEVEL = 0.95
DEFAULT_COVER_DAYS = 14


def z_for(service_level: float) -> float:
    """The standard normal quantile for a service level (0.95 -> 1.645)."""
    if not 0 < service_level < 1:
        raise ValueError("The service level must be between 0 and 1, e.g. 0.95.")
    return NormalDist().inv_cdf(service_level)


def reorder_point(*, mean_daily: float, sigma_daily: float, lead_time_days: int, service_level: float) -> float:
    return mean_daily * lead_time_days + z_for(service_level) * sigma_daily * math.sqrt(lead_time_days)


def suggested_quantity(*, reorder_point: float, mean_daily: float, cover_days: int, position: int) -> int:
    """Units to order so the position reaches the reorder point plus ``cover_days`` of demand;
    0 while the position is above the reorder point."""
    rop = math.ceil(reorder_point)
    if position > rop:
        return 0
    return max(0, math.ceil(rop + mean_daily * cover_days - position))


def in_transit(*, to_location_ids: set[int] | None = None) -> dict[tuple[int, int], int]:
    """{(to_location_id, product_id): units on the way} over transfers not yet received."""
    rows = TransferLine.objects.filter(transfer__status=TransferStatus.IN_TRANSIT)
    if to_location_ids is not None:
        rows = rows.filter(transfer__to_location_id__in=to_location_ids)
    return {
        (loc, product): qty
        for loc, product, qty in rows.values_list("transfer__to_location_id", "product_id").annotate(q=Sum("quantity"))
    }


def forecasts(
    *, as_of: date | None = None, history_days: int = DEFAULT_HISTORY_DAYS
) -> dict[tuple[int, int], WeeklyForecast]:
    """A weekly forecast per (location_id, product_id) with demand in the last ``history_days``
    days before ``as_of`` (today by default)."""
    as_of = as_of or timezone.localdate()
    end = as_of - timedelta(days=1)
    start = as_of - timedelta(days=history_days)
    demand = demand_by_day(start=start, end=end)
    return {key: fit_weekly(daily_series(days, start=start, end=end), start=start) for key, days in demand.items()}


def forecast_rates(*, as_of: date | None = None, history_days: int = DEFAULT_HISTORY_DAYS) -> dict:
    """{(location_id, product_id): mean daily units} from the forecast."""
    return {key: f.mean_daily for key, f in forecasts(as_of=as_of, history_days=history_days).items()}


@dataclass
class Suggestion:
    location_id: int
    location: str
    product_id: int
    sku: str
    name: str
    available: int
    in_transit: int
    mean_daily: float
    sigma_daily: float
    lead_time_days: int
    reorder_point: int
    quantity: int
    action: str  # "ok", "buy" or "transfer"
    transfer_from: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def position(self) -> int:
        return self.available + self.in_transit


def suggestions(
    *,
    as_of: date | None = None,
    history_days: int = DEFAULT_HISTORY_DAYS,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    cover_days: int = DEFAULT_COVER_DAYS,
    default_lead_time_days: int = DEFAULT_LEAD_TIME_DAYS,
    fitted: dict[tuple[int, int], WeeklyForecast] | None = None,
    only_needed: bool = False,
) -> list[Suggestion]:
    """One row per stocked or demanded (location, product) over active ones."""
    z_for(service_level)  # validates
    fitted = fitted if fitted is not None else forecasts(as_of=as_of, history_days=history_days)
    locations = {loc.pk: loc for loc in Location.objects.filter(active=True)}
    stock = {
        (loc, prod): on_hand - reserved
        for loc, prod, on_hand, reserved in Stock.objects.filter(location__active=True).values_list(
            "location_id", "product_id", "on_hand", "reserved"
        )
    }
    keys = {k for k in set(stock) | set(fitted) if k[0] in locations}
    products = {p.pk: p for p in Product.objects.filter(pk__in={k[1] for k in keys}, active=True)}
    transit = in_transit()
    rows: dict[tuple[int, int], Suggestion] = {}
    for loc, prod in sorted(keys, key=lambda k: (locations[k[0]].code, products[k[1]].sku if k[1] in products else "")):
        product = products.get(prod)
        if product is None:
            continue
        if not locations[loc].can_handle(product.handling_class) and stock.get((loc, prod), 0) <= 0:
            continue  # e.g. fresh goods at a location without cold chain: never replenished there
        model = fitted.get((loc, prod))
        mean = model.mean_daily if model else 0.0
        sigma = model.sigma if model else 0.0
        lead = product.lead_time_days or default_lead_time_days
        rop = reorder_point(mean_daily=mean, sigma_daily=sigma, lead_time_days=lead, service_level=service_level)
        available = stock.get((loc, prod), 0)
        coming = transit.get((loc, prod), 0)
        quantity = suggested_quantity(
            reorder_point=rop, mean_daily=mean, cover_days=cover_days, position=available + coming
        )
        if mean == 0 and sigma == 0:
            quantity = 0  # no demand: nothing to replenish
        rows[(loc, prod)] = Suggestion(
            location_id=loc,
            location=locations[loc].code,
            product_id=prod,
            sku=product.sku,
            name=product.name,
            available=available,
            in_transit=coming,
            mean_daily=round(mean, 2),
            sigma_daily=round(sigma, 2),
            lead_time_days=lead,
            reorder_point=math.ceil(rop),
            quantity=quantity,
            action="buy" if quantity else "ok",
        )
    # Transfers: excess = available above a location's own reorder point plus what it is already
    # asked to send; the location with the most excess covers the whole quantity, or nobody does.
    promised: dict[tuple[int, int], int] = {}
    for row in sorted(rows.values(), key=lambda r: -r.quantity):
        if row.action != "buy":
            continue
        best, best_excess = None, 0
        for other in rows.values():
            if other.product_id != row.product_id or other.location_id == row.location_id or other.quantity:
                continue
            excess = other.available - other.reorder_point - promised.get((other.location_id, other.product_id), 0)
            if excess >= row.quantity and excess > best_excess:
                best, best_excess = other, excess
        if best is not None:
            row.action = "transfer"
            row.transfer_from = best.location
            promised[(best.location_id, best.product_id)] = (
                promised.get((best.location_id, best.product_id), 0) + row.quantity
            )
            row.notes.append(f"{best.location} has {best_excess} above its reorder point")
    result = list(rows.values())
    if only_needed:
        result = [r for r in result if r.action != "ok"]
    return result
