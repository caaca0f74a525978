"""The demo world, built through the real services so that every timeline is real.

Reference data is upserted (demo/reference.py). Orders are planned up front with
``random.Random(42)`` (demo/plan.py), then played forward through the services in three passes:

1. intake, in the order the orders were placed: ``order_create``, then ``order_route`` (routing
   also runs after commit through the signal and the eager Celery task; it is idempotent),
   manual holds, hold releases and cancellations;
2. pick lists per location, in waves of orders placed close together (``picklist_create``);
3. packing, dispatch (``shipment_dispatch``) and carrier scans (``tracking_event_record``).

The services stamp everything with the current time. To spread the demo over the last 30 days
each step is then backdated with a queryset ``.update()`` of the rows it just wrote (events,
holds, ledger rows, shipments, parcels, pick lists). That bypasses the services on purpose and
is acceptable for demo data only: real data is never rewritten like this.
"""

from __future__ import annotations

import json
import random
import time as clock_time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, ProtectedError
from django.utils import timezone

from fulfillment import geo
from fulfillment.models import PickList, RoutingDecision, Shipment
from fulfillment.services import order_route, picklist_create, shipment_pack
from fulfillment.status import ShipmentStatus
from inventory.models import Location, Stock, StockMovement, StockReceipt
from inventory.selectors import ledger_mismatches
from logistics import rating
from logistics.models import CarrierClaim, ExceptionCase, Parcel, ServiceLevel, TrackingEvent
from logistics.providers.base import NormalizedEvent
from logistics.services import shipment_dispatch, tracking_event_record
from logistics.status import TrackingStatus
from oms.dates import add_business_days
from orders.care import notifications
from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.models import Customer, InboundMessage, Order, OrderEvent, OrderHold
from orders.services import inbound_store, order_create, order_hold, order_release
from orders.status import EventKind, HoldReason, OrderStatus
from workflows.cancel import order_cancel

from . import data
from .plan import (
    CANCELLED,
    DISPATCHED,
    HOLD_REVIEW,
    IN_TRANSIT,
    OUT_FOR_DELIVERY,
    PACKED_OR_LATER,
    PICKED,
    SHIPPED,
    Plan,
    Planner,
)
from .reference import ensure_world

SEED = 42
PICK_WAVE = timedelta(hours=10)  # orders whose pick is due within this go on one pick list
PICK_WAVE_SIZE = 12
WORKDAY = (8, 22)  # the warehouses pick from 08:00 to 22:00 local time


class SeedError(Exception):
    pass


class DemoSeeder:
    def __init__(self, *, orders: int, log=None):
        self.total = orders
        self.rng = random.Random(SEED)
        self.log = log or (lambda text: None)
        self.started = timezone.now()
        # Nothing is backdated later than this, so the rows written during the run that still
        # carry created_at >= self.started are exactly those that need a date.
        self.latest = self.started - timedelta(minutes=2)
        self.world = None

    # ---- the whole run ------------------------------------------------------------------------

    def run(self) -> list[Plan]:
        clock = clock_time.monotonic()
        with transaction.atomic():
            self.world = ensure_world(seed=SEED, started=self.started)
        self.log(f"  reference data ready ({clock_time.monotonic() - clock:.1f} s)")
        planner = Planner(rng=self.rng, latest=self.latest, products=self.world.products, channels=self.world.channels)
        plans = planner.plans(self.total)
        # One transaction per order and step, never one for the whole run: each order's routing
        # is also enqueued after its commit, and finds the order already routed.
        for i, plan in enumerate(plans, start=1):
            with transaction.atomic():
                self.intake(plan)
            if i % 50 == 0:
                self.log(f"  {i} orders taken in ({clock_time.monotonic() - clock:.1f} s)")
        self.pick(plans)
        self.log(f"  pick lists made ({clock_time.monotonic() - clock:.1f} s)")
        shipping = sorted(
            (p for p in plans if p.picked_at and p.scenario in PACKED_OR_LATER), key=lambda p: p.picked_at
        )
        for plan in shipping:
            with transaction.atomic():
                self.ship(plan)
        self.log(f"  packed, shipped and tracked ({clock_time.monotonic() - clock:.1f} s)")
        for plan in plans:
            if plan.order is not None and plan.last_at is not None:
                Order.objects.filter(pk=plan.order.pk).update(updated_at=plan.last_at)
        return plans

    # ---- backdating (demo data only) --------------------------------------------------------------

    def _clamp(self, when: datetime) -> datetime:
        return min(when, self.latest)

    def stamp(self, plan: Plan, when: datetime, *, holds=False, stock=False, routing=False) -> None:
        """Date what the services just wrote for this order: its events always, and the holds,
        ledger rows and routing rows when the step may have written some."""
        when = self._clamp(when)
        order = plan.order
        fresh = {"created_at__gte": self.started}
        OrderEvent.objects.filter(order=order, **fresh).update(created_at=when)
        if holds:
            OrderHold.objects.filter(order=order, **fresh).update(created_at=when)
            OrderHold.objects.filter(order=order, released_at__gte=self.started).update(released_at=when)
        if stock:
            references = [order.number] + ([plan.shipment.number] if plan.shipment else [])
            StockMovement.objects.filter(reference__in=references, **fresh).update(created_at=when)
        if routing:
            RoutingDecision.objects.filter(order=order, **fresh).update(created_at=when)
            Shipment.objects.filter(order=order, **fresh).update(created_at=when)
        plan.last_at = when

    def _stamp_intake(self, plan: Plan, received: datetime, routed: datetime) -> None:
        """Intake events at ``received`` (a second apart), routing and what follows at ``routed``."""
        order = plan.order
        events = OrderEvent.objects.filter(order=order, created_at__gte=self.started).order_by("id")
        routed_seen = False
        for i, (pk, kind) in enumerate(events.values_list("pk", "kind")):
            routed_seen = routed_seen or kind in (EventKind.ROUTED, EventKind.ROUTING_FAILED)
            when = routed if routed_seen else received + timedelta(seconds=i)
            OrderEvent.objects.filter(pk=pk).update(created_at=self._clamp(when))
        Order.objects.filter(pk=order.pk).update(created_at=received)
        InboundMessage.objects.filter(pk=plan.inbound_id).update(received_at=received, processed_at=received)
        Customer.objects.filter(pk=order.customer_id, created_at__gte=self.started).update(created_at=received)
        intake_holds = OrderHold.objects.filter(order=order, created_at__gte=self.started)
        intake_holds.exclude(reason=HoldReason.STOCK_SHORT).update(created_at=received)  # stock short: at routing
        self.stamp(plan, routed, holds=True, stock=True, routing=True)

    def _working_time(self, when: datetime) -> datetime:
        local = timezone.localtime(when)
        start, end = WORKDAY
        if local.hour < start:
            local = local.replace(hour=start, minute=self.rng.randint(0, 59))
        elif local.hour >= end:
            local = (local + timedelta(days=1)).replace(hour=start, minute=self.rng.randint(0, 59))
        return local

    def _next_morning(self, when: datetime, extra_hours: float) -> datetime:
        """The next delivery round, 08:00 local plus ``extra_hours``, at least an hour after ``when``."""
        local = timezone.localtime(when + timedelta(hours=1))
        day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
        return datetime.combine(day, time(8, 0), tzinfo=local.tzinfo) + timedelta(hours=extra_hours)

    # ---- pass 1: intake -------------------------------------------------------------------------

    def _canonical(self, plan: Plan) -> CanonicalOrder:
        p = plan.person
        address = CanonicalAddress(
            name=p.name,
            phone=p.phone,
            email=p.email,
            country="CN",
            province=p.province,
            city=p.city,
            district=p.district,
            address1=p.address1,
            address2=p.address2,
            postcode=p.postcode,
        )
        if plan.variant == "no_street":
            address.address1, address.address2 = "", ""
        elif plan.variant == "bad_postcode":
            address.postcode = address.postcode[:4]
        elif plan.variant == "no_contact":
            address.phone, address.email = "", ""
        express = plan.requested_service == "express"
        products = self.world.products
        lines = [
            CanonicalLine(
                sku=sku,
                quantity=quantity,
                unit_price=products[sku].price if sku in products else data.money("59.00"),
                name="" if sku in products else f"Channel item {sku}",
            )
            for sku, quantity in plan.lines
        ]
        return CanonicalOrder(
            external_id=plan.external_id,
            ship_to=address,
            lines=lines,
            customer_name=p.name,
            customer_email=address.email,
            customer_phone=address.phone,
            placed_at=plan.placed_at,
            promise_date=(timezone.localtime(plan.placed_at) + timedelta(days=2 if express else 5)).date(),
            requested_service=plan.requested_service,
            priority=2 if express else None,
            note=plan.note,
        )

    @staticmethod
    def _body(plan: Plan, canonical: CanonicalOrder) -> str:
        """The raw message as the channel would have sent it (stored before parsing, like real intake)."""
        lines = [{"sku": ln.sku, "quantity": ln.quantity, "unit_price": str(ln.unit_price)} for ln in canonical.lines]
        return json.dumps(
            {
                "external_id": canonical.external_id,
                "placed_at": plan.placed_at.isoformat(),
                "ship_to": vars(canonical.ship_to),
                "lines": lines,
                "requested_service": canonical.requested_service,
                "note": canonical.note,
            },
            ensure_ascii=False,
        )

    def intake(self, plan: Plan) -> None:
        rng, users = self.rng, self.world.users
        canonical = self._canonical(plan)
        inbound = inbound_store(
            channel=plan.channel, source="api", body=self._body(plan, canonical), headers={"X-Demo": "seed_demo"}
        )
        plan.inbound_id = inbound.pk
        received = plan.placed_at + timedelta(seconds=rng.randint(5, 90))
        routed = received + timedelta(seconds=rng.randint(20, 180))
        with transaction.atomic():
            result = order_create(channel=plan.channel, data=canonical, source="api", inbound=inbound)
            if not result.created:
                raise SeedError(f"order {plan.channel.slug}/{plan.external_id} existed already")
            order = result.order
            if plan.scenario == HOLD_REVIEW:
                # Held in the intake's transaction, so the routing after commit finds it on hold.
                reason, note = data.MANUAL_HOLDS[int(plan.variant)]
                order_hold(order=order, reason=reason, note=note, user=users["cs"])
        order.refresh_from_db()
        if order.status == OrderStatus.CONFIRMED and not order.on_hold:
            order_route(order_id=order.pk)  # a no-op if the after-commit routing got there first
        plan.order = order
        plan.shipment = order.shipments.exclude(status=ShipmentStatus.CANCELLED).first()
        self._stamp_intake(plan, received, routed)
        if plan.scenario == CANCELLED:
            when = routed + timedelta(hours=rng.uniform(0.5, 30 if plan.variant == "held" else 6))
            order_cancel(order=order, reason=rng.choice(data.CANCEL_REASONS), user=users["cs"])
            self.stamp(plan, when, holds=True, stock=True)
        elif plan.variant == "held_released" and plan.shipment:
            reason, note = rng.choice(data.RELEASE_NOTES)
            held = routed + timedelta(minutes=rng.randint(10, 40))
            order_hold(order=order, reason=reason, note="待客户确认 Waiting for the customer", user=users["cs"])
            self.stamp(plan, held, holds=True)
            order_release(order=order, reason=reason, note=note, user=users["cs"])
            self.stamp(plan, held + timedelta(minutes=rng.randint(30, 180)), holds=True)
        if plan.scenario in PICKED and plan.shipment:
            due = self._working_time(max(routed, plan.last_at) + timedelta(hours=rng.uniform(1, 8)))
            plan.pick_plan = self._clamp(max(due, plan.last_at))

    # ---- pass 2: pick lists ---------------------------------------------------------------------

    def pick(self, plans: list[Plan]) -> None:
        ready = [p for p in plans if p.pick_plan is not None]
        for location in self.world.locations.values():
            waves: list[list[Plan]] = []
            for plan in sorted((p for p in ready if p.shipment.location_id == location.pk), key=lambda p: p.pick_plan):
                wave = waves[-1] if waves else None
                if wave and len(wave) < PICK_WAVE_SIZE and plan.pick_plan - wave[0].pick_plan <= PICK_WAVE:
                    wave.append(plan)
                else:
                    waves.append([plan])
            for wave in waves:
                with transaction.atomic():
                    self._pick_wave(location, wave)

    def _pick_wave(self, location: Location, wave: list[Plan]) -> None:
        at = max(p.pick_plan for p in wave)
        picklist = picklist_create(
            location=location,
            shipment_ids=[p.shipment.pk for p in wave],
            limit=len(wave),
            user=self.world.users["warehouse"],
        )
        PickList.objects.filter(pk=picklist.pk).update(created_at=at)
        picked = set(picklist.shipments.values_list("pk", flat=True))
        for plan in wave:
            if plan.shipment.pk not in picked:
                raise SeedError(f"shipment {plan.shipment.number} did not make it onto {picklist.number}")
            plan.picked_at = at
            self.stamp(plan, at)  # the pick list's events

    # ---- pass 3: packing, dispatch, carrier scans -----------------------------------------------

    def _steps(self, plan: Plan, location: Location) -> list[tuple]:
        """[(when after the previous step, action, where, text)]; when is ("+", hours) or ("morning", hours)."""
        rng = self.rng
        steps = [(("+", rng.uniform(0.3, 2.5)), "pack", "", "")]
        if plan.scenario not in DISPATCHED:
            return steps
        steps.append((("+", rng.uniform(0.5, 3)), "dispatch", "", ""))
        origin = next(row["hub"] for row in data.LOCATIONS if row["code"] == location.code)
        person = plan.person
        city = person.city.removesuffix("市")
        place = geo.locate(country="CN", city=person.city_en)
        km = geo.distance_km(location.latitude, location.longitude, place.latitude, place.longitude)
        hub, station = f"{city}转运中心", f"{city}{person.district}营业部"
        courier = rng.choice(data.COURIERS)
        phone = f"{rng.choice(data.MOBILE_PREFIXES)}{rng.randint(0, 99999999):08d}"
        steps.append((("+", rng.uniform(1, 3)), "in_transit", origin, "快件已揽收 Picked up by the carrier"))
        if plan.scenario == SHIPPED:
            return steps if rng.random() < 0.5 else steps[:-1]
        if km > 80:
            steps += [
                (("+", rng.uniform(1, 4)), "in_transit", origin,
                 f"快件离开【{origin}】，发往【{hub}】 Departed for the {person.city_en} hub"),
                (("+", 4 + km / 90 * rng.uniform(0.8, 1.3)), "in_transit", hub,
                 f"快件到达【{hub}】 Arrived at the {person.city_en} hub"),
            ]  # fmt: skip
        trouble = plan.variant == "trouble"
        if plan.scenario == IN_TRANSIT:
            if trouble:
                status, text = data.EXCEPTION_TEXTS[0]
                steps.append((("+", rng.uniform(2, 8)), status, hub, text))
            return steps
        out_text = f"快件正在派送中，派送员{courier}，电话{phone} Out for delivery with courier {courier}"
        steps.append((("morning", rng.uniform(0, 2.5)), "out_for_delivery", station, out_text))
        failed_status, failed_text = data.EXCEPTION_TEXTS[1]
        if plan.scenario == OUT_FOR_DELIVERY:
            if trouble:
                steps.append((("+", rng.uniform(2, 6)), failed_status, station, failed_text))
            return steps
        if trouble:
            steps += [
                (("+", rng.uniform(2, 6)), failed_status, station, failed_text),
                (("morning", rng.uniform(0, 2.5)), "out_for_delivery", station, out_text),
            ]
        delivered_text = rng.choice(data.DELIVERED_TEXTS)
        steps.append((("+", rng.uniform(1, 6)), "delivered", f"{city}{person.district}", delivered_text))
        return steps

    def _times(self, plan: Plan, steps: list[tuple]) -> list[datetime]:
        """When each step happens; squeezed between the pick and now when that is too short."""
        times, at = [], plan.picked_at
        for (rule, value), *_rest in steps:
            at = at + timedelta(hours=value) if rule == "+" else self._next_morning(at, value)
            times.append(at)
        end = self.latest - timedelta(hours=self.rng.uniform(0.1, 1.0))
        if times and times[-1] > end:
            room = max((end - plan.picked_at).total_seconds(), 60.0)
            scale = room / (times[-1] - plan.picked_at).total_seconds()
            times = [plan.picked_at + (t - plan.picked_at) * scale for t in times]
        return [self._clamp(t) for t in times]

    def ship(self, plan: Plan) -> None:
        warehouse = self.world.users["warehouse"]
        shipment = plan.shipment
        steps = self._steps(plan, shipment.location)
        parcel = None
        for (_rule, action, where, text), at in zip(steps, self._times(plan, steps), strict=True):
            if action == "pack":
                weight = sum(self.world.products[sku].weight_g * qty for sku, qty in plan.lines)
                shipment_pack(
                    shipment=shipment, weight_g=int(weight * self.rng.uniform(1.03, 1.12)) + 80, user=warehouse
                )
                Shipment.objects.filter(pk=shipment.pk).update(packed_at=at)
            elif action == "dispatch":
                # Rate as of the (backdated) dispatch time, so promise dates are judged as they were then.
                rated = rating.choose_service(shipment, now=at)
                service = ServiceLevel.objects.get(pk=rated.chosen.service_id) if rated.chosen else None
                parcel = shipment_dispatch(shipment=shipment, service=service, user=warehouse)
                self._backdate_parcel(plan, parcel, at, rated)
            else:
                event = NormalizedEvent.build(
                    tracking_number=parcel.tracking_number,
                    status=action,
                    occurred_at=at,
                    description=text,
                    location=where,
                    carrier_status=f"demo:{action}",
                    raw={"demo": True},
                )
                tracking_event_record(parcel=parcel, event=event, source="demo", now=at)
                TrackingEvent.objects.filter(parcel=parcel, created_at__gte=self.started).update(
                    created_at=min(at + timedelta(minutes=2), self.latest)
                )
                if action == TrackingStatus.DELIVERED:
                    Shipment.objects.filter(pk=shipment.pk).update(delivered_at=at)
            self.stamp(plan, at, stock=action == "dispatch")

    def _backdate_parcel(self, plan: Plan, parcel: Parcel, at: datetime, rated) -> None:
        """Date the label, its expected delivery and its rating as if it had been printed at ``at``."""
        chosen = rated.chosen
        expected = (chosen.delivery_date if chosen and chosen.delivery_date else None) or add_business_days(
            timezone.localtime(at).date(), parcel.service.transit_days
        )
        updates = {"created_at": at, "expected_delivery": expected}
        as_of = {"quotes": rated.quotes_json(), "choice_reason": rated.reason[:255], "zone": rated.zone}
        if chosen is not None and chosen.amount is not None:
            as_of["price"] = chosen.amount
        fields = {f.name for f in Parcel._meta.get_fields()}
        updates.update({k: v for k, v in as_of.items() if k in fields})
        Parcel.objects.filter(pk=parcel.pk).update(**updates)
        Shipment.objects.filter(pk=plan.shipment.pk).update(shipped_at=at)
        # The label event's text names the expected date the service computed from today.
        label_events = OrderEvent.objects.filter(
            order=plan.order, kind=EventKind.SHIPPED, created_at__gte=self.started, message__startswith="Label "
        )
        for event in label_events:
            message = event.message.replace(
                f"expected {parcel.expected_delivery:%Y-%m-%d}", f"expected {expected:%Y-%m-%d}"
            )
            OrderEvent.objects.filter(pk=event.pk).update(message=message)
        parcel.expected_delivery = expected


@contextmanager
def customer_notifications_off():
    """No customer notices for the demo's history while it is written (``orders.care.notifications.suppressed``).

    Notices would carry today's date for events of last month, and rendering them would take
    most of the seeding time."""
    with notifications.suppressed():
        yield


@transaction.atomic
def reset_demo_data() -> None:
    """Delete orders and everything hanging off them, customers, inbound messages, stock and its
    ledger (demo only). Users, locations, products, carriers and channels stay; the seed
    updates them in place."""
    try:
        CarrierClaim.objects.all().delete()  # cases are opened when a problem scan arrives
        ExceptionCase.objects.all().delete()
        TrackingEvent.objects.all().delete()
        Parcel.objects.all().delete()
        Shipment.objects.all().delete()
        PickList.objects.all().delete()
        Order.objects.all().delete()
        Customer.objects.all().delete()
        InboundMessage.objects.all().delete()
        StockReceipt.objects.all().delete()  # the receipts received once point at their ledger rows
        StockMovement.objects.all().delete()
        Stock.objects.all().delete()
    except ProtectedError as exc:
        names = sorted({type(obj).__name__ for obj in exc.protected_objects})
        raise SeedError(f"--reset cannot delete the demo data: {', '.join(names)} rows still point at it.") from exc


def summary() -> dict:
    by_status = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    shipments = dict(Shipment.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "orders": Order.objects.count(),
        "by_status": [(s.value, s.label, by_status.get(s.value, 0)) for s in OrderStatus],
        "on_hold": Order.objects.filter(on_hold=True).count(),
        "holds": dict(Counter(OrderHold.objects.filter(released_at__isnull=True).values_list("reason", flat=True))),
        "shipments": {s.value: shipments.get(s.value, 0) for s in ShipmentStatus},
        "picklists": PickList.objects.count(),
        "parcels": Parcel.objects.count(),
        "tracking_events": TrackingEvent.objects.count(),
        "ledger_mismatches": len(ledger_mismatches()),
    }
