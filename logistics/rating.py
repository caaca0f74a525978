"""Carrier choice and rate shopping: the cheapest service that meets the promise date and the
shipment's needs, with every compared service and the reason it won or lost.

How a shipment is rated (`choose_service`):

1. **Needs** (`shipment_needs`): handling classes of its products (fresh -> cold chain, bulky ->
   freight), weight (the packed weight, else the products'), size (the package type chosen at the pack
   station, else the largest product), declared value (the order lines' prices), and from that whether
   a signature (value >= ``SIGNATURE_VALUE_THRESHOLD``, default 2000) or insurance (value >=
   ``INSURANCE_VALUE_THRESHOLD``, default 1000) is needed; the order's requested service and promise date.
2. **Zone** (`zone_for`): same city -> ``Z0``; a province pair listed in ``logistics/data/zones.csv``
   (symmetric) -> its zone; same province -> ``Z1``; otherwise by great-circle distance between the
   location and the destination city (``fulfillment.geo``): <= 300 km ``Z1``, <= 800 km ``Z2``,
   <= 1500 km ``Z3``, farther ``Z4``; another country -> ``INTL``; an unknown place -> ``Z4``. Remote
   provinces (`REMOTE_PROVINCES`: Xinjiang, Tibet, Qinghai, Inner Mongolia, Gansu, Ningxia, the usual
   偏远地区 of Chinese express carriers) add the service's remote-area surcharge.
3. **Hard constraints** per service: active, coverage (countries, provinces), maximum weight, longest
   side and length + width + height, cold chain, freight, signature, insurance, a rate to the zone.
4. **Price**: the service's rate card (`RateCardRow`: zone x weight band -> price; above the heaviest
   band, ``extra_per_kg`` per started kilogram) or, with no rate card, base + per started kilogram;
   plus the fuel surcharge (% of the freight) and the remote-area surcharge. Rounded to cents.
5. **Promise**: ship date = today when it is a working day and before the cut-off (the service's, else
   the carrier's pickup cut-off, else the location's), else the next working day; delivery = ship date
   + the zone's transit days (working days). A service that arrives after the order's promise date is
   excluded ("late"), unless none arrives in time: then the earliest arrival wins, cheapest among equals.
6. **Requested service**: when the order asks for a kind or code (``express``) and a matching service
   qualifies, the others are excluded with that reason.
   The service kind *required* by classification (``Order.required_service_kind``, orders/rules/classification.py)
   is a hard constraint instead: a service that is not of that kind (for cold chain and freight: nor has
   that capability) is excluded with the reason "not a ... service (required by classification)".
7. **Override**: a `ServiceOverride` (a person, with a reason) wins when the service still meets the
   hard constraints; otherwise the rules choose and the quote says why the override was ignored.

Live rates (``Carrier.live_rates``, asked only when the caller passes ``live_rates``: dispatch, before its
transaction): a service takes the carrier's rate named by its ``external_code``, is excluded when not offered,
keeps the price list when the carrier cannot be reached (breakdown ``live`` says which). Same currency assumed.

Pure reads; the override is the write at the bottom (the rate card import: logistics/rate_cards.py).
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from fulfillment import geo
from fulfillment.models import Shipment
from fulfillment.packing import PACKAGE_TYPES
from fulfillment.status import NOT_YET_SHIPPED
from inventory.models import HandlingClass
from oms.dates import add_business_days, next_working_day
from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import EventKind
from orders.wording import known, msg

from .carriers.base import CarrierError, Rate
from .models import RateCardRow, ServiceLevel, ServiceOverride
from .rate_cards import (  # noqa: F401 (the rate card import: its names stay importable from here)
    RATE_CARD_COLUMNS,
    ImportResult,
    rate_card_import,
    rate_card_row_parse,
    rate_card_row_save,
)
from .status import ServiceKind

ZONES_FILE = Path(__file__).resolve().parent / "data" / "zones.csv"
CENT = Decimal("0.01")
DISTANCE_BANDS = [(300, "Z1"), (800, "Z2"), (1500, "Z3")]
FAR_ZONE = "Z4"
REMOTE_PROVINCES = frozenset(
    {
        "xinjiang",
        "新疆",
        "tibet",
        "xizang",
        "西藏",
        "qinghai",
        "青海",
        "inner mongolia",
        "内蒙古",
        "gansu",
        "甘肃",
        "ningxia",
        "宁夏",
    }
)
LATE = "late"

# The carrier choice's reasons and verdicts below, written in English (the quote's record, the API) and read on
# the shipment page in the reader's language (oms/wording.py: matched against these phrases).
known(
    gettext_noop("does not serve %(where)s"),
    gettext_noop("this province"),
    gettext_noop("too heavy: %(weight)s g > %(most)s g"),
    gettext_noop("too long: %(length)s mm > %(most)s mm"),
    gettext_noop("too big: L+W+H %(size)s mm > %(most)s mm"),
    gettext_noop("no cold chain for fresh goods"),
    gettext_noop("no freight for bulky goods"),
    gettext_noop("service kind %(kind)s, classification requires %(required)s"),
    gettext_noop("no signature on delivery (value %(value)s)"),
    gettext_noop("no insurance (value %(value)s)"),
    gettext_noop("no rate to zone %(zone)s"),
    gettext_noop("heavier than the rate card to %(zone)s"),
    gettext_noop("late: arrives %(arrives)s, promised %(promised)s"),
    gettext_noop("%(carrier)s offered no rate %(name)s"),
    gettext_noop("not the requested service (%(service)s)"),
    gettext_noop("cheapest service that meets the promise and the shipment's needs"),
    gettext_noop("cheapest service that meets the shipment's needs"),
    gettext_noop("no service meets the promise date: the earliest arrival"),
    gettext_noop("override by %(who)s: %(reason)s"),
    gettext_noop("%(reason)s (override ignored: %(why)s)"),
    gettext_noop("service inactive"),
)


def _threshold(name: str, default: str) -> Decimal:
    return Decimal(str(getattr(settings, name, default)))


def province_key(text: str) -> str:
    """A province name as rate cards compare it: lower case, without 省, 市, 自治区 and the like."""
    text = (text or "").strip().lower()
    for suffix in ("省", "市", "自治区", "特别行政区", "壮族", "回族", "维吾尔"):
        text = text.replace(suffix, "")
    return text


# ---- needs -----------------------------------------------------------------------------------


def shipment_needs(shipment: Shipment) -> dict:
    """What the shipment asks of a carrier service (plain values; see the module docstring)."""
    lines = list(shipment.lines.select_related("product", "order_line"))
    classes = {line.product.handling_class for line in lines}
    weight = shipment.weight_g or sum(line.product.weight_g * line.quantity for line in lines)
    if shipment.package_type in PACKAGE_TYPES:
        dims = sorted(PACKAGE_TYPES[shipment.package_type][1], reverse=True)
    else:
        biggest = max(
            (sorted((ln.product.length_mm, ln.product.width_mm, ln.product.height_mm), reverse=True) for ln in lines),
            default=[0, 0, 0],
        )
        dims = list(biggest)
    value = sum((line.order_line.unit_price * line.quantity for line in lines), Decimal("0"))
    order = shipment.order
    return {
        "cold_chain": HandlingClass.FRESH in classes,
        "freight": HandlingClass.BULKY in classes,
        "weight_g": weight,
        "longest_mm": dims[0],
        "sum_mm": sum(dims),
        "value": value.quantize(CENT),
        "signature": value >= _threshold("SIGNATURE_VALUE_THRESHOLD", "2000"),
        "insurance": value >= _threshold("INSURANCE_VALUE_THRESHOLD", "1000"),
        "requested": order.requested_service,
        "required_kind": order.required_service_kind,
        "promise_date": order.promise_date,
    }


# ---- zones -----------------------------------------------------------------------------------


@cache
def _zone_table() -> dict[tuple[str, str], str]:
    table = {}
    with ZONES_FILE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            a, b = province_key(row["origin_province"]), province_key(row["destination_province"])
            table[(a, b)] = table[(b, a)] = row["zone"].strip()
    return table


def is_remote(province: str) -> bool:
    return province_key(province) in REMOTE_PROVINCES


def zone_for(location, order) -> str:
    """The rate zone from a location to an order's destination (see the module docstring)."""
    origin_country = (location.country or "CN").upper()
    country = (order.ship_country or origin_country).upper()
    if country != origin_country:
        return "INTL"
    dest = geo.locate(country=country, province=order.ship_province, city=order.ship_city, postcode=order.ship_postcode)
    dest_province = dest.province if dest else order.ship_province
    origin_city = province_key(location.city)
    dest_cities = {province_key(dest.city), province_key(dest.city_zh)} if dest else {province_key(order.ship_city)}
    if origin_city and origin_city in dest_cities:
        return "Z0"
    origin_province = province_key(location.province)
    pair = _zone_table().get((origin_province, province_key(dest_province)))
    if pair:
        return pair
    if origin_province and origin_province == province_key(dest_province):
        return "Z1"
    if dest and location.latitude is not None and location.longitude is not None:
        km = geo.distance_km(location.latitude, location.longitude, dest.latitude, dest.longitude)
        for limit, zone in DISTANCE_BANDS:
            if km <= limit:
                return zone
    return FAR_ZONE


# ---- dates -----------------------------------------------------------------------------------


def cutoff_for(service: ServiceLevel, location) -> time | None:
    return service.cutoff_time or service.carrier.pickup_cutoff or getattr(location, "cutoff_time", None)


def ship_date_for(cutoff: time | None, now: datetime) -> date:
    """Today when it is a working day and before the cut-off, else the next working day."""
    local = timezone.localtime(now) if timezone.is_aware(now) else now
    today = local.date()
    if today.weekday() < 5 and (cutoff is None or local.time() < cutoff):
        return today
    return next_working_day(today)


# ---- prices ----------------------------------------------------------------------------------


def started_kg(grams: int) -> int:
    """Every started kilogram counts (rate cards price by the started kilogram)."""
    return max(0, math.ceil(grams / 1000))


def rate_from_card(rows: list[RateCardRow], weight_g: int) -> tuple[Decimal, int] | None:
    """(freight, transit days) from the rows of one zone, lightest band first; None when too heavy."""
    for row in rows:
        if weight_g <= row.max_weight_g:
            return row.price, row.transit_days
    last = rows[-1]
    if last.extra_per_kg <= 0:
        return None
    extra = last.extra_per_kg * started_kg(weight_g - last.max_weight_g)
    return last.price + extra, last.transit_days


@dataclass
class Quote:
    service_id: int
    carrier: str
    carrier_name: str
    service_code: str
    service_name: str
    kind: str
    zone: str
    amount: Decimal | None = None
    currency: str = "CNY"
    transit_days: int | None = None
    ship_date: date | None = None
    delivery_date: date | None = None
    eligible: bool = True
    reasons: list[str] = field(default_factory=list)
    breakdown: dict = field(default_factory=dict)
    chosen: bool = False

    @property
    def hard_ok(self) -> bool:
        """Meets every hard constraint (being late or not requested is not one)."""
        return all(r.startswith(LATE) or r.startswith("not the requested") for r in self.reasons)

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("amount",):
            data[key] = str(data[key]) if data[key] is not None else None
        for key in ("ship_date", "delivery_date"):
            data[key] = data[key].isoformat() if data[key] else None
        data["breakdown"] = {k: str(v) for k, v in self.breakdown.items()}
        return data


@dataclass
class Rating:
    needs: dict
    zone: str
    remote: bool
    quotes: list[Quote]
    chosen: Quote | None
    reason: str

    def quotes_json(self) -> list[dict]:
        return [q.as_json() for q in self.quotes]


def _is_kind(service: ServiceLevel, kind: str) -> bool:
    """A service of that kind; for cold chain and freight also any service with that capability."""
    return (
        service.kind == kind
        or (kind == ServiceKind.COLD_CHAIN and service.cold_chain)
        or (kind == ServiceKind.FREIGHT and service.freight)
    )


def _quote(
    service: ServiceLevel, rows: list[RateCardRow], needs: dict, zone: str, remote: bool, location, order, now
) -> Quote:
    q = Quote(
        service_id=service.pk,
        carrier=service.carrier.code,
        carrier_name=service.carrier.name,
        service_code=service.code,
        service_name=service.name,
        kind=service.kind,
        zone=zone,
    )
    reasons = q.reasons
    countries = [c.strip().upper() for c in service.coverage_countries.split(",") if c.strip()]
    country = (order.ship_country or "CN").upper()
    if countries and country not in countries:
        reasons.append(f"does not serve {country}")
    provinces = {province_key(p) for p in service.coverage_provinces.replace("，", ",").split(",") if p.strip()}
    if provinces and province_key(order.ship_province) not in provinces:
        reasons.append(f"does not serve {order.ship_province or 'this province'}")
    weight = needs["weight_g"]
    if service.max_weight_g is not None and weight > service.max_weight_g:
        reasons.append(f"too heavy: {weight} g > {service.max_weight_g} g")
    if service.max_length_mm and needs["longest_mm"] > service.max_length_mm:
        reasons.append(f"too long: {needs['longest_mm']} mm > {service.max_length_mm} mm")
    if service.max_sum_mm and needs["sum_mm"] > service.max_sum_mm:
        reasons.append(f"too big: L+W+H {needs['sum_mm']} mm > {service.max_sum_mm} mm")
    if needs["cold_chain"] and not service.cold_chain:
        reasons.append("no cold chain for fresh goods")
    if needs["freight"] and not service.freight:
        reasons.append("no freight for bulky goods")
    required = needs.get("required_kind")
    # Fresh or bulky goods already need cold chain or freight (above): no second reason for the same lack.
    covered = (required == ServiceKind.COLD_CHAIN and needs["cold_chain"]) or (
        required == ServiceKind.FREIGHT and needs["freight"]
    )
    if required and not covered and not _is_kind(service, required):
        reasons.append(f"service kind {service.kind}, classification requires {required}")
    if needs["signature"] and not service.signature:
        reasons.append(f"no signature on delivery (value {needs['value']})")
    if needs["insurance"] and not service.insurance:
        reasons.append(f"no insurance (value {needs['value']})")
    # Price and transit days.
    if rows:
        zone_rows = [r for r in rows if r.zone == zone]
        priced = rate_from_card(zone_rows, weight) if zone_rows else None
        if not zone_rows:
            reasons.append(f"no rate to zone {zone}")
        elif priced is None:
            reasons.append(f"heavier than the rate card to {zone}")
        freight, transit = priced if priced else (None, service.transit_days)
    else:
        freight = service.base_rate + service.per_kg_rate * started_kg(weight)
        transit = service.transit_days
    q.transit_days = transit
    if freight is not None:
        fuel = (freight * service.fuel_surcharge_pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        remote_fee = service.remote_surcharge if remote else Decimal("0")
        q.amount = (freight + fuel + remote_fee).quantize(CENT, rounding=ROUND_HALF_UP)
        q.breakdown = {"freight": freight.quantize(CENT), "fuel": fuel, "remote": remote_fee.quantize(CENT)}
    q.ship_date = ship_date_for(cutoff_for(service, location), now)
    q.delivery_date = add_business_days(q.ship_date, transit)
    promise = needs["promise_date"]
    if promise and q.delivery_date > promise:
        reasons.append(f"{LATE}: arrives {q.delivery_date:%Y-%m-%d}, promised {promise:%Y-%m-%d}")
    q.eligible = not reasons
    return q


def _rank(q: Quote):
    return (q.amount if q.amount is not None else Decimal("1e12"), q.transit_days or 0, q.service_id)


def _apply_live_rates(quotes: list[Quote], services: list[ServiceLevel], live_rates, promise) -> None:
    """The carrier's own rates for live-rated carriers' services, one call per carrier (module docstring)."""
    by_id = {s.pk: s for s in services}
    offered: dict[int, dict[str, Rate] | CarrierError] = {}
    for q in quotes:
        service = by_id[q.service_id]
        carrier = service.carrier
        if not carrier.live_rates or not q.hard_ok:
            continue
        if carrier.pk not in offered:
            try:
                offered[carrier.pk] = {r.service_code.lower(): r for r in live_rates(carrier)}
            except CarrierError as exc:
                offered[carrier.pk] = exc
        rates = offered[carrier.pk]
        if isinstance(rates, CarrierError):
            q.breakdown["live"] = f"unavailable, price list used: {rates}"[:200]
            continue
        name = service.external_code or service.code
        rate = rates.get(name.lower())
        if rate is None:
            q.reasons.append(f"{carrier.name} offered no rate {name}")
            q.eligible = False
            continue
        q.amount = Decimal(rate.amount).quantize(CENT, rounding=ROUND_HALF_UP)
        q.currency = rate.currency
        q.breakdown = {"live": q.amount}
        if rate.transit_days:
            q.transit_days = rate.transit_days
            q.delivery_date = add_business_days(q.ship_date, rate.transit_days)
            q.reasons[:] = [r for r in q.reasons if not r.startswith(LATE)]
            if promise and q.delivery_date > promise:
                q.reasons.append(f"{LATE}: arrives {q.delivery_date:%Y-%m-%d}, promised {promise:%Y-%m-%d}")
            q.eligible = not q.reasons


def choose_service(
    shipment: Shipment, *, now: datetime | None = None, use_override: bool = True, live_rates=None
) -> Rating:
    """Rate every active service for a shipment and choose one (see the module docstring). ``live_rates``:
    ``live_rates(carrier) -> [Rate]``, asked once per carrier that has live rates on."""
    now = now or timezone.now()
    order, location = shipment.order, shipment.location
    needs = shipment_needs(shipment)
    zone = zone_for(location, order)
    remote = is_remote(order.ship_province)
    services = list(
        ServiceLevel.objects.filter(active=True, carrier__active=True).select_related("carrier").order_by("pk")
    )
    rows: dict[int, list[RateCardRow]] = {}
    for row in RateCardRow.objects.filter(service__in=services).order_by("max_weight_g"):
        rows.setdefault(row.service_id, []).append(row)
    quotes = [_quote(s, rows.get(s.pk, []), needs, zone, remote, location, order, now) for s in services]
    if live_rates is not None:
        _apply_live_rates(quotes, services, live_rates, needs["promise_date"])

    requested = (needs["requested"] or "").strip().lower()
    if requested:
        matching = [q for q in quotes if requested in (q.kind, q.service_code.lower()) and q.hard_ok]
        if matching:
            for q in quotes:
                if q not in matching:
                    q.reasons.append(f"not the requested service ({requested})")
                    q.eligible = False

    eligible = sorted((q for q in quotes if q.eligible), key=_rank)
    chosen, reason = None, ""
    if eligible:
        chosen = eligible[0]
        reason = "cheapest service that meets the promise and the shipment's needs"
        if not needs["promise_date"]:
            reason = "cheapest service that meets the shipment's needs"
    else:
        late_only = [q for q in quotes if q.hard_ok and q.amount is not None]
        if late_only:
            chosen = min(late_only, key=lambda q: (q.delivery_date, *_rank(q)))
            reason = "no service meets the promise date: the earliest arrival"

    override = (
        ServiceOverride.objects.filter(shipment=shipment).select_related("user").first() if use_override else None
    )
    if override is not None:
        target = next((q for q in quotes if q.service_id == override.service_id), None)
        if target is not None and target.hard_ok and target.amount is not None:
            chosen = target
            who = override.user.get_username() if override.user else "staff"
            reason = f"override by {who}: {override.reason}"
        elif chosen is not None:
            why = "; ".join(target.reasons) if target else "service inactive"
            reason += f" (override ignored: {why})"
    if chosen is not None:
        chosen.chosen = True
    quotes.sort(key=lambda q: (not q.chosen, not q.eligible, _rank(q)))
    return Rating(needs=needs, zone=zone, remote=remote, quotes=quotes, chosen=chosen, reason=reason)


def plan_for_wave(shipment: Shipment) -> tuple[str, time | None] | None:
    """The planner registered with `fulfillment.waves`: ("carrier/service", pickup cut-off) or None."""
    rating = choose_service(shipment)
    if rating.chosen is None:
        return None
    service = ServiceLevel.objects.select_related("carrier").get(pk=rating.chosen.service_id)
    return f"{service.carrier.code}/{service.code}", cutoff_for(service, shipment.location)


# ---- writes: override and rate card import -------------------------------------------------


@transaction.atomic
def service_override_set(*, shipment: Shipment, service: ServiceLevel, reason: str, user=None) -> ServiceOverride:
    """Choose the service for a shipment by hand before dispatch; the reason goes on the timeline."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(gettext("Give a reason for choosing the service by hand."))
    order_lock(shipment.order_id)
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)
    if shipment.status not in NOT_YET_SHIPPED or shipment.parcels.exists():
        raise DomainError(
            gettext("Shipment %(shipment_number)s has been dispatched; its service can no longer change.")
            % {"shipment_number": shipment.number}
        )
    rating = choose_service(shipment, use_override=False)
    quote = next((q for q in rating.quotes if q.service_id == service.pk), None)
    if quote is None:
        raise DomainError(gettext("%(service)s is not active.") % {"service": service})
    if not quote.hard_ok or quote.amount is None:
        raise DomainError(
            gettext("%(service)s cannot take shipment %(shipment_number)s: %(reasons)s.")
            % {"service": service, "shipment_number": shipment.number, "reasons": "; ".join(quote.reasons)}
        )
    override, _ = ServiceOverride.objects.update_or_create(
        shipment=shipment, defaults={"service": service, "reason": reason[:255], "user": user}
    )
    order_event_record(
        order=shipment.order,
        kind=EventKind.NOTE,
        user=user,
        message=msg(
            gettext_noop(
                "Shipment %(shipment)s: service set by hand to %(service)s (%(amount)s %(currency)s). "
                "Reason: %(reason)s"
            ),
            shipment=shipment.number,
            service=str(service),
            amount=quote.amount,
            currency=quote.currency,
            reason=reason,
        ),
        data={
            "shipment": shipment.number,
            "service": service.code,
            "carrier": service.carrier.code,
            "reason": reason,
            "override": True,
        },
    )
    return override


SERVICE_KINDS = [k for k, _ in ServiceKind.choices]
