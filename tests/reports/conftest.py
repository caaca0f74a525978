"""A small world for the KPI tests: orders made with the real services, then placed in time
with queryset.update() (the services stamp "now").

The period is Monday 2026-03-02 to Sunday 2026-03-08 (Asia/Shanghai). Locations: ``sha``
(Shanghai, cut-off 16:00) and ``can`` (Guangzhou, cut-off 17:00); Monday to Friday.

Orders (received local time; ship to; lines; total; routed to; shipped; delivered; promise):

- O1 web, Mon 03-02 10:00, Shanghai, A×2, 20, sha, Mon 03-02 14:00, Wed 03-04 12:00, promise 03-05
- O2 app, Mon 03-02 15:00, Guangdong, A×1, 10, can, Tue 03-03 11:00, Fri 03-06 11:00, promise 03-04
- O3 web, Wed 03-04 17:00, Shanghai, B×3, 30, sha, Thu 03-05 09:00, exception, promise 03-06
- O4 web, Wed 03-04 11:00, Shanghai, A×1, 10, cancelled
- O6 web, Fri 03-06 18:00, Shanghai, A×1, 10, sha, not shipped, no promise date
- O5 web, Mon 03-09 09:00 (after the period), Shanghai, A×1, 10, sha, not shipped, promise 03-12

O1 and O2 go with Local Express std (8.00 + 2.00/kg, 800 g: 9.60 each), O3 with SF express
(12.00 + 3.00/kg, 1500 g: 16.50). O2 had a failed delivery attempt before its delivery, O3 an
exception. Expected delivery dates: O1 03-05, O2 03-05, O3 03-09.
"""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment import services as fulfillment_services
from fulfillment.models import Shipment
from inventory.models import MovementKind, StockMovement
from logistics import services as logistics_services
from logistics.models import Parcel
from logistics.providers.base import NormalizedEvent, make_dedupe_key
from orders import services as order_services
from orders.models import Order
from reports.kpis import Filters
from tests.factories import (
    CarrierFactory,
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    ServiceLevelFactory,
    canonical,
    stock,
)
from workflows.cancel import order_cancel

MON = date(2026, 3, 2)
PERIOD = Filters(date_from=date(2026, 3, 2), date_to=date(2026, 3, 8))


def at(day: str, hhmm: str) -> datetime:
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm)))


GUANGZHOU = {"city": "Guangzhou", "province": "Guangdong", "postcode": "510000", "district": "Tianhe"}


class World:
    def __init__(self, capture):
        self.capture = capture
        self.sha = LocationFactory(
            code="sha", name="Shanghai DC", latitude=31.23, longitude=121.47, cutoff_time=time(16, 0)
        )
        self.can = LocationFactory(
            code="can",
            name="Guangzhou DC",
            city="Guangzhou",
            province="Guangdong",
            latitude=23.13,
            longitude=113.26,
            cutoff_time=time(17, 0),
        )
        self.a = ProductFactory(sku="SKU-A", weight_g=400)
        self.b = ProductFactory(sku="SKU-B", weight_g=500)
        for loc in (self.sha, self.can):
            stock(loc, self.a, 50)
            stock(loc, self.b, 50)
        StockMovement.objects.update(created_at=at("2026-02-01", "09:00"))
        self.web = ChannelFactory(slug="web", name="Web shop")
        self.app = ChannelFactory(slug="app", name="App")
        self.local = ServiceLevelFactory(code="std", base_rate=Decimal("8.00"), per_kg_rate=Decimal("2.00"))
        sf = CarrierFactory(code="sf", name="SF Express")
        self.sf = ServiceLevelFactory(
            carrier=sf,
            code="exp",
            name="Express",
            kind="express",
            transit_days=1,
            base_rate=Decimal("12.00"),
            per_kg_rate=Decimal("3.00"),
        )
        self.n = 0

    def order(self, ext, channel, lines, *, received, ship_to=None, promise=None, ship=None, weight=800, service=None):
        self.n += 1
        address = {"email": f"c{self.n}@example.com", "phone": f"+86 138 0000 {self.n:04d}"}
        address.update(ship_to or {})
        with self.capture(execute=True):
            order = order_services.order_create(
                channel=channel,
                data=canonical(ext, lines=lines, ship_to=address, promise_date=promise),
                source="test",
            ).order
        Order.objects.filter(pk=order.pk).update(created_at=received)
        shipment = order.shipments.get()
        Shipment.objects.filter(pk=shipment.pk).update(created_at=received)
        StockMovement.objects.filter(reference=order.number, kind=MovementKind.RESERVE).update(created_at=received)
        if ship:
            fulfillment_services.picklist_create(location=shipment.location, shipment_ids=[shipment.pk])
            fulfillment_services.shipment_pack(shipment=shipment, weight_g=weight)
            parcel = logistics_services.shipment_dispatch(shipment=shipment, service=service or self.local)
            Shipment.objects.filter(pk=shipment.pk).update(shipped_at=ship)
            StockMovement.objects.filter(reference=shipment.number, kind=MovementKind.SHIPMENT).update(created_at=ship)
            order.parcel = parcel
        order.refresh_from_db()
        return order

    def track(self, order, status, when):
        parcel = order.shipments.get().parcels.get()
        event = NormalizedEvent(
            tracking_number=parcel.tracking_number,
            status=status,
            occurred_at=when,
            description=status,
            location="",
            carrier_status=status,
            dedupe_key=make_dedupe_key(parcel.tracking_number, status, when, status),
        )
        logistics_services.tracking_event_record(parcel=parcel, event=event, source="test")


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    w = World(django_capture_on_commit_callbacks)
    w.o1 = w.order(
        "O1",
        w.web,
        [("SKU-A", 2)],
        received=at("2026-03-02", "10:00"),
        promise=date(2026, 3, 5),
        ship=at("2026-03-02", "14:00"),
    )
    w.o2 = w.order(
        "O2",
        w.app,
        [("SKU-A", 1)],
        received=at("2026-03-02", "15:00"),
        ship_to=GUANGZHOU,
        promise=date(2026, 3, 4),
        ship=at("2026-03-03", "11:00"),
    )
    w.o3 = w.order(
        "O3",
        w.web,
        [("SKU-B", 3)],
        received=at("2026-03-04", "17:00"),
        promise=date(2026, 3, 6),
        ship=at("2026-03-05", "09:00"),
        weight=1500,
        service=w.sf,
    )
    w.o4 = w.order("O4", w.web, [("SKU-A", 1)], received=at("2026-03-04", "11:00"))
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=w.o4, reason="customer asked")
    w.o6 = w.order("O6", w.web, [("SKU-A", 1)], received=at("2026-03-06", "18:00"))
    w.o5 = w.order("O5", w.web, [("SKU-A", 1)], received=at("2026-03-09", "09:00"), promise=date(2026, 3, 12))
    w.track(w.o1, "delivered", at("2026-03-04", "12:00"))
    w.track(w.o2, "failed_attempt", at("2026-03-05", "10:00"))
    w.track(w.o2, "delivered", at("2026-03-06", "11:00"))
    w.track(w.o3, "exception", at("2026-03-06", "08:00"))
    Parcel.objects.filter(shipment__order__in=[w.o1, w.o2]).update(expected_delivery=date(2026, 3, 5))
    Parcel.objects.filter(shipment__order=w.o3).update(expected_delivery=date(2026, 3, 9))
    for o in (w.o1, w.o2, w.o3, w.o4, w.o5, w.o6):
        o.refresh_from_db()
    return w


@pytest.fixture(autouse=True)
def _no_cached_figures():
    """Report pages keep computed figures for a minute (reports.cache): every test starts empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _facts_catch_up_every_time(settings):
    """Pages bring the report facts up to date at most every REPORTS_FACTS_MIN_INTERVAL seconds;
    the KPI tests change data between two computations, so they catch up every time."""
    settings.REPORTS_FACTS_MIN_INTERVAL = 0
