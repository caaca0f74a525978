"""What the demo orders will be, decided up front with one seeded random generator: a scenario
(the state each order ends in), when it was placed, the channel, the recipient and the basket.
No database writes here; demo/seed.py plays the plans forward through the services."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from fulfillment import geo
from inventory.models import HandlingClass, Product
from orders.models import Channel, Order

from . import data

# Scenarios: the state each planned order ends in.
HOLD_UNKNOWN_SKU = "hold_unknown_sku"  # received, on hold: unknown SKU
HOLD_ADDRESS = "hold_address"  # received, on hold: address invalid
HOLD_STOCK_SHORT = "hold_stock_short"  # confirmed, on hold: no location has the stock
HOLD_REVIEW = "hold_review"  # confirmed, on hold: manual / fraud review / payment
ALLOCATED = "allocated"
PICKING = "picking"
PACKED = "packed"
SHIPPED = "shipped"  # labelled and handed over; maybe one pick-up scan
IN_TRANSIT = "in_transit"  # order shipped, parcel in transit
OUT_FOR_DELIVERY = "out_for_delivery"  # order shipped, parcel out for delivery
DELIVERED = "delivered"
CANCELLED = "cancelled"

# (scenario, weight in %, how long ago it was placed: range in days)
SCENARIOS: list[tuple[str, int, tuple[float, float]]] = [
    (HOLD_UNKNOWN_SKU, 3, (0.05, 6.0)),
    (HOLD_ADDRESS, 3, (0.05, 4.0)),
    (HOLD_STOCK_SHORT, 3, (0.1, 8.0)),
    (HOLD_REVIEW, 3, (0.05, 3.0)),
    (ALLOCATED, 10, (0.02, 1.5)),
    (PICKING, 8, (0.15, 1.0)),
    (PACKED, 7, (0.2, 1.2)),
    (SHIPPED, 7, (0.3, 1.5)),
    (IN_TRANSIT, 12, (1.0, 4.0)),
    (OUT_FOR_DELIVERY, 5, (1.6, 3.5)),
    (DELIVERED, 34, (3.5, 30.0)),
    (CANCELLED, 5, (0.5, 30.0)),
]
PICKED = {PICKING, PACKED, SHIPPED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED}
PACKED_OR_LATER = {PACKED, SHIPPED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED}
DISPATCHED = {SHIPPED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED}
# Orders by local hour of the day: a little at night, peaks late morning and in the evening.
HOUR_WEIGHTS = [3, 2, 1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 7, 6, 6, 6, 6, 6, 7, 9, 11, 12, 10, 6]


def scenario_counts(total: int) -> list[tuple[str, int]]:
    """Orders per scenario: one of each when there are enough orders, the rest by weight."""
    names = [s[0] for s in SCENARIOS]
    weights = [s[1] for s in SCENARIOS]
    counts = [0] * len(SCENARIOS)
    if total < len(SCENARIOS):
        for i in sorted(range(len(SCENARIOS)), key=lambda i: -weights[i])[:total]:
            counts[i] = 1
        return list(zip(names, counts, strict=True))
    rest = total - len(SCENARIOS)
    shares = [rest * w / sum(weights) for w in weights]
    counts = [1 + int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - int(shares[i])), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return list(zip(names, counts, strict=True))


@dataclass
class Person:
    name: str
    email: str
    phone: str
    city_en: str
    province: str
    city: str
    district: str
    address1: str
    address2: str
    postcode: str


@dataclass
class Plan:
    scenario: str
    variant: str
    placed_at: datetime
    channel: Channel
    external_id: str
    person: Person
    lines: list[tuple[str, int]]
    requested_service: str = ""
    note: str = ""
    # Filled in while the plan is played forward.
    order: Order | None = None
    shipment: object | None = None
    inbound_id: int | None = None
    pick_plan: datetime | None = None
    picked_at: datetime | None = None
    last_at: datetime | None = None
    extra: dict = field(default_factory=dict)


class Planner:
    def __init__(self, *, rng: random.Random, latest: datetime, products: dict[str, Product], channels):
        self.rng = rng
        self.latest = latest
        self.products = products
        self.channels = channels
        self.styles = {slug: style for slug, _name, _kind, _priority, style in data.CHANNELS}
        self._used_ids: set[str] = set()

    def plans(self, total: int) -> list[Plan]:
        rng = self.rng
        people = self.people(max(1, int(total * 0.75)))
        plans = []
        for scenario, count in scenario_counts(total):
            age_range = next(s[2] for s in SCENARIOS if s[0] == scenario)
            for _ in range(count):
                placed = self.placed_at(rng.uniform(*age_range))
                channel = rng.choices(self.channels, data.CHANNEL_WEIGHTS)[0]
                lines = self.basket(rng.choices(["everyday", "fresh", "bulky"], [65, 20, 15])[0])
                variant = ""
                if scenario == HOLD_UNKNOWN_SKU:
                    lines = [*lines[:1], (rng.choice(data.UNKNOWN_SKUS), 1)]
                elif scenario == HOLD_ADDRESS:
                    variant = rng.choice(["no_street", "bad_postcode", "no_contact"])
                elif scenario == HOLD_STOCK_SHORT:
                    variant = rng.choice(["scarce", "scarce", "bulk"])
                    lines = [(data.SCARCE_SKU, rng.choice([2, 3, 6]))] if variant == "scarce" else [("FR-CRAB-6", 400)]
                elif scenario == HOLD_REVIEW:
                    variant = str(rng.randrange(len(data.MANUAL_HOLDS)))
                elif scenario == CANCELLED:
                    variant = rng.choice(["allocated", "allocated", "allocated", "held"])
                    if variant == "held":
                        lines = [*lines[:1], (rng.choice(data.UNKNOWN_SKUS), 1)]
                elif scenario in (DELIVERED, IN_TRANSIT) and rng.random() < 0.1:
                    variant = "held_released"
                elif scenario in (IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED) and rng.random() < 0.15:
                    variant = "trouble"
                plans.append(
                    Plan(
                        scenario=scenario,
                        variant=variant,
                        placed_at=placed,
                        channel=channel,
                        external_id=self.external_id(self.styles[channel.slug], placed),
                        person=rng.choice(people),
                        lines=lines,
                        requested_service=rng.choices(["", "express", "standard"], [65, 25, 10])[0],
                        note=rng.choice(data.ORDER_NOTES) if rng.random() < 0.15 else "",
                    )
                )
        self._merge_candidates(plans)
        plans.sort(key=lambda p: p.placed_at)
        return plans

    @staticmethod
    def _merge_candidates(plans: list[Plan]) -> None:
        """Two allocated orders of one customer to one address with the same basket (so the same
        location): Fulfilment › Merge suggestions has something to show."""
        allocated = [p for p in plans if p.scenario == ALLOCATED and not p.variant]
        if len(allocated) >= 2:
            first, second = allocated[0], allocated[1]
            second.person = first.person
            second.channel = first.channel  # other items on the same channel: not a likely duplicate
            # The first order's first item (so routing picks the same location) and a cable: not the same items.
            second.lines = [*first.lines[:1], ("CBL-USBC-1M", 2)]

    def placed_at(self, days_ago: float) -> datetime:
        """That many days ago, moved to a likely hour of that day (unless that is in the future)."""
        rng = self.rng
        base = self.latest - timedelta(days=days_ago)
        local = timezone.localtime(base)
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        shaped = local.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))
        return shaped if shaped <= self.latest else base

    def people(self, count: int) -> list[Person]:
        rng = self.rng
        weights = [c[4] for c in data.CITIES]
        people, emails = [], set()
        for _ in range(count):
            surname, s_py = rng.choice(data.SURNAMES)
            given, g_py = rng.choice(data.GIVEN_NAMES)
            city_en, province, city, districts, _weight = rng.choices(data.CITIES, weights)[0]
            place = geo.locate(country="CN", city=city_en)
            if place is None:
                raise ValueError(f"{city_en} is not in fulfillment/data/places.csv")
            email = f"{s_py}{g_py}{rng.randint(10, 999)}@example.com"
            while email in emails:
                email = f"{s_py}{g_py}{rng.randint(1000, 9999)}@example.com"
            emails.add(email)
            people.append(
                Person(
                    name=surname + given,
                    email=email,
                    phone=f"+86 {rng.choice(data.MOBILE_PREFIXES)} {rng.randint(0, 9999):04d} "
                    f"{rng.randint(0, 9999):04d}",
                    city_en=city_en,
                    province=province,
                    city=city,
                    district=rng.choice(districts),
                    address1=f"{rng.choice(data.STREETS)}{rng.randint(1, 999)}号",
                    address2=f"{rng.choice(data.COMMUNITIES)}{rng.randint(1, 30)}栋"
                    f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}室",
                    postcode=f"{(place.postcode_prefix + '0000')[:4]}{rng.randint(0, 99):02d}",
                )
            )
        return people

    def basket(self, kind: str) -> list[tuple[str, int]]:
        rng = self.rng
        by_class: dict[str, list[str]] = {}
        for sku, _name, handling, *_ in data.PRODUCTS:
            if sku != data.SCARCE_SKU:
                by_class.setdefault(handling, []).append(sku)
        if kind == "fresh":  # only the cold-chain warehouse can ship these
            skus = rng.sample(by_class["fresh"], rng.choice([1, 1, 2]))
            if rng.random() < 0.3:
                skus.append(rng.choice(by_class["standard"]))
        elif kind == "bulky":  # only the warehouse that handles bulky goods can ship these
            skus = [rng.choice(by_class["bulky"])]
            if rng.random() < 0.3:
                skus.append(rng.choice(by_class["standard"]))
        else:
            skus = rng.sample(by_class["standard"] + by_class["fragile"], rng.choice([1, 1, 1, 2, 2, 3]))
        lines = []
        for sku in skus:
            product = self.products[sku]
            cheap = product.price < 100 and product.handling_class != HandlingClass.BULKY
            lines.append((sku, rng.choice([1, 1, 2, 3]) if cheap else 1))
        return lines

    def external_id(self, style: str, placed: datetime) -> str:
        rng = self.rng
        while True:
            if style == "tmall":
                value = str(rng.randint(3 * 10**18, 4 * 10**18 - 1))
            elif style == "jd":
                value = str(rng.randint(2 * 10**11, 3 * 10**11 - 1))
            else:
                value = f"WX{timezone.localtime(placed):%Y%m%d}{rng.randint(0, 999999):06d}"
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value
